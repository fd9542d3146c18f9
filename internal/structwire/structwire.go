// Package structwire turns a JSON object straight into the protobuf wire
// form of the google.protobuf.Struct it stands for, without building the
// Struct's Go maps, and merges such pre-encoded fields back into the
// messages that carry them.
//
// # Why it exists
//
// A page of 100 records holds ~1,000 property values. Building them as
// google.protobuf.Struct messages (a Go map per record, a Value and a
// oneof wrapper per value) and then walking those maps again to encode
// them was the largest part of a list call's CPU in the gateway. GHL's
// adapter hands each record's properties through as JSON
// (crm.Record.PropertiesJSON); the unified service turns that JSON into
// the Record's properties field in wire form directly (Writer), and puts
// those bytes in the Record's unknown fields.
//
// # Why the bytes are correct where they are
//
// protobuf-go writes a message's unknown fields verbatim after its known
// fields, so proto.Marshal of such a Record puts field 3 (properties) on
// the wire, and any reader decodes it as the properties Struct: the
// protobuf encoding allows fields in any order. The gRPC codec
// (internal/grpccodec) writes unknown fields the same way. protojson
// ignores unknown fields, so the REST encoder (internal/restjson) reads
// the bytes itself, and before handing any message to protojson it calls
// MergeUnknown, which moves such fields into the known ones, as a
// Marshal/Unmarshal round trip would. In-process readers of a page's
// Records must do the same.
//
// # The JSON form
//
// A reader that writes JSON (the REST encoder) is better served by the
// JSON itself: a Struct field can also travel as its JSON text, in an
// unknown field whose number protobuf reserves for its implementation
// (JSONField). Such bytes are not protobuf for the field, so producers
// write them only when the call's context asks for them
// (WithJSONFields), and MergeUnknown expands them; see jsonform.go.
//
// # The form Writer produces
//
// Entries of the Struct's fields map in key order (byte order, as
// protojson sorts map keys), each key once (the last of repeated keys,
// as encoding/json decodes them), each entry and Value in the shortest
// form proto.Marshal writes: key field then value field, one kind member
// per Value (set even at its zero value). Readers may rely on that order
// and refuse anything else (the REST encoder does, and falls back to
// protojson after MergeUnknown).
package structwire

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/crmgate/crmgate/internal/jsonscan"
)

// Tags of google.protobuf.Struct (fields = 1, a map of key = 1, value =
// 2), ListValue (values = 1) and Value (the kind oneof). Each is one byte.
const (
	TagStructFields = 1<<3 | byte(protowire.BytesType)
	TagEntryKey     = 1<<3 | byte(protowire.BytesType)
	TagEntryValue   = 2<<3 | byte(protowire.BytesType)
	TagListValues   = 1<<3 | byte(protowire.BytesType)
	TagValueNull    = 1<<3 | byte(protowire.VarintType)
	TagValueNumber  = 2<<3 | byte(protowire.Fixed64Type)
	TagValueString  = 3<<3 | byte(protowire.BytesType)
	TagValueBool    = 4<<3 | byte(protowire.VarintType)
	TagValueStruct  = 5<<3 | byte(protowire.BytesType)
	TagValueList    = 6<<3 | byte(protowire.BytesType)
)

// Writer writes JSON objects as Structs in wire form. Its scratch space
// is reused from call to call; the zero Writer is ready. It is not safe
// for concurrent use.
type Writer struct {
	// entries are the members of the objects being written (nested
	// objects after their parent's), for putting them in key order.
	entries []Span
	// tmp is where out-of-order entries are put in order.
	tmp []byte
}

// AppendField appends field num, of type google.protobuf.Struct, holding
// the JSON object js: the Struct that encoding/json's decoding of js into
// a map[string]any and structpb.NewStruct would give. It reports !ok, with
// b as it was, for anything that is not exactly that: invalid JSON, a
// value that is not an object, a number out of float64's range, nesting
// deeper than jsonscan.MaxDepth (jsonscan's limits).
func (w *Writer) AppendField(b []byte, num protowire.Number, js string) ([]byte, bool) {
	n := len(b)
	b = protowire.AppendTag(b, num, protowire.BytesType)
	start := len(b)
	// The wire form is about as long as the JSON.
	reserved := protowire.SizeVarint(uint64(len(js)))
	b = append(b, make([]byte, reserved)...)
	d := jsonscan.Scanner{S: js}
	b, ok := w.object(b, &d, 0)
	if !ok || !d.End() {
		return b[:n], false
	}
	return PatchLen(b, start, reserved), true
}

