package grpccodec

import (
	"encoding/binary"
	"maps"
	"math"
	"slices"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/structwire"
)

// Tags (field number << 3 | wire type) of the fields the encoder writes;
// every field number is below 16, so each tag is one byte.
const (
	wireVarint = byte(protowire.VarintType)
	wireI64    = byte(protowire.Fixed64Type)
	wireLen    = byte(protowire.BytesType)

	// The responses: items or record = 1, then next_cursor or warnings = 2,
	// has_next_page = 3, total = 4.
	tagResp1Len    = 1<<3 | wireLen
	tagResp2Len    = 2<<3 | wireLen
	tagResp3Varint = 3<<3 | wireVarint
	tagResp4Varint = 4<<3 | wireVarint

	// crmgate.crm.v1.Record.
	tagRecordID          = 1<<3 | wireLen
	tagRecordObjectName  = 2<<3 | wireLen
	tagRecordProperties  = 3<<3 | wireLen
	tagRecordOwnerIDs    = 4<<3 | wireLen
	tagRecordFollowerIDs = 5<<3 | wireLen
	tagRecordCreatedAt   = 6<<3 | wireLen
	tagRecordUpdatedAt   = 7<<3 | wireLen
	tagRecordRawData     = 8<<3 | wireLen

	// google.protobuf.Struct (fields = 1, a map: entries of key = 1,
	// value = 2), ListValue (values = 1) and Value (the kind oneof).
	tagStructFields = structwire.TagStructFields
	tagEntryKey     = structwire.TagEntryKey
	tagEntryValue   = structwire.TagEntryValue
	tagListValues   = structwire.TagListValues
	tagValueNull    = structwire.TagValueNull
	tagValueNumber  = structwire.TagValueNumber
	tagValueString  = structwire.TagValueString
	tagValueBool    = structwire.TagValueBool
	tagValueStruct  = structwire.TagValueStruct
	tagValueList    = structwire.TagValueList

	// google.protobuf.Timestamp.
	tagTimestampSeconds = 1<<3 | wireVarint
	tagTimestampNanos   = 2<<3 | wireVarint
)

// encoder appends the wire form of a Record and the well-known types in
// it. Every method returns false, with b in an unspecified state, when the
// message holds something it does not reproduce (unknown fields, a string
// that is not UTF-8); the caller then hands the whole message to
// protobuf-go.
//
// A length-delimited field is written in one pass: its length prefix gets
// a guessed number of bytes, the body is appended after it, and structwire.PatchLen
// writes the real length, moving the body when the guess was wrong (the
// prefix is always the shortest varint, as protobuf-go writes it).
type encoder struct {
	// sorted writes map entries in key order, as protobuf-go's
	// deterministic mode does, so tests can compare exact bytes. The gRPC
	// codec leaves it off: map order is unspecified on the wire, and
	// proto.Marshal's own order is random.
	sorted bool
}

// appendUnknown appends m's unknown fields, as protobuf-go does: verbatim,
// after the known fields. Records whose properties the unified service
// wrote from JSON carry them this way (see internal/structwire).
func appendUnknown(b []byte, m proto.Message) []byte {
	return append(b, m.ProtoReflect().GetUnknown()...)
}

// reserveLen appends n placeholder bytes for a length prefix.
func reserveLen(b []byte, n int) []byte {
	if n == 1 {
		return append(b, 0)
	}
	return append(b, make([]byte, n)...)
}

// lenBytes is how many bytes to reserve for the length prefix of a body
// expected to be about size bytes long.
func lenBytes(size int) int {
	return protowire.SizeVarint(uint64(size)) //nolint:gosec // a length, not negative
}

// appendString appends a string field, even an empty one (repeated
// elements, oneof members, map keys), and reports whether s is UTF-8.
// Short ASCII strings, most of a record's, take the quick path.
func appendString(b []byte, tag byte, s string) ([]byte, bool) {
	if len(s) >= 0x80 || !isASCII(s) {
		return appendStringLong(b, tag, s)
	}
	b = append(b, tag, byte(len(s))) //nolint:gosec // len(s) < 0x80, checked above
	return append(b, s...), true
}

