package restjson

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// errFallback: the encoder does not write this value as protojson would
// (or protojson refuses it); the caller hands the message to protojson,
// whose output or error the answer then is.
var errFallback = errors.New("restjson: not on the fast path")

// encoder appends a message as protojson writes it with UseProtoNames
// and EmitUnpopulated, compacted. It walks any message through
// protoreflect, as protojson does, but writes Struct, Value, ListValue,
// Timestamp and Empty from their Go fields directly and appends into one
// buffer; that is where protojson spends its time on a record (a page of
// 100 records holds ~1,500 Values). Anything else protojson has a special
// JSON form for (Any, Duration, FieldMask, wrappers), maps with non-string
// keys and extensions are errFallback.
type encoder struct {
	b []byte
	// keys is the stack of the Struct keys being sorted (each Struct
	// takes the top, and gives it back when written).
	keys []string
}

func (e *encoder) message(m protoreflect.Message) error {
	switch v := m.Interface().(type) {
	case *structpb.Struct:
		return e.structValue(v)
	case *structpb.Value:
		return e.value(v)
	case *structpb.ListValue:
		return e.list(v)
	case *timestamppb.Timestamp:
		return e.timestamp(v)
	case *emptypb.Empty:
		e.b = append(e.b, "{}"...)
		return nil
	}
	md := m.Descriptor()
	if md.FullName().Parent() == "google.protobuf" {
		return errFallback // a well-known type with its own JSON form
	}
	e.b = append(e.b, '{')
	fds := md.Fields()
	first := true
	for i := range fds.Len() {
		fd := fds.Get(i)
		has := m.Has(fd)
		if !has && fd.ContainingOneof() != nil {
			continue // unset oneof members (and proto3 optionals) are left out
		}
		if !first {
			e.b = append(e.b, ',')
		}
		first = false
		e.b = appendName(e.b, fd.TextName())
		switch {
		case !has && fd.HasPresence():
			e.b = append(e.b, "null"...)
		case fd.IsList():
			if !has { // empty: Get would make a list view only to say so
				e.b = append(e.b, "[]"...)
				break
			}
			if err := e.listField(m.Get(fd).List(), fd); err != nil {
				return err
			}
		case fd.IsMap():
			if err := e.mapField(m.Get(fd).Map(), fd); err != nil {
				return err
			}
		default:
			if err := e.singular(m.Get(fd), fd); err != nil {
				return err
			}
		}
	}
	e.b = append(e.b, '}')
	return nil
}

func (e *encoder) listField(l protoreflect.List, fd protoreflect.FieldDescriptor) error {
	e.b = append(e.b, '[')
	for i := range l.Len() {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		if err := e.singular(l.Get(i), fd); err != nil {
			return err
		}
	}
	e.b = append(e.b, ']')
	return nil
}

func (e *encoder) mapField(mp protoreflect.Map, fd protoreflect.FieldDescriptor) error {
	if fd.MapKey().Kind() != protoreflect.StringKind {
		return errFallback
	}
	keys := make([]string, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k.String())
		return true
	})
	slices.Sort(keys)
	e.b = append(e.b, '{')
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		var err error
		if e.b, err = appendString(e.b, k); err != nil {
			return err
		}
		e.b = append(e.b, ':')
		if err := e.singular(mp.Get(protoreflect.ValueOfString(k).MapKey()), fd.MapValue()); err != nil {
			return err
		}
	}
	e.b = append(e.b, '}')
	return nil
}

func (e *encoder) singular(v protoreflect.Value, fd protoreflect.FieldDescriptor) error {
	var err error
	switch fd.Kind() {
	case protoreflect.BoolKind:
		e.b = strconv.AppendBool(e.b, v.Bool())
	case protoreflect.StringKind:
		e.b, err = appendString(e.b, v.String())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		e.b = strconv.AppendInt(e.b, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		e.b = strconv.AppendUint(e.b, v.Uint(), 10)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		e.b = append(e.b, '"')
		e.b = strconv.AppendInt(e.b, v.Int(), 10)
		e.b = append(e.b, '"')
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		e.b = append(e.b, '"')
		e.b = strconv.AppendUint(e.b, v.Uint(), 10)
		e.b = append(e.b, '"')
	case protoreflect.FloatKind:
		e.b = appendFloat(e.b, v.Float(), 32)
	case protoreflect.DoubleKind:
		e.b = appendFloat(e.b, v.Float(), 64)
	case protoreflect.BytesKind:
		e.b = append(e.b, '"')
		e.b = base64.StdEncoding.AppendEncode(e.b, v.Bytes())
		e.b = append(e.b, '"')
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			e.b = append(e.b, "null"...)
		} else if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			e.b, err = appendString(e.b, string(ev.Name()))
		} else {
			e.b = strconv.AppendInt(e.b, int64(v.Enum()), 10)
		}
	case protoreflect.MessageKind:
		err = e.message(v.Message())
	default:
		err = errFallback // groups
	}
	return err
}

// The well-known types, from their Go fields.

