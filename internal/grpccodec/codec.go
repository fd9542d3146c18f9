package grpccodec

import (
	"encoding/binary"
	"log/slog"

	"google.golang.org/grpc/encoding"
	// Registers grpc-go's proto codec, the one Codec delegates to.
	_ "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/protolayout"
)

const (
	// Name is the codec's name: it stands in for grpc-go's "proto".
	Name = "proto"

	// listChunk and recordChunk are the pooled buffer sizes a list and a
	// single-record answer start with. Past the first, a list gets more
	// chunks of listChunk bytes rather than one buffer of its whole size:
	// the default pool's tier above 32 KiB is 1 MiB, which it clears on
	// every Get.
	listChunk   = 16 << 10
	recordChunk = 4 << 10
)

// Codec is a grpc-go encoding.CodecV2 named "proto" that writes the
// record-bearing answers itself and hands everything else to grpc-go's
// proto codec (see the package documentation). Build it with New.
type Codec struct {
	base encoding.CodecV2
	fast bool
}

// New returns the codec. If the generated messages no longer have the
// fields the encoder writes (a proto change without a matching change
// here), it logs why and every message goes to grpc-go's codec.
func New(log *slog.Logger) *Codec {
	return newCodec(log, fastLayouts())
}

// newCodec is New with the expected layouts as a parameter, so tests can
// check what a mismatch does.
func newCodec(log *slog.Logger, layouts []protolayout.Layout) *Codec {
	base := encoding.GetCodecV2(Name)
	if c, ok := base.(*Codec); ok {
		// A Codec registered in place of grpc-go's: delegate to what it
		// delegates to.
		base = c.base
	}
	c := &Codec{base: base, fast: true}
	if err := checkLayouts(layouts); err != nil {
		log.Warn("gRPC codec fast path off: answers are encoded by protobuf-go", "err", err)
		c.fast = false
	}
	return c
}

// Name implements encoding.CodecV2.
func (c *Codec) Name() string { return Name }

// Marshal implements encoding.CodecV2. The six record-bearing responses
// take the fast path; any other value, or one the fast path gives up on,
// is marshalled by grpc-go's proto codec, errors included.
func (c *Codec) Marshal(v any) (mem.BufferSlice, error) {
	if c.fast {
		if out, ok := marshalFast(v, encoder{}, mem.DefaultBufferPool()); ok {
			return out, nil
		}
	}
	return c.base.Marshal(v)
}

// Unmarshal implements encoding.CodecV2: grpc-go's proto codec.
func (c *Codec) Unmarshal(data mem.BufferSlice, v any) error {
	return c.base.Unmarshal(data, v)
}

// marshalFast encodes the messages it knows into buffers from pool. It
// reports false (having returned every buffer it took) for any other
// value, a nil message, or one the encoder gives up on.
func marshalFast(v any, e encoder, pool mem.BufferPool) (mem.BufferSlice, bool) {
	w := writer{enc: e, pool: pool, size: listChunk}
	ok := false
	switch m := v.(type) {
	case *crmv1.ListRecordsResponse:
		ok = m != nil && w.records(m.Items) &&
			w.str(tagResp2Len, m.NextCursor) && w.boolean(tagResp3Varint, m.HasNextPage) && w.unknown(m)
	case *crmv1.SearchRecordsResponse:
		ok = m != nil && w.records(m.Items) &&
			w.str(tagResp2Len, m.NextCursor) && w.boolean(tagResp3Varint, m.HasNextPage) &&
			w.int64(tagResp4Varint, m.Total) && w.unknown(m)
	case *crmv1.StreamRecordsResponse:
		ok = m != nil && w.records(m.Items) && w.str(tagResp2Len, m.NextCursor) && w.unknown(m)
	case *crmv1.GetRecordResponse:
		w.size = recordChunk
		ok = m != nil && w.record(m.Record) && w.unknown(m)
	case *crmv1.CreateRecordResponse:
		w.size = recordChunk
		ok = m != nil && w.record(m.Record) && w.strs(tagResp2Len, m.Warnings) && w.unknown(m)
	case *crmv1.UpdateRecordResponse:
		w.size = recordChunk
		ok = m != nil && w.record(m.Record) && w.strs(tagResp2Len, m.Warnings) && w.unknown(m)
	}
	if !ok {
		w.release()
		return nil, false
	}
	w.flush()
	return w.out, true
}