// object writes the entries of the object at d (a Struct's body). Depth
// limits are those of the gateway's JSON-to-Struct reader, so the two
// refuse the same input.
func (w *Writer) object(b []byte, d *jsonscan.Scanner, depth int) ([]byte, bool) {
	if depth > jsonscan.MaxDepth || d.Peek() != '{' {
		return b, false
	}
	mark, body := len(w.entries), len(b)
	ok := d.Object(func(ks, ke int, kind jsonscan.Kind) bool {
		key, ok := d.Text(ks, ke, kind)
		if !ok {
			return false
		}
		start := len(b)
		b = append(b, TagStructFields, 0)
		b = AppendString(b, TagEntryKey, key)
		b = append(b, TagEntryValue, 0)
		vlen := len(b) - 1
		if b, ok = w.value(b, d, depth); !ok {
			return false
		}
		b = PatchLen(b, vlen, 1)
		b = PatchLen(b, start+1, 1)
		w.entries = append(w.entries, Span{key, start, len(b)})
		return true
	})
	if ok {
		b, w.tmp = InKeyOrder(b, body, w.entries[mark:], 0, w.tmp)
	}
	clear(w.entries[mark:])
	w.entries = w.entries[:mark]
	return b, ok
}

// value writes the body of the Value at d.
func (w *Writer) value(b []byte, d *jsonscan.Scanner, depth int) ([]byte, bool) {
	switch c := d.Peek(); c {
	case '{':
		b = append(b, TagValueStruct, 0)
		at := len(b) - 1
		var ok bool
		if b, ok = w.object(b, d, depth+1); !ok {
			return b, false
		}
		return PatchLen(b, at, 1), true
	case '[':
		if depth >= jsonscan.MaxDepth {
			return b, false
		}
		b = append(b, TagValueList, 0)
		at := len(b) - 1
		ok := d.Array(func() bool {
			b = append(b, TagListValues, 0)
			elem := len(b) - 1
			var ok bool
			if b, ok = w.value(b, d, depth+1); !ok {
				return false
			}
			b = PatchLen(b, elem, 1)
			return true
		})
		if !ok {
			return b, false
		}
		return PatchLen(b, at, 1), true
	case '"':
		s, ok := d.Str()
		if !ok {
			return b, false
		}
		return AppendString(b, TagValueString, s), true
	case 't', 'f':
		if !d.Literal("true") && !d.Literal("false") {
			return b, false
		}
		if c == 't' {
			return append(b, TagValueBool, 1), true
		}
		return append(b, TagValueBool, 0), true
	case 'n':
		if !d.Literal("null") {
			return b, false
		}
		return append(b, TagValueNull, 0), true
	default:
		f, ok := d.Number()
		if !ok {
			return b, false
		}
		b = append(b, TagValueNumber)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f)), true
	}
}

// Span is one member of an object written into a buffer: its key and
// its bytes, buf[Start:End].
type Span struct {
	Key        string
	Start, End int
}

// InKeyOrder puts the members written in buf[body:] (spans, in input
// order, sorted in place) in a Struct's entry order: keys in byte order,
// as protojson sorts map keys, and only the last of repeated keys, as
// encoding/json decodes them. sep, unless 0, goes between members (JSON's
// comma, which the spans leave out). tmp is scratch space, returned for
// reuse. Most objects are in order already: they are checked first, and
// left as they are.
func InKeyOrder(buf []byte, body int, spans []Span, sep byte, tmp []byte) (_, _ []byte) {
	sorted := true
	for i := 1; i < len(spans) && sorted; i++ {
		sorted = spans[i-1].Key < spans[i].Key
	}
	if sorted {
		return buf, tmp
	}
	// Insertion sort is stable, so among equal keys the last one written
	// stays last.
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spans[j].Key < spans[j-1].Key; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
	tmp = tmp[:0]
	for i, sp := range spans {
		if i+1 < len(spans) && spans[i+1].Key == sp.Key {
			continue // a later value for the same key wins
		}
		if sep != 0 && len(tmp) > 0 {
			tmp = append(tmp, sep)
		}
		tmp = append(tmp, buf[sp.Start:sp.End]...)
	}
	n := copy(buf[body:], tmp)
	return buf[:body+n], tmp
}

// AppendString appends a string field (even an empty one) of at most a
// few bytes of tag.
func AppendString(b []byte, tag byte, s string) []byte {
	if len(s) < 0x80 {
		b = append(b, tag, byte(len(s))) //nolint:gosec // len(s) < 0x80
		return append(b, s...)
	}
	b = append(b, tag)
	b = protowire.AppendVarint(b, uint64(len(s)))
	return append(b, s...)
}

// PatchLen writes the length of the body that follows the reserved
// length prefix b[start:start+reserved], moving the body when the length
// takes a different number of bytes: the prefix is always the shortest
// varint, as protobuf-go writes it.
func PatchLen(b []byte, start, reserved int) []byte {
	n := len(b) - start - reserved
	if reserved == 1 && n < 0x80 {
		b[start] = byte(n) //nolint:gosec // n < 0x80
		return b
	}
	u := uint64(n) //nolint:gosec // a length, not negative
	need := protowire.SizeVarint(u)
	switch {
	case need > reserved:
		b = append(b, make([]byte, need-reserved)...)
		copy(b[start+need:], b[start+reserved:start+reserved+n])
	case need < reserved:
		copy(b[start+need:], b[start+reserved:])
		b = b[:start+need+n]
	}
	binary.PutUvarint(b[start:], u)
	return b
}
