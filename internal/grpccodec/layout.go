package grpccodec

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// layout is a message the encoder writes and its fields as fieldSignature
// renders them, in declaration order.
type layout struct {
	msg    proto.Message
	fields []string
}

// fastLayouts lists every message the encoder writes (encode.go and the
// writer in codec.go) with the fields it writes. A field added, removed,
// renumbered or retyped in a proto makes New turn the fast path off, so
// a field can never be silently dropped from the wire.
func fastLayouts() []layout {
	items := "1 items repeated crmgate.crm.v1.Record"
	record := "1 record crmgate.crm.v1.Record"
	warnings := "2 warnings repeated string"
	return []layout{
		{&crmv1.ListRecordsResponse{}, []string{items, "2 next_cursor string", "3 has_next_page bool"}},
		{&crmv1.SearchRecordsResponse{}, []string{items, "2 next_cursor string", "3 has_next_page bool", "4 total int64"}},
		{&crmv1.StreamRecordsResponse{}, []string{items, "2 next_cursor string"}},
		{&crmv1.GetRecordResponse{}, []string{record}},
		{&crmv1.CreateRecordResponse{}, []string{record, warnings}},
		{&crmv1.UpdateRecordResponse{}, []string{record, warnings}},
		{&crmv1.Record{}, []string{
			"1 id string", "2 object_name string", "3 properties google.protobuf.Struct",
			"4 owner_ids repeated string", "5 follower_ids repeated string",
			"6 created_at google.protobuf.Timestamp", "7 updated_at google.protobuf.Timestamp",
			"8 raw_data google.protobuf.Struct",
		}},
		{&structpb.Struct{}, []string{"1 fields map string google.protobuf.Value"}},
		{&structpb.ListValue{}, []string{"1 values repeated google.protobuf.Value"}},
		{&structpb.Value{}, []string{
			"1 null_value oneof enum", "2 number_value oneof double", "3 string_value oneof string",
			"4 bool_value oneof bool", "5 struct_value oneof google.protobuf.Struct",
			"6 list_value oneof google.protobuf.ListValue",
		}},
		{&timestamppb.Timestamp{}, []string{"1 seconds int64", "2 nanos int32"}},
	}
}

// checkLayouts compares layouts with the generated descriptors.
func checkLayouts(layouts []layout) error {
	var errs []error
	for _, l := range layouts {
		md := l.msg.ProtoReflect().Descriptor()
		if got := messageSignature(md); !slices.Equal(got, l.fields) {
			errs = append(errs, fmt.Errorf("%s has %q, the encoder writes %q", md.FullName(), got, l.fields))
		}
	}
	return errors.Join(errs...)
}

func messageSignature(md protoreflect.MessageDescriptor) []string {
	fds := md.Fields()
	out := make([]string, 0, fds.Len())
	for i := range fds.Len() {
		out = append(out, fieldSignature(fds.Get(i)))
	}
	return out
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