// writer writes a top-level message into pooled chunks. The top level
// has no length prefix, so the message can be split between any two of
// its fields; a field (a record) is never split.
type writer struct {
	enc  encoder
	pool mem.BufferPool
	out  mem.BufferSlice
	// buf is the pooled chunk b is appended into (b aliases *buf; *buf
	// itself is left as the pool gave it until flush); nil when there is
	// none.
	buf *[]byte
	b   []byte
	// size is the capacity asked for a new chunk.
	size int
	// last is the encoded size of the last record, the guess for the
	// next one.
	last int
}

// room makes sure the current chunk has n more bytes of capacity,
// flushing it and taking a new one if not.
func (w *writer) room(n int) {
	if w.buf != nil && cap(w.b)-len(w.b) >= n {
		return
	}
	w.flush()
	w.buf = w.pool.Get(max(n, w.size))
	w.b = (*w.buf)[:0]
	w.size = listChunk
}

// flush appends the current chunk to out, or gives it back when empty.
func (w *writer) flush() {
	if w.buf == nil {
		return
	}
	if len(w.b) == 0 {
		w.pool.Put(w.buf)
	} else {
		*w.buf = w.b
		w.out = append(w.out, mem.NewBuffer(w.buf, w.pool))
	}
	w.buf, w.b = nil, nil
}

// release gives back every buffer taken, after the encoder gave up.
func (w *writer) release() {
	if w.buf != nil {
		w.pool.Put(w.buf)
		w.buf, w.b = nil, nil
	}
	w.out.Free()
	w.out = nil
}

// records writes a repeated Record field 1.
func (w *writer) records(items []*crmv1.Record) bool {
	w.out = make(mem.BufferSlice, 0, 4)
	for _, r := range items {
		if !w.item(r) {
			return false
		}
	}
	return true
}

// record writes a singular Record field 1: nothing when nil.
func (w *writer) record(r *crmv1.Record) bool {
	return r == nil || w.item(r)
}

// item writes one Record as field 1. Room is made for a record a quarter
// larger than the last one; a record that still does not fit makes
// append move it to a heap slice, which goes out as a buffer of its own
// while the chunk keeps what it had.
func (w *writer) item(r *crmv1.Record) bool {
	w.room(w.last + w.last/4 + 16)
	mark, chunkCap := len(w.b), cap(w.b)
	b, ok := w.enc.appendRecord(w.b, tagResp1Len, r, lenBytes(w.last))
	if !ok {
		return false
	}
	w.last = len(b) - mark
	if cap(b) == chunkCap {
		w.b = b
		return true
	}
	w.flush()
	w.out = append(w.out, mem.SliceBuffer(b[mark:]))
	return true
}

// str writes an implicit-presence string field.
func (w *writer) str(tag byte, s string) bool {
	if s == "" {
		return true
	}
	w.room(len(s) + 1 + binary.MaxVarintLen64)
	var ok bool
	w.b, ok = appendString(w.b, tag, s)
	return ok
}

// strs writes a repeated string field.
func (w *writer) strs(tag byte, ss []string) bool {
	for _, s := range ss {
		w.room(len(s) + 1 + binary.MaxVarintLen64)
		var ok bool
		if w.b, ok = appendString(w.b, tag, s); !ok {
			return false
		}
	}
	return true
}

// boolean writes an implicit-presence bool field.
func (w *writer) boolean(tag byte, v bool) bool {
	if v {
		w.room(2)
		w.b = append(w.b, tag, 1)
	}
	return true
}

// unknown writes the top-level message's unknown fields, last, as
// protobuf-go does.
func (w *writer) unknown(m proto.Message) bool {
	if u := m.ProtoReflect().GetUnknown(); len(u) != 0 {
		w.room(len(u))
		w.b = append(w.b, u...)
	}
	return true
}

// int64 writes an implicit-presence int64 field.
func (w *writer) int64(tag byte, v int64) bool {
	if v != 0 {
		w.room(1 + binary.MaxVarintLen64)
		w.b = append(w.b, tag)
		w.b = protowire.AppendVarint(w.b, uint64(v)) //nolint:gosec // int64 on the wire: two's complement
	}
	return true
}
