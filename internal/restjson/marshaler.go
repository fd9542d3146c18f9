package restjson

import (
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/crmgate/crmgate/internal/protolayout"
	"github.com/crmgate/crmgate/internal/structwire"
)

// maxPooledBuffer bounds the scratch buffer kept for reuse, so one huge
// response does not pin its memory.
const maxPooledBuffer = 1 << 20

// Marshaler is the gateway's JSON marshaler: protojson with proto field
// names and unpopulated fields emitted (runtime.JSONPb), with a direct
// encoder for the record and schema responses. Use New.
type Marshaler struct {
	pb   *runtime.JSONPb
	fast bool
	pool sync.Pool // *encoder
}

var _ interface {
	runtime.Marshaler
	runtime.Delimited
} = (*Marshaler)(nil)

// New returns a Marshaler. If the generated messages no longer match the
// fast path (see ErrLayout), it logs a warning and encodes everything with
// protojson.
func New(log *slog.Logger) *Marshaler { return newMarshaler(log, fastLayouts()) }

// newMarshaler is New with the expected layouts as a parameter, so tests
// can check what a mismatch does.
func newMarshaler(log *slog.Logger, layouts []protolayout.Layout) *Marshaler {
	m := &Marshaler{
		pb: &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		},
		fast: true,
	}
	if err := checkLayouts(layouts); err != nil {
		log.Warn("REST JSON fast path off: responses are encoded by protojson", "err", err)
		m.fast = false
	}
	m.pool.New = func() any { return &encoder{b: make([]byte, 0, 4096)} }
	return m
}

// Marshal encodes v. The hot response messages take the fast path; any
// other value, or one the fast path hands back (see encoder), goes to
// runtime.JSONPb.
func (m *Marshaler) Marshal(v any) ([]byte, error) {
	if b, ok := m.marshalFast(v); ok {
		return b, nil
	}
	v, err := merged(v)
	if err != nil {
		return nil, err
	}
	return m.pb.Marshal(v)
}

// merged is v for protojson: for an answer that carries records, a copy
// with unknown fields merged into the known ones (structwire.MergeUnknown),
// as a page's records carry their properties; v itself otherwise. Bytes
// that cannot be merged are an error, not an answer without them.
func merged(v any) (any, error) {
	pm, ok := v.(proto.Message)
	if !ok || !carriesRecords(v) || !pm.ProtoReflect().IsValid() {
		return v, nil
	}
	c := proto.Clone(pm)
	if err := structwire.MergeUnknown(c); err != nil {
		return nil, fmt.Errorf("restjson: %w", err)
	}
	return c, nil
}

// marshalFast encodes the messages it knows into a pooled buffer and
// returns a copy of exactly the encoded size; ok is false for other values
// and for values protojson must handle.
func (m *Marshaler) marshalFast(v any) (b []byte, ok bool) {
	// A nil message (typed or not) is left to JSONPb: protojson writes it
	// as an object of default values.
	if pm, isMsg := v.(proto.Message); !m.fast || !isMsg || !pm.ProtoReflect().IsValid() {
		return nil, false
	}
	e, _ := m.pool.Get().(*encoder)
	e.reset()
	e.message(v)
	if e.ok {
		b = make([]byte, len(e.b))
		copy(b, e.b)
	}
	ok = e.ok
	if cap(e.b) > maxPooledBuffer {
		e.b = nil
	}
	if cap(e.tmp) > maxPooledBuffer {
		e.tmp = nil
	}
	m.pool.Put(e)
	return b, ok
}

// Unmarshal delegates to runtime.JSONPb.
func (m *Marshaler) Unmarshal(data []byte, v any) error { return m.pb.Unmarshal(data, v) }

// NewDecoder delegates to runtime.JSONPb.
func (m *Marshaler) NewDecoder(r io.Reader) runtime.Decoder { return m.pb.NewDecoder(r) }

// NewEncoder delegates to runtime.JSONPb.
func (m *Marshaler) NewEncoder(w io.Writer) runtime.Encoder { return m.pb.NewEncoder(w) }

// ContentType delegates to runtime.JSONPb ("application/json").
func (m *Marshaler) ContentType(v any) string { return m.pb.ContentType(v) }

// Delimiter delegates to runtime.JSONPb.
func (m *Marshaler) Delimiter() []byte { return m.pb.Delimiter() }
