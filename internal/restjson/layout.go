package restjson

import (
	"errors"
	"fmt"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/protolayout"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ErrLayout means a generated message no longer has the fields the fast
// path writes (a proto change without a matching change here); the
// Marshaler then encodes everything with protojson.
var ErrLayout = errors.New("restjson: message layout differs from the fast path")

// fastLayouts lists, for every message the fast path writes, its fields in
// declaration order as fieldSignature renders them. It must match the
// writers in messages.go.
func fastLayouts() []protolayout.Layout {
	record := []string{
		"id string", "object_name string", "properties google.protobuf.Struct",
		"owner_ids repeated string", "follower_ids repeated string",
		"created_at google.protobuf.Timestamp", "updated_at google.protobuf.Timestamp",
		"raw_data google.protobuf.Struct",
	}
	return []protolayout.Layout{
		{Message: &crmv1.Record{}, Fields: record},
		{Message: &crmv1.GetRecordResponse{}, Fields: []string{"record crmgate.crm.v1.Record"}},
		{Message: &crmv1.CreateRecordResponse{}, Fields: []string{"record crmgate.crm.v1.Record", "warnings repeated string"}},
		{Message: &crmv1.UpdateRecordResponse{}, Fields: []string{"record crmgate.crm.v1.Record", "warnings repeated string"}},
		{Message: &crmv1.ListRecordsResponse{}, Fields: []string{
			"items repeated crmgate.crm.v1.Record", "next_cursor string", "has_next_page bool",
		}},
		{Message: &crmv1.SearchRecordsResponse{}, Fields: []string{
			"items repeated crmgate.crm.v1.Record", "next_cursor string", "has_next_page bool", "total int64",
		}},
		{Message: &crmv1.ListPropertiesResponse{}, Fields: []string{"items repeated crmgate.crm.v1.Property"}},
		{Message: &crmv1.Property{}, Fields: []string{
			"id string", "label string", "description string", "type string", "is_required bool",
			"options repeated crmgate.crm.v1.Option", "precision int32", "scale int32",
			"group_name string", "raw_details google.protobuf.Struct",
		}},
		{Message: &crmv1.Option{}, Fields: []string{"label string", "value string", "description string", "hidden bool"}},
		{Message: &crmv1.Object{}, Fields: []string{
			"name string", "type string", "labels crmgate.crm.v1.Labels", "description string",
			"primary_field_id string", "created_at google.protobuf.Timestamp",
			"updated_at google.protobuf.Timestamp", "raw_data google.protobuf.Struct",
		}},
		{Message: &crmv1.Labels{}, Fields: []string{"singular string", "plural string"}},
		// The well-known types encoder.go writes.
		{Message: &structpb.Struct{}, Fields: []string{"fields map google.protobuf.Struct.FieldsEntry"}},
		{Message: &structpb.ListValue{}, Fields: []string{"values repeated google.protobuf.Value"}},
		{Message: &structpb.Value{}, Fields: []string{
			"null_value oneof enum", "number_value oneof double", "string_value oneof string",
			"bool_value oneof bool", "struct_value oneof google.protobuf.Struct",
			"list_value oneof google.protobuf.ListValue",
		}},
		{Message: &timestamppb.Timestamp{}, Fields: []string{"seconds int64", "nanos int32"}},
	}
}

// checkLayouts compares layouts (fastLayouts) with the generated
// descriptors.
func checkLayouts(layouts []protolayout.Layout) error {
	if err := protolayout.Check(layouts, fieldSignature); err != nil {
		return fmt.Errorf("%w: %w", ErrLayout, err)
	}
	return nil
}

// fieldSignature renders what decides a field's protojson form: proto
// name, list or map, explicit presence of a scalar, oneof membership and
// kind (the message name for message fields).
func fieldSignature(fd protoreflect.FieldDescriptor) string {
	s := fd.TextName() + " "
	switch {
	case fd.IsMap():
		s += "map "
	case fd.IsList():
		s += "repeated "
	case fd.ContainingOneof() != nil:
		s += "oneof "
	case fd.HasPresence() && fd.Message() == nil:
		s += "optional "
	}
	if md := fd.Message(); md != nil {
		return s + string(md.FullName())
	}
	return s + fd.Kind().String()
}
