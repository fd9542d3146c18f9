package restjson

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/crmgate/crmgate/internal/jsonscan"
	"github.com/crmgate/crmgate/internal/structwire"
)

// Timestamp bounds protojson accepts: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z.
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
	maxNanos            = 999_999_999
)

// encoder appends protojson-equivalent JSON to b. It never reports an error
// itself: when a value is one that protojson rejects (invalid UTF-8, NaN,
// a Value with no kind, a Timestamp out of range) or one whose protojson
// form this encoder does not reproduce (nil list elements, nil oneof
// wrappers), it clears ok and the caller re-encodes the message with
// protojson, which then returns its own error or output.
type encoder struct {
	b  []byte
	ok bool
	// fields is scratch space for sorting a Struct's fields by key;
	// nested Structs use the part after their parent's fields.
	fields []field
	// members and tmp are scratch space for putting the members of
	// objects in JSON form in key order (jsonform.go).
	members []structwire.Span
	tmp     []byte
}

func (e *encoder) reset() {
	e.b = e.b[:0]
	e.ok = true
}

func (e *encoder) fail() { e.ok = false }

func (e *encoder) null() { e.b = append(e.b, "null"...) }

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, "true"...)
	} else {
		e.b = append(e.b, "false"...)
	}
}

func (e *encoder) int32(v int32) { e.b = strconv.AppendInt(e.b, int64(v), 10) }

// int64 is a JSON string, as protojson writes 64-bit integers.
func (e *encoder) int64(v int64) {
	e.b = append(e.b, '"')
	e.b = strconv.AppendInt(e.b, v, 10)
	e.b = append(e.b, '"')
}

// string appends s as a JSON string exactly as protojson does: only '"',
// '\\' and control characters are escaped (\b \f \n \r \t, others as
// \u00xx in lower case), everything else is copied; invalid UTF-8 fails.
func (e *encoder) string(s string) {
	b := append(e.b, '"')
	start := 0
	for i := jsonscan.SkipPlain(s, 0); i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				e.b = b
				e.fail()
				return
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
	e.b = append(b, '"')
}

// strings appends a repeated string field; nil and empty are both [].
func (e *encoder) strings(list []string) {
	e.b = append(e.b, '[')
	for i, s := range list {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.string(s)
	}
	e.b = append(e.b, ']')
}

// float64 appends a finite double as protojson does (encoding/json's
// format: shortest representation, exponent form below 1e-6 and from 1e21
// on, with a two-digit negative exponent shortened to one digit).
func (e *encoder) float64(n float64) {
	format := byte('f')
	if abs := math.Abs(n); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(e.b, n, format, -1, 64)
	if format == 'e' {
		l := len(b)
		if l >= 4 && b[l-4] == 'e' && b[l-3] == '-' && b[l-2] == '0' {
			b[l-2] = b[l-1]
			b = b[:l-1]
		}
	}
	e.b = b
}

// timestamp appends t as RFC 3339 in UTC with 0, 3, 6 or 9 fractional
// digits, or null for a nil (unset) field (timestamps come only
// as fields, so the nil case is handled here).
func (e *encoder) timestamp(t *timestamppb.Timestamp) {
	if t == nil {
		e.null()
		return
	}
	secs, nanos := t.GetSeconds(), t.GetNanos()
	if secs < minTimestampSeconds || secs > maxTimestampSeconds || nanos < 0 || nanos > maxNanos {
		e.fail()
		return
	}
	tm := time.Unix(secs, int64(nanos)).UTC()
	year, month, day := tm.Date()
	hour, minute, sec := tm.Clock()
	b := append(e.b, '"')
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	switch n := int(nanos); {
	case n == 0:
	case n%1_000_000 == 0:
		b = appendDigits(append(b, '.'), n/1_000_000, 3)
	case n%1_000 == 0:
		b = appendDigits(append(b, '.'), n/1_000, 6)
	default:
		b = appendDigits(append(b, '.'), n, 9)
	}
	e.b = append(b, 'Z', '"')
}

// appendDigits appends the width lowest decimal digits of v (v >= 0),
// zero-padded.
func appendDigits(b []byte, v, width int) []byte {
	l := len(b)
	b = append(b, "000000000"[:width]...)
	for i := l + width - 1; i >= l; i-- {
		b[i] = "0123456789"[v%10]
		v /= 10
	}
	return b
}

// orNull writes a singular message field: null when unset.
func orNull[T any](e *encoder, x *T, write func(*encoder, *T)) {
	if x == nil {
		e.null()
		return
	}
	write(e, x)
}

// structValue appends s as a JSON object with its keys in byte order, as
// protojson sorts map keys.
func (e *encoder) structValue(s *structpb.Struct) {
	start := len(e.fields)
	for k, v := range s.GetFields() {
		e.fields = append(e.fields, field{k, v})
	}
	end := len(e.fields)
	sortFields(e.fields[start:end])
	e.b = append(e.b, '{')
	for i := start; i < end && e.ok; i++ {
		if i > start {
			e.b = append(e.b, ',')
		}
		e.string(e.fields[i].key)
		e.b = append(e.b, ':')
		e.value(e.fields[i].value)
	}
	e.b = append(e.b, '}')
	clear(e.fields[start:end])
	e.fields = e.fields[:start]
}

// sortFields sorts a Struct's entries by key: a record's dozen or so by
// insertion (the comparison inlined), larger Structs with slices.SortFunc.
func sortFields(f []field) {
	if len(f) > 24 {
		slices.SortFunc(f, func(a, b field) int { return strings.Compare(a.key, b.key) })
		return
	}
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].key < f[j-1].key; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

// field is one entry of a Struct.
type field struct {
	key   string
	value *structpb.Value
}

// value appends one google.protobuf.Value.
func (e *encoder) value(v *structpb.Value) {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue:
		if k == nil {
			e.fail()
			return
		}
		e.null()
	case *structpb.Value_NumberValue:
		if k == nil || math.IsNaN(k.NumberValue) || math.IsInf(k.NumberValue, 0) {
			e.fail()
			return
		}
		e.float64(k.NumberValue)
	case *structpb.Value_StringValue:
		if k == nil {
			e.fail()
			return
		}
		e.string(k.StringValue)
	case *structpb.Value_BoolValue:
		if k == nil {
			e.fail()
			return
		}
		e.bool(k.BoolValue)
	case *structpb.Value_StructValue:
		if k == nil || k.StructValue == nil {
			e.fail()
			return
		}
		e.structValue(k.StructValue)
	case *structpb.Value_ListValue:
		if k == nil || k.ListValue == nil {
			e.fail()
			return
		}
		e.listValue(k.ListValue)
	default: // nil Value, no kind set, or a kind this encoder does not know
		e.fail()
	}
}

// listValue appends a google.protobuf.ListValue as a JSON array.
func (e *encoder) listValue(l *structpb.ListValue) {
	elements(e, l.GetValues(), (*encoder).value)
}
