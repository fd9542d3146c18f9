package structwire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// # The JSON form
//
// A reader that writes JSON (the REST encoder) gains nothing from the
// wire form: the provider's JSON would be turned into wire form only to
// be turned back into JSON, which was a fifth of a REST list call's CPU.
// For such a reader a Struct field n can travel as the JSON object
// itself: an unknown field, length-delimited, holding the JSON text, of
// number 19000+n, or 19500+n when the JSON is canonical (internal/jsonscan:
// the reader may copy it as it is). These numbers are in the range
// protobuf reserves for its implementation, which no .proto file may
// declare, so they never clash with a real field.
//
// Such bytes are not protobuf for field n, so they must not leave the
// process: producers write them only when the context says the answer's
// reader takes them (WithJSONFields, set by the REST facade), and
// MergeUnknown turns them into field n (ExpandJSONFields) for every
// other reader. The JSON stands for what AppendField makes of it or,
// where AppendField refuses it (nesting deeper than jsonscan.MaxDepth),
// for encoding/json's decoding of it as a Struct; JSON that encoding/json
// cannot decode into a map is an error (ErrJSONField) when it is read.

// Struct field n (0 < n < maxJSONField) travels in JSON form as field
// jsonFieldBase+n, or canonicalFieldBase+n if canonical.
const (
	jsonFieldBase      = 19000
	canonicalFieldBase = 19500
	maxJSONField       = 500
)

// ErrJSONField: a field in JSON form does not hold a JSON object
// encoding/json decodes.
var ErrJSONField = errors.New("structwire: field in JSON form is not a JSON object")

// jsonFieldOf is the Struct field a JSON form field num carries, and
// whether its JSON is canonical; n is 0 if num is not one.
func jsonFieldOf(num protowire.Number, typ protowire.Type) (n protowire.Number, canonical bool) {
	switch {
	case typ != protowire.BytesType || num <= jsonFieldBase || num >= canonicalFieldBase+maxJSONField:
		return 0, false
	case num > canonicalFieldBase:
		return num - canonicalFieldBase, true
	case num < jsonFieldBase+maxJSONField:
		return num - jsonFieldBase, false
	}
	return 0, false
}

// AppendJSONField appends Struct field n (0 < n < 500) in JSON form,
// holding js as it is; canonical says js is canonical JSON
// (internal/jsonscan), which the caller must have checked.
func AppendJSONField(b []byte, n protowire.Number, js string, canonical bool) []byte {
	if n <= 0 || n >= maxJSONField {
		panic(fmt.Sprintf("structwire: no JSON form for field %d", n))
	}
	num := jsonFieldBase + n
	if canonical {
		num = canonicalFieldBase + n
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(js)))
	return append(b, js...)
}

// ParseJSONField reads u as exactly one Struct field n in JSON form and
// returns its JSON and whether it is canonical; ok is false for anything
// else.
func ParseJSONField(u []byte, n protowire.Number) (js []byte, canonical, ok bool) {
	num, typ, tl := protowire.ConsumeTag(u)
	if tl < 0 {
		return nil, false, false
	}
	got, canonical := jsonFieldOf(num, typ)
	if got == 0 || got != n {
		return nil, false, false
	}
	v, vl := protowire.ConsumeBytes(u[tl:])
	if vl < 0 || tl+vl != len(u) {
		return nil, false, false
	}
	return v, canonical, true
}

type jsonFieldsKey struct{}

// WithJSONFields marks ctx as a call whose answer is read by a reader of
// the JSON form (the REST encoder): producers may then write Struct
// fields in JSON form.
func WithJSONFields(ctx context.Context) context.Context {
	return context.WithValue(ctx, jsonFieldsKey{}, true)
}

// JSONFieldsWanted tells whether ctx was marked by WithJSONFields.
func JSONFieldsWanted(ctx context.Context) bool {
	v, _ := ctx.Value(jsonFieldsKey{}).(bool)
	return v
}

// ExpandJSONFields returns u with every field in JSON form replaced by
// the Struct field it carries, in wire form; u itself when it holds none.
// It fails, wrapping ErrJSONField, when such a field's JSON is not an
// object encoding/json decodes, and on bytes that do not parse.
func ExpandJSONFields(u []byte) ([]byte, error) {
	found := false
	for rest := u; len(rest) > 0; {
		num, typ, n := protowire.ConsumeField(rest)
		if n < 0 {
			return nil, fmt.Errorf("structwire: unknown fields: %w", protowire.ParseError(n))
		}
		target, _ := jsonFieldOf(num, typ)
		found = found || target != 0
		rest = rest[n:]
	}
	if !found {
		return u, nil
	}
	var (
		w   Writer
		out = make([]byte, 0, len(u)+len(u)/4)
	)
	for rest := u; len(rest) > 0; {
		num, typ, n := protowire.ConsumeField(rest)
		field := rest[:n]
		rest = rest[n:]
		target, _ := jsonFieldOf(num, typ)
		if target == 0 {
			out = append(out, field...)
			continue
		}
		_, _, tl := protowire.ConsumeTag(field)
		js, _ := protowire.ConsumeBytes(field[tl:])
		var ok bool
		if out, ok = w.AppendField(out, target, string(js)); ok {
			continue
		}
		var err error
		if out, err = appendDecoded(out, target, js); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendDecoded appends Struct field n holding encoding/json's decoding
// of js: the JSON AppendField refuses but encoding/json takes.
func appendDecoded(b []byte, n protowire.Number, js []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("%w: field %d: %w", ErrJSONField, n, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: field %d: null", ErrJSONField, n)
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil, fmt.Errorf("%w: field %d: %w", ErrJSONField, n, err)
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("%w: field %d: %w", ErrJSONField, n, err)
	}
	b = protowire.AppendTag(b, n, protowire.BytesType)
	return protowire.AppendBytes(b, body), nil
}