// isASCII reports whether s is all ASCII: cheaper than utf8.ValidString
// for the short strings of a record.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendStringLong is appendString for strings of 128 bytes or more, or
// with non-ASCII bytes.
func appendStringLong(b []byte, tag byte, s string) ([]byte, bool) {
	if !utf8.ValidString(s) {
		return b, false
	}
	b = append(b, tag)
	b = protowire.AppendVarint(b, uint64(len(s)))
	return append(b, s...), true
}

// appendStrings appends a repeated string field, empty elements included.
func appendStrings(b []byte, tag byte, ss []string) ([]byte, bool) {
	var ok bool
	for _, s := range ss {
		if b, ok = appendString(b, tag, s); !ok {
			return b, false
		}
	}
	return b, true
}

// appendStringNoZero appends a proto3 implicit-presence string field: not
// at all when empty.
func appendStringNoZero(b []byte, tag byte, s string) ([]byte, bool) {
	if s == "" {
		return b, true
	}
	return appendString(b, tag, s)
}

// appendRecord appends r as a length-delimited field; reserved is the
// guessed size of its length prefix. A nil r is written as an empty
// message (what protobuf-go does for a nil element of a repeated field).
func (e encoder) appendRecord(b []byte, tag byte, r *crmv1.Record, reserved int) ([]byte, bool) {
	b = append(b, tag)
	start := len(b)
	b = reserveLen(b, reserved)
	b, ok := e.recordBody(b, r)
	if !ok {
		return b, false
	}
	return structwire.PatchLen(b, start, reserved), true
}

func (e encoder) recordBody(b []byte, r *crmv1.Record) ([]byte, bool) {
	if r == nil {
		return b, true
	}
	var ok bool
	if b, ok = appendStringNoZero(b, tagRecordID, r.Id); !ok {
		return b, false
	}
	if b, ok = appendStringNoZero(b, tagRecordObjectName, r.ObjectName); !ok {
		return b, false
	}
	if r.Properties != nil {
		if b, ok = e.appendStruct(b, tagRecordProperties, r.Properties, 2); !ok {
			return b, false
		}
	}
	if b, ok = appendStrings(b, tagRecordOwnerIDs, r.OwnerIds); !ok {
		return b, false
	}
	if b, ok = appendStrings(b, tagRecordFollowerIDs, r.FollowerIds); !ok {
		return b, false
	}
	if r.CreatedAt != nil {
		if b, ok = appendTimestamp(b, tagRecordCreatedAt, r.CreatedAt); !ok {
			return b, false
		}
	}
	if r.UpdatedAt != nil {
		if b, ok = appendTimestamp(b, tagRecordUpdatedAt, r.UpdatedAt); !ok {
			return b, false
		}
	}
	if r.RawData != nil {
		if b, ok = e.appendStruct(b, tagRecordRawData, r.RawData, 2); !ok {
			return b, false
		}
	}
	return appendUnknown(b, r), true
}

// appendTimestamp appends a non-nil Timestamp field. Its known fields are
// at most 22 bytes, so the one-byte length prefix is moved only for
// unknown fields. Values out of Timestamp's valid range are written as
// they are, as protobuf-go does; negative nanos are sign-extended to ten
// bytes like any negative int32.
func appendTimestamp(b []byte, tag byte, t *timestamppb.Timestamp) ([]byte, bool) {
	b = append(b, tag)
	start := len(b)
	b = append(b, 0)
	if t.Seconds != 0 {
		b = append(b, tagTimestampSeconds)
		b = protowire.AppendVarint(b, uint64(t.Seconds)) //nolint:gosec // int64 on the wire: two's complement
	}
	if t.Nanos != 0 {
		b = append(b, tagTimestampNanos)
		b = protowire.AppendVarint(b, uint64(t.Nanos)) //nolint:gosec // int32 on the wire: sign-extended
	}
	return structwire.PatchLen(appendUnknown(b, t), start, 1), true
}

// appendStruct appends s as a length-delimited field (s may be nil: a
// struct_value oneof member holding nil is written as an empty message).
func (e encoder) appendStruct(b []byte, tag byte, s *structpb.Struct, reserved int) ([]byte, bool) {
	b = append(b, tag)
	start := len(b)
	b = reserveLen(b, reserved)
	b, ok := e.structBody(b, s)
	if !ok {
		return b, false
	}
	return structwire.PatchLen(b, start, reserved), true
}

