package unified

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// rawStruct turns provider JSON into a Struct; non-object JSON is wrapped
// under "value".
func rawStruct(raw json.RawMessage, include bool) *structpb.Struct {
	if !include || len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return nil
		}
		m = map[string]any{"value": v}
	}
	return toStruct(m)
}

// toStruct builds a Struct from JSON-shaped values in one pass (no deep
// copy first): strings, numbers, bools, nil, maps and slices as
// encoding/json produces them go straight in; other Go values (e.g.
// []string, ints) are converted through their JSON form.
func toStruct(m map[string]any) *structpb.Struct {
	fields := make(map[string]*structpb.Value, len(m))
	for k, v := range m {
		fields[validUTF8(k)] = toValue(v)
	}
	return &structpb.Struct{Fields: fields}
}

func toValue(v any) *structpb.Value {
	switch x := v.(type) {
	case nil:
		return structpb.NewNullValue()
	case string:
		return structpb.NewStringValue(validUTF8(x))
	case bool:
		return structpb.NewBoolValue(x)
	case float64:
		return structpb.NewNumberValue(x)
	case map[string]any:
		return structpb.NewStructValue(toStruct(x))
	case []any:
		vals := make([]*structpb.Value, len(x))
		for i, e := range x {
			vals[i] = toValue(e)
		}
		return structpb.NewListValue(&structpb.ListValue{Values: vals})
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return structpb.NewNullValue()
		}
		var out any
		if json.Unmarshal(b, &out) != nil {
			return structpb.NewNullValue()
		}
		return toValue(out)
	}
}

// validUTF8 replaces invalid UTF-8 (protobuf strings must be valid).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func mapStruct(m map[string]any) *structpb.Struct {
	if m == nil {
		return nil
	}
	return toStruct(m)
}

func objectToProto(o crm.Object, raw bool) *crmv1.Object {
	return &crmv1.Object{
		Name:           o.Name,
		Type:           string(o.Type),
		Labels:         &crmv1.Labels{Singular: o.Labels.Singular, Plural: o.Labels.Plural},
		Description:    o.Description,
		PrimaryFieldId: o.PrimaryFieldID,
		CreatedAt:      ts(o.CreatedAt),
		UpdatedAt:      ts(o.UpdatedAt),
		RawData:        rawStruct(o.Raw, raw),
	}
}

func propertyToProto(p crm.Property) *crmv1.Property {
	out := &crmv1.Property{
		Id:          p.ID,
		Label:       p.Label,
		Description: p.Description,
		Type:        string(p.Type),
		IsRequired:  p.IsRequired,
		Precision:   p.Precision,
		Scale:       p.Scale,
		GroupName:   p.GroupName,
		RawDetails:  mapStruct(p.RawDetails),
	}
	for _, o := range p.Options {
		out.Options = append(out.Options, &crmv1.Option{Label: o.Label, Value: o.Value, Description: o.Description, Hidden: o.Hidden})
	}
	return out
}

func propertyFromProto(p *crmv1.Property) crm.Property {
	out := crm.Property{
		ID:          p.GetId(),
		Label:       p.GetLabel(),
		Description: p.GetDescription(),
		Type:        crm.PropertyType(p.GetType()),
		IsRequired:  p.GetIsRequired(),
		Precision:   p.GetPrecision(),
		Scale:       p.GetScale(),
		GroupName:   p.GetGroupName(),
		Options:     optionsFromProto(p.GetOptions()),
	}
	if p.GetRawDetails() != nil {
		out.RawDetails = p.GetRawDetails().AsMap()
	}
	return out
}

func optionsFromProto(in []*crmv1.Option) []crm.Option {
	var out []crm.Option
	for _, o := range in {
		out = append(out, crm.Option{Label: o.GetLabel(), Value: o.GetValue(), Description: o.GetDescription(), Hidden: o.GetHidden()})
	}
	return out
}

func recordToProto(r crm.Record, raw bool) *crmv1.Record {
	return &crmv1.Record{
		Id:          r.ID,
		ObjectName:  r.ObjectName,
		Properties:  mapStruct(orEmpty(r.Properties)),
		OwnerIds:    r.OwnerIDs,
		FollowerIds: r.FollowerIDs,
		CreatedAt:   ts(r.CreatedAt),
		UpdatedAt:   ts(r.UpdatedAt),
		RawData:     rawStruct(r.Raw, raw),
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func associationToProto(a crm.AssociationSchema) *crmv1.AssociationSchema {
	return &crmv1.AssociationSchema{
		Id:           a.ID,
		Key:          a.Key,
		SourceObject: a.SourceObject,
		TargetObject: a.TargetObject,
		SourceLabel:  a.SourceLabel,
		TargetLabel:  a.TargetLabel,
	}
}

func relationToProto(r crm.Relation) *crmv1.Relation {
	return &crmv1.Relation{
		Id:             r.ID,
		AssociationId:  r.AssociationID,
		SourceRecordId: r.SourceRecordID,
		TargetRecordId: r.TargetRecordID,
	}
}
