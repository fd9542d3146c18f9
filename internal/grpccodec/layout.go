package grpccodec

import (
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/protolayout"
)

// fastLayouts lists every message the encoder writes (encode.go and the
// writer in codec.go) with the fields it writes. A field added, removed,
// renumbered or retyped in a proto makes New turn the fast path off, so
// a field can never be silently dropped from the wire.
func fastLayouts() []protolayout.Layout {
	items := "1 items repeated crmgate.crm.v1.Record"
	record := "1 record crmgate.crm.v1.Record"
	warnings := "2 warnings repeated string"
	return []protolayout.Layout{
		{Message: &crmv1.ListRecordsResponse{}, Fields: []string{items, "2 next_cursor string", "3 has_next_page bool"}},
		{Message: &crmv1.SearchRecordsResponse{}, Fields: []string{items, "2 next_cursor string", "3 has_next_page bool", "4 total int64"}},
		{Message: &crmv1.StreamRecordsResponse{}, Fields: []string{items, "2 next_cursor string"}},
		{Message: &crmv1.GetRecordResponse{}, Fields: []string{record}},
		{Message: &crmv1.CreateRecordResponse{}, Fields: []string{record, warnings}},
		{Message: &crmv1.UpdateRecordResponse{}, Fields: []string{record, warnings}},
		{Message: &crmv1.Record{}, Fields: []string{
			"1 id string", "2 object_name string", "3 properties google.protobuf.Struct",
			"4 owner_ids repeated string", "5 follower_ids repeated string",
			"6 created_at google.protobuf.Timestamp", "7 updated_at google.protobuf.Timestamp",
			"8 raw_data google.protobuf.Struct",
		}},
		{Message: &structpb.Struct{}, Fields: []string{"1 fields map string google.protobuf.Value"}},
		{Message: &structpb.ListValue{}, Fields: []string{"1 values repeated google.protobuf.Value"}},
		{Message: &structpb.Value{}, Fields: []string{
			"1 null_value oneof enum", "2 number_value oneof double", "3 string_value oneof string",
			"4 bool_value oneof bool", "5 struct_value oneof google.protobuf.Struct",
			"6 list_value oneof google.protobuf.ListValue",
		}},
		{Message: &timestamppb.Timestamp{}, Fields: []string{"1 seconds int64", "2 nanos int32"}},
	}
}

// checkLayouts compares layouts (fastLayouts) with the generated
// descriptors.
func checkLayouts(layouts []protolayout.Layout) error {
	return protolayout.Check(layouts, fieldSignature)
}

// fieldSignature renders what decides a field's wire form: number, name,
// list (and packing) or map, oneof membership or explicit presence, kind
// (the message name for message fields). Whether a string is checked for
// UTF-8 does not matter: the encoder gives up on invalid UTF-8 either way.
func fieldSignature(fd protoreflect.FieldDescriptor) string {
	s := strconv.Itoa(int(fd.Number())) + " " + fd.TextName() + " "
	switch {
	case fd.IsMap():
		return s + "map " + fieldKind(fd.MapKey()) + " " + fieldKind(fd.MapValue())
	case fd.IsPacked():
		s += "packed "
	case fd.IsList():
		s += "repeated "
	case fd.ContainingOneof() != nil:
		s += "oneof "
	case fd.HasPresence() && fd.Message() == nil:
		s += "optional "
	}
	return s + fieldKind(fd)
}

func fieldKind(fd protoreflect.FieldDescriptor) string {
	if md := fd.Message(); md != nil {
		return string(md.FullName())
	}
	return fd.Kind().String()
}
