// Package restjson is the one JSON marshaler of every REST route (a
// grpc-gateway runtime.Marshaler).
//
// The JSON is protojson's with proto field names (snake_case) and every
// field written, compacted: an unset field is written with its zero value
// — "" for strings, 0, false, [] for lists, {} for maps, null for an
// unset message (a timestamp, raw_data) — never left out, on every route.
// 64-bit integers are strings, as protojson writes them; the API's counts
// and totals are int32, so numbers.
//
// # Why not runtime.JSONPb alone
//
// runtime.JSONPb (protojson) writes a page of 100 records in ~3.8 ms of
// CPU (BenchmarkMarshal, impl=protojson): protojson boxes every field and
// every google.protobuf.Value into protoreflect values and sorts through
// closures, and a page holds ~1,500 Values. That alone is more than the
// bare proxy's whole cost per call, so the REST throughput target cannot
// be met with it (docs/benchmarks.md). protojson also varies its
// whitespace on purpose (a space after some colons and commas), which the
// API does not want.
//
// So Marshal walks the message through protoreflect as protojson does —
// generic, driven by the descriptors, nothing to keep in step with the
// protos — but writes Struct, Value, ListValue and Timestamp from their
// Go fields and appends into one buffer (encode.go). It never answers
// differently from protojson: what it does not handle the same way (the
// other well-known types, non-string map keys, invalid UTF-8, NaN in a
// Value, out-of-range timestamps) goes to runtime.JSONPb, compacted, so
// the answer is protojson's output or error. TestMatchesProtojson and
// FuzzMarshal compare both on every message type of the API.
package restjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Marshaler is the REST facade's runtime.Marshaler.
type Marshaler struct {
	runtime.JSONPb
}

var _ runtime.Marshaler = (*Marshaler)(nil)

// New returns the marshaler: requests are read by protojson (unknown
// fields are an error), answers written as the package doc says.
func New() *Marshaler {
	return &Marshaler{JSONPb: runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}}
}

// Marshal implements runtime.Marshaler.
func (m *Marshaler) Marshal(v any) ([]byte, error) {
	if pm, ok := v.(proto.Message); ok {
		b, err := marshalFast(pm)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, errFallback) {
			return nil, err
		}
	}
	return m.marshalProtojson(v)
}

// marshalProtojson is runtime.JSONPb's output, compacted.
func (m *Marshaler) marshalProtojson(v any) ([]byte, error) {
	b, err := m.JSONPb.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(b))
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// NewEncoder implements runtime.Marshaler with the same output.
func (m *Marshaler) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := m.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}
