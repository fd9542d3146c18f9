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
// itself: unknown field JSONField(n), length-delimited, holding the JSON
// text. Its number, 19000+n, is in the range protobuf reserves for its
// implementation, which no .proto file may declare, so it never clashes
// with a real field.
//
// Such bytes are not protobuf for field n, so they must not leave the
// process: producers write them only when the context says the answer's
// reader takes them (WithJSONFields, set by the REST facade), and
// MergeUnknown turns them into field n (ExpandJSONFields) for every
// other reader. The JSON stands for what AppendField makes of it or,
// where AppendField refuses it (nesting deeper than jsonscan.MaxDepth),
// for encoding/json's decoding of it as a Struct; JSON that encoding/json
// cannot decode into a map is an error (ErrJSONField) when it is read.

// jsonFieldBase + n carries Struct field n in JSON form; n < maxJSONField.
const (
	jsonFieldBase = 19000
	maxJSONField  = 1000
)

// ErrJSONField: a field in JSON form does not hold a JSON object
// encoding/json decodes.
var ErrJSONField = errors.New("structwire: field in JSON form is not a JSON object")

// JSONField is the unknown field number that carries Struct field n
// (1 <= n < 1000) in JSON form.
func JSONField(n protowire.Number) protowire.Number {
	if n < 1 || n >= maxJSONField {
		panic(fmt.Sprintf("structwire: no JSON form for field %d", n))
	}
	return jsonFieldBase + n
}

// jsonFieldOf is the Struct field a JSON form field num carries, or 0 if
// num is not one.
func jsonFieldOf(num protowire.Number, typ protowire.Type) protowire.Number {
	if typ != protowire.BytesType || num <= jsonFieldBase || num >= jsonFieldBase+maxJSONField {
		return 0
	}
	return num - jsonFieldBase
}

// AppendJSONField appends Struct field n in JSON form, holding js as it is.
func AppendJSONField(b []byte, n protowire.Number, js string) []byte {
	b = protowire.AppendTag(b, JSONField(n), protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(js)))
	return append(b, js...)
}

// ParseJSONField reads u as exactly one Struct field n in JSON form and
// returns its JSON; ok is false for anything else.
func ParseJSONField(u []byte, n protowire.Number) (js []byte, ok bool) {
	num, typ, tl := protowire.ConsumeTag(u)
	if tl < 0 || jsonFieldOf(num, typ) != n {
		return nil, false
	}
	v, vl := protowire.ConsumeBytes(u[tl:])
	if vl < 0 || tl+vl != len(u) {
		return nil, false
	}
	return v, true
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
		found = found || jsonFieldOf(num, typ) != 0
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
		target := jsonFieldOf(num, typ)
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
