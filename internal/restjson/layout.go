package restjson

import (
	"errors"
	"fmt"
	"slices"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"google.golang.org/protobuf/proto"
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
func fastLayouts() map[proto.Message][]string {
	record := []string{
		"id string", "object_name string", "properties google.protobuf.Struct",
		"owner_ids repeated string", "follower_ids repeated string",
		"created_at google.protobuf.Timestamp", "updated_at google.protobuf.Timestamp",
		"raw_data google.protobuf.Struct",
	}
	return map[proto.Message][]string{
		&crmv1.Record{}:               record,
		&crmv1.GetRecordResponse{}:    {"record crmgate.crm.v1.Record"},
		&crmv1.CreateRecordResponse{}: {"record crmgate.crm.v1.Record", "warnings repeated string"},
		&crmv1.UpdateRecordResponse{}: {"record crmgate.crm.v1.Record", "warnings repeated string"},
		&crmv1.ListRecordsResponse{}: {
			"items repeated crmgate.crm.v1.Record", "next_cursor string", "has_next_page bool",
		},
		&crmv1.SearchRecordsResponse{}: {
			"items repeated crmgate.crm.v1.Record", "next_cursor string", "has_next_page bool", "total int64",
		},
		&crmv1.ListPropertiesResponse{}: {"items repeated crmgate.crm.v1.Property"},
		&crmv1.Property{}: {
			"id string", "label string", "description string", "type string", "is_required bool",
			"options repeated crmgate.crm.v1.Option", "precision int32", "scale int32",
			"group_name string", "raw_details google.protobuf.Struct",
		},
		&crmv1.Option{}: {"label string", "value string", "description string", "hidden bool"},
		&crmv1.Object{}: {
			"name string", "type string", "labels crmgate.crm.v1.Labels", "description string",
			"primary_field_id string", "created_at google.protobuf.Timestamp",
			"updated_at google.protobuf.Timestamp", "raw_data google.protobuf.Struct",
		},
		&crmv1.Labels{}: {"singular string", "plural string"},
		// The well-known types encoder.go writes.
		&structpb.Struct{}:    {"fields map google.protobuf.Struct.FieldsEntry"},
		&structpb.ListValue{}: {"values repeated google.protobuf.Value"},
		&structpb.Value{}: {
			"null_value oneof enum", "number_value oneof double", "string_value oneof string",
			"bool_value oneof bool", "struct_value oneof google.protobuf.Struct",
			"list_value oneof google.protobuf.ListValue",
		},
		&timestamppb.Timestamp{}: {"seconds int64", "nanos int32"},
	}
}

// checkLayouts compares layouts (fastLayouts) with the generated
// descriptors.
func checkLayouts(layouts map[proto.Message][]string) error {
	var errs []error
	for m, want := range layouts {
		if got := messageSignature(m.ProtoReflect().Descriptor()); !slices.Equal(got, want) {
			errs = append(errs, fmt.Errorf("%w: %s has %q, the fast path writes %q",
				ErrLayout, m.ProtoReflect().Descriptor().FullName(), got, want))
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
