package restjson

import (
	"encoding/binary"
	"math"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/structwire"
)

// A page's records carry their properties in wire form, in their unknown
// fields (internal/structwire: the unified service writes them from the
// provider's JSON). protojson ignores unknown fields, so the encoder reads
// that form itself and writes what protojson writes for the Record once
// the bytes are merged into it (structwire.MergeUnknown), which is what
// the fallback does before handing the message to protojson.
//
// The reader takes exactly the form structwire.Writer produces (entries
// in key order, each key once, one kind member per Value) and fails on
// anything else, so that protojson decides every other case.

// propertiesField is crmgate.crm.v1.Record.properties, as the unknown
// fields of a record with spliced properties hold it.
const propertiesField = 3<<3 | byte(protowire.BytesType)

// splicedProperties writes the properties a Record carries in its unknown
// fields u: exactly one properties field, and no properties Struct in
// the Go field (protobuf would merge the two).
func (e *encoder) splicedProperties(r *crmv1.Record, u []byte) {
	if r.Properties != nil || len(u) < 2 || u[0] != propertiesField {
		e.fail()
		return
	}
	// A view, not a copy (a copy per record was a tenth of a page's
	// encoding): the encoder only reads the bytes, during this call, and
	// nothing writes a message while it is being marshalled.
	s := unsafe.String(unsafe.SliceData(u), len(u)) //nolint:gosec // read-only view, see above
	body, rest, ok := lenField(s[1:])
	if !ok || rest != "" {
		e.fail()
		return
	}
	e.wireStruct(body)
}

// wireStruct writes a Struct's body (its fields entries) as a JSON object.
func (e *encoder) wireStruct(s string) {
	e.b = append(e.b, '{')
	first := true
	prev := ""
	for s != "" && e.ok {
		if s[0] != structwire.TagStructFields {
			e.fail()
			return
		}
		entry, rest, ok := lenField(s[1:])
		if !ok || len(entry) < 2 || entry[0] != structwire.TagEntryKey {
			e.fail()
			return
		}
		s = rest
		key, entry, ok := lenField(entry[1:])
		if !ok || (!first && key <= prev) || len(entry) < 2 || entry[0] != structwire.TagEntryValue {
			e.fail()
			return
		}
		value, entry, ok := lenField(entry[1:])
		if !ok || entry != "" {
			e.fail()
			return
		}
		if !first {
			e.b = append(e.b, ',')
		}
		first, prev = false, key
		e.string(key)
		e.b = append(e.b, ':')
		e.wireValue(value)
	}
	e.b = append(e.b, '}')
}

// wireValue writes a Value's body: exactly one kind member.
func (e *encoder) wireValue(s string) {
	if s == "" {
		e.fail() // no kind: protojson refuses it
		return
	}
	tag, s := s[0], s[1:]
	switch tag {
	case structwire.TagValueNull:
		// Any number of the NullValue enum is null to protojson.
		if _, n := protowire.ConsumeVarint([]byte(s)); n != len(s) {
			e.fail()
			return
		}
		e.null()
	case structwire.TagValueBool:
		if len(s) != 1 || s[0] > 1 {
			e.fail()
			return
		}
		e.bool(s[0] == 1)
	case structwire.TagValueNumber:
		if len(s) != 8 {
			e.fail()
			return
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64([]byte(s)))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			e.fail()
			return
		}
		e.float64(f)
	case structwire.TagValueString, structwire.TagValueStruct, structwire.TagValueList:
		body, rest, ok := lenField(s)
		if !ok || rest != "" {
			e.fail()
			return
		}
		switch tag {
		case structwire.TagValueString:
			e.string(body)
		case structwire.TagValueStruct:
			e.wireStruct(body)
		default:
			e.wireList(body)
		}
	default:
		e.fail()
	}
}

// wireList writes a ListValue's body as a JSON array.
func (e *encoder) wireList(s string) {
	e.b = append(e.b, '[')
	for first := true; s != "" && e.ok; first = false {
		if s[0] != structwire.TagListValues {
			e.fail()
			return
		}
		value, rest, ok := lenField(s[1:])
		if !ok {
			e.fail()
			return
		}
		s = rest
		if !first {
			e.b = append(e.b, ',')
		}
		e.wireValue(value)
	}
	e.b = append(e.b, ']')
}

// lenField splits a length-delimited field's body (after its tag) from
// what follows it. The length must be the shortest varint, as
// structwire.Writer and protobuf-go write it. Most of a record's fields
// are shorter than 128 bytes: a one-byte length, inlined.
func lenField(s string) (body, rest string, ok bool) {
	if s != "" && s[0] < 0x80 {
		n := int(s[0]) + 1
		if n > len(s) {
			return "", "", false
		}
		return s[1:n], s[n:], true
	}
	return lenFieldLong(s)
}

// lenFieldLong is lenField for a length of more than one byte.
func lenFieldLong(s string) (body, rest string, ok bool) {
	var n uint64
	i := 0
	for shift := 0; ; shift += 7 {
		if i == len(s) || shift > 35 {
			return "", "", false
		}
		c := s[i]
		i++
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if c == 0 && i > 1 {
				return "", "", false // not the shortest form
			}
			break
		}
	}
	if n > uint64(len(s)-i) { //nolint:gosec // i <= len(s)
		return "", "", false
	}
	end := i + int(n) //nolint:gosec // n <= len(s)-i
	return s[i:end], s[end:], true
}