func (e *encoder) structValue(s *structpb.Struct) error {
	if s == nil {
		e.b = append(e.b, "{}"...)
		return nil
	}
	e.b = append(e.b, '{')
	switch len(s.Fields) {
	case 0:
	case 1:
		for k, v := range s.Fields {
			if err := e.member(k, v); err != nil {
				return err
			}
		}
	default:
		base := len(e.keys)
		for k := range s.Fields {
			e.keys = append(e.keys, k)
		}
		keys := e.keys[base:]
		slices.Sort(keys)
		for i := range keys {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			// e.keys may grow (and move) while a nested Struct is
			// written: index it afresh.
			k := e.keys[base+i]
			if err := e.member(k, s.Fields[k]); err != nil {
				return err
			}
		}
		clear(e.keys[base:])
		e.keys = e.keys[:base]
	}
	e.b = append(e.b, '}')
	return nil
}

func (e *encoder) member(k string, v *structpb.Value) error {
	var err error
	if e.b, err = appendString(e.b, k); err != nil {
		return err
	}
	e.b = append(e.b, ':')
	return e.value(v)
}

func (e *encoder) value(v *structpb.Value) error {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue:
		e.b = append(e.b, "null"...)
	case *structpb.Value_StringValue:
		var err error
		e.b, err = appendString(e.b, k.StringValue)
		return err
	case *structpb.Value_NumberValue:
		if math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0) {
			return errFallback // protojson's error
		}
		e.b = appendFloat(e.b, k.NumberValue, 64)
	case *structpb.Value_BoolValue:
		e.b = strconv.AppendBool(e.b, k.BoolValue)
	case *structpb.Value_StructValue:
		return e.structValue(k.StructValue)
	case *structpb.Value_ListValue:
		return e.list(k.ListValue)
	default:
		return errFallback // no kind set: protojson's error
	}
	return nil
}

func (e *encoder) list(l *structpb.ListValue) error {
	e.b = append(e.b, '[')
	for i, v := range l.GetValues() {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		if err := e.value(v); err != nil {
			return err
		}
	}
	e.b = append(e.b, ']')
	return nil
}

// Timestamps as protojson writes them: RFC 3339 in UTC with 0, 3, 6 or 9
// fractional digits, within years 1 to 9999.
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
)

func (e *encoder) timestamp(t *timestamppb.Timestamp) error {
	secs, nanos := t.GetSeconds(), t.GetNanos()
	if secs < minTimestampSeconds || secs > maxTimestampSeconds || nanos < 0 || nanos > 999_999_999 {
		return errFallback
	}
	e.b = append(e.b, '"')
	e.b = time.Unix(secs, int64(nanos)).UTC().AppendFormat(e.b, "2006-01-02T15:04:05")
	if nanos != 0 {
		frac := strconv.AppendInt(make([]byte, 0, 10), int64(nanos)+1e9, 10)[1:] // nine digits
		switch {
		case nanos%1e6 == 0:
			frac = frac[:3]
		case nanos%1e3 == 0:
			frac = frac[:6]
		}
		e.b = append(e.b, '.')
		e.b = append(e.b, frac...)
	}
	e.b = append(e.b, 'Z', '"')
	return nil
}

// appendName appends "name": for a field name (proto names are ASCII
// identifiers, needing no escapes).
func appendName(b []byte, name string) []byte {
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// appendString is protojson's string encoding: ", \ and control
// characters escaped (\b \f \n \r \t or \u00XX), nothing else; invalid
// UTF-8 is errFallback (protojson's error).
func appendString(b []byte, s string) ([]byte, error) {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return b, errFallback
			}
			i += n
			continue
		}
		if c >= ' ' && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, '\\')
		switch c {
		case '"', '\\':
			b = append(b, c)
		case '\b':
			b = append(b, 'b')
		case '\f':
			b = append(b, 'f')
		case '\n':
			b = append(b, 'n')
		case '\r':
			b = append(b, 'r')
		case '\t':
			b = append(b, 't')
		default:
			b = append(b, 'u')
			b = append(b, "0000"[1+(bits.Len32(uint32(c))-1)/4:]...)
			b = strconv.AppendUint(b, uint64(c), 16)
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}

// appendFloat is protojson's number encoding (encoding/json's: shortest
// form, exponent outside [1e-6, 1e21)); NaN and infinities as protojson
// quotes them.
func appendFloat(b []byte, n float64, bitSize int) []byte {
	switch {
	case math.IsNaN(n):
		return append(b, `"NaN"`...)
	case math.IsInf(n, +1):
		return append(b, `"Infinity"`...)
	case math.IsInf(n, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(n); abs != 0 {
		if bitSize == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bitSize == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, n, format, -1, bitSize)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// encoders keeps encoders and their buffers between answers: a page's
// answer is ~80 KB, and growing a fresh buffer to that size copies it
// over and over.
var encoders = sync.Pool{New: func() any { return &encoder{b: make([]byte, 0, 4096), keys: make([]string, 0, 32)} }}

// maxPooled is the largest buffer kept in the pool.
const maxPooled = 1 << 20

// marshalFast encodes m, or reports errFallback. The answer is a copy of
// exactly its size.
func marshalFast(m proto.Message) ([]byte, error) {
	e, _ := encoders.Get().(*encoder)
	defer func() {
		if cap(e.b) <= maxPooled {
			e.b = e.b[:0]
			clear(e.keys[:cap(e.keys)])
			e.keys = e.keys[:0]
			encoders.Put(e)
		}
	}()
	if err := e.message(m.ProtoReflect()); err != nil {
		return nil, err
	}
	return bytes.Clone(e.b), nil
}
