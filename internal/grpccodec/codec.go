// Package grpccodec is crmgate's gRPC codec: protobuf, marshalled by the
// code vtprotobuf generates for crmgate's messages (gen/**/*_vtproto.pb.go,
// with vtprotobuf's own code for the google.protobuf.Struct and Timestamp
// inside them), and by grpc-go's codec for any other message (health,
// reflection). The bytes are protobuf's; only the work to make them is
// less: no reflection over the message, one buffer of the exact size.
//
// vtprotobuf ships a codec (codec/grpc) of grpc-go's older Codec
// interface, which fails on messages without generated helpers; this one
// is the CodecV2 grpc-go uses, writing into grpc-go's buffer pool, and
// falls back instead of failing, as vtprotobuf's README suggests for
// services that serve other packages' messages too.
package grpccodec

import (
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers grpc-go's codec, the fallback
	"google.golang.org/grpc/mem"
)

// Name is the content-subtype the codec serves: protobuf's.
const Name = "proto"

// vtMessage is what vtprotobuf generates (features marshal, unmarshal and
// size).
type vtMessage interface {
	SizeVT() int
	MarshalToSizedBufferVT([]byte) (int, error)
	UnmarshalVT([]byte) error
}

// Codec is a grpc-go encoding.CodecV2. The zero value is not ready: use New.
type Codec struct {
	fallback encoding.CodecV2
	pool     mem.BufferPool
}

var _ encoding.CodecV2 = (*Codec)(nil)

// New returns the codec, falling back to grpc-go's registered protobuf
// codec for messages without vtprotobuf's methods.
func New() *Codec {
	return &Codec{fallback: encoding.GetCodecV2(Name), pool: mem.DefaultBufferPool()}
}

// Marshal implements encoding.CodecV2.
func (c *Codec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(vtMessage)
	if !ok {
		return c.fallback.Marshal(v)
	}
	size := m.SizeVT()
	if mem.IsBelowBufferPoolingThreshold(size) {
		buf := make([]byte, size)
		if _, err := m.MarshalToSizedBufferVT(buf); err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(buf)}, nil
	}
	buf := c.pool.Get(size)
	if _, err := m.MarshalToSizedBufferVT((*buf)[:size]); err != nil {
		c.pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, c.pool)}, nil
}

// Unmarshal implements encoding.CodecV2. The message copies what it
// keeps (vtprotobuf's unmarshal does not alias its input), so the
// buffer goes back to the pool at once.
func (c *Codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(vtMessage)
	if !ok {
		return c.fallback.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(c.pool)
	defer buf.Free()
	return m.UnmarshalVT(buf.ReadOnlyData())
}

// Name implements encoding.CodecV2.
func (c *Codec) Name() string { return Name }