func (e encoder) structBody(b []byte, s *structpb.Struct) ([]byte, bool) {
	if s == nil {
		return b, true
	}
	var ok bool
	if e.sorted {
		for _, k := range slices.Sorted(maps.Keys(s.Fields)) {
			if b, ok = e.appendEntry(b, k, s.Fields[k]); !ok {
				return b, false
			}
		}
		return appendUnknown(b, s), true
	}
	for k, v := range s.Fields {
		if b, ok = e.appendEntry(b, k, v); !ok {
			return b, false
		}
	}
	return appendUnknown(b, s), true
}

// appendEntry appends one map entry of Struct.fields. As protobuf-go does,
// the key is written even when empty and the value even when nil (as an
// empty Value): map entries always carry both fields.
func (e encoder) appendEntry(b []byte, k string, v *structpb.Value) ([]byte, bool) {
	b = append(b, tagStructFields)
	start := len(b)
	b = append(b, 0)
	b, ok := appendString(b, tagEntryKey, k)
	if !ok {
		return b, false
	}
	if b, ok = e.appendValue(b, tagEntryValue, v); !ok {
		return b, false
	}
	return structwire.PatchLen(b, start, 1), true
}

// appendValue appends v as a length-delimited field; a nil v is an empty
// message.
func (e encoder) appendValue(b []byte, tag byte, v *structpb.Value) ([]byte, bool) {
	b = append(b, tag)
	start := len(b)
	b = append(b, 0)
	b, ok := e.valueBody(b, v)
	if !ok {
		return b, false
	}
	return structwire.PatchLen(b, start, 1), true
}

// valueBody writes the kind oneof. A set member is written even at its
// zero value (0, -0, "", false, NULL_VALUE); no kind, or a nil wrapper
// (&Value{Kind: (*Value_StringValue)(nil)}), writes nothing; a wrapper
// holding a nil Struct or ListValue writes an empty message.
func (e encoder) valueBody(b []byte, v *structpb.Value) ([]byte, bool) {
	if v == nil {
		return b, true
	}
	b, ok := e.valueKind(b, v)
	if !ok {
		return b, false
	}
	return appendUnknown(b, v), true
}

// valueKind writes v's kind oneof member.
func (e encoder) valueKind(b []byte, v *structpb.Value) ([]byte, bool) {
	switch k := v.Kind.(type) {
	case *structpb.Value_StringValue:
		if k != nil {
			return appendString(b, tagValueString, k.StringValue)
		}
	case *structpb.Value_NumberValue:
		if k != nil {
			b = append(b, tagValueNumber)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(k.NumberValue))
		}
	case *structpb.Value_BoolValue:
		if k != nil {
			b = append(b, tagValueBool)
			b = protowire.AppendVarint(b, protowire.EncodeBool(k.BoolValue))
		}
	case *structpb.Value_NullValue:
		if k != nil {
			// An enum is an int32 varint: out-of-range negative values
			// are sign-extended to ten bytes.
			b = append(b, tagValueNull)
			b = protowire.AppendVarint(b, uint64(k.NullValue)) //nolint:gosec // sign-extended, see above
		}
	case *structpb.Value_StructValue:
		if k != nil {
			return e.appendStruct(b, tagValueStruct, k.StructValue, 1)
		}
	case *structpb.Value_ListValue:
		if k != nil {
			return e.appendList(b, tagValueList, k.ListValue)
		}
	}
	return b, true
}

// appendList appends l (maybe nil: an empty message) as a length-delimited
// field; nil elements are written as empty Values.
func (e encoder) appendList(b []byte, tag byte, l *structpb.ListValue) ([]byte, bool) {
	b = append(b, tag)
	start := len(b)
	b = append(b, 0)
	if l != nil {
		var ok bool
		for _, v := range l.Values {
			if b, ok = e.appendValue(b, tagListValues, v); !ok {
				return b, false
			}
		}
		b = appendUnknown(b, l)
	}
	return structwire.PatchLen(b, start, 1), true
}
