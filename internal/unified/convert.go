package unified

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
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
func (b *builder) rawStruct(raw json.RawMessage, include bool) *structpb.Struct {
	if !include || len(raw) == 0 {
		return nil
	}
	if s, err := b.jsonStruct(raw); err == nil {
		return s
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return nil
		}
		m = map[string]any{"value": v}
	}
	return b.toStruct(m)
}

// builder makes the messages of one answer in blocks: a page of 100
// records holds ~1,500 google.protobuf.Values, and each would otherwise be
// two allocations (the Value and its oneof wrapper), the largest part of a
// list's allocations and so of its garbage-collection cost. A block stays
// alive while any message in it does, which is the whole answer's
// lifetime. sizeFor sizes the first blocks from the records to convert.
// The zero builder is ready; it is not safe for concurrent use.
type builder struct {
	values  block[structpb.Value]
	strs    block[structpb.Value_StringValue]
	nums    block[structpb.Value_NumberValue]
	bools   block[structpb.Value_BoolValue]
	nulls   block[structpb.Value_NullValue]
	inner   block[structpb.Value_StructValue]
	lists   block[structpb.Value_ListValue]
	structs block[structpb.Struct]
	lvs     block[structpb.ListValue]
	records block[crmv1.Record]
	stamps  block[timestamppb.Timestamp]
	elems   []*structpb.Value // list elements, carved by elemSlice
	// elemsNext is the size of the next elems block.
	elemsNext int
	// dec and rd read properties JSON (jsonstruct.go); stack holds the
	// elements of the arrays being read, so each list is made once at
	// its final size.
	dec   *jsontext.Decoder
	rd    bytes.Reader
	stack []*structpb.Value
	// names are the member names and short strings read so far, made
	// once per page (jsonstruct.go).
	names map[string]string
}

// block hands out zero Ts from blocks of next items (8 when unset);
// after a block, the next is twice as large, within 8 and 512.
type block[T any] struct {
	free []T
	next int
}

func (k *block[T]) take() *T {
	if len(k.free) == 0 {
		n := k.next
		if n <= 0 {
			n = 8
		}
		k.free = make([]T, n)
		k.next = min(512, max(8, 2*n))
	}
	p := &k.free[0]
	k.free = k.free[1:]
	return p
}

// sizeFor sizes the first blocks for n records shaped like r: a single
// record gets one block of each kind of message it holds, of the size it
// needs, and a page of records alike one block of each kind (a larger
// record later takes further blocks).
//
// No first block is larger than maxFirstBlock items, so an unusually large
// first record does not make the builder reserve that much for every
// record of the page.
func (b *builder) sizeFor(r crm.Record, n int) {
	var c counts
	if len(r.PropertiesJSON) > 0 {
		c.jsonObject(r.PropertiesJSON)
	} else {
		c.structs++ // the properties
		c.object(r.Properties)
	}
	first := func(per int) int { return min(n*per, maxFirstBlock) }
	b.values.next = first(c.values)
	b.strs.next = first(c.strs)
	b.nums.next = first(c.nums)
	b.bools.next = first(c.bools)
	b.nulls.next = first(c.nulls)
	b.inner.next = first(c.inner)
	b.lists.next = first(c.lists)
	b.structs.next = first(c.structs)
	b.lvs.next = first(c.lists)
	b.records.next = first(1)
	b.stamps.next = first(2)
	b.elemsNext = first(c.elems)
}

// maxFirstBlock bounds the blocks sizeFor asks for (a page of 100 records
// of ~15 values each takes 1,500).
const maxFirstBlock = 4096

// counts are the messages a JSON-shaped value becomes.
type counts struct {
	values, strs, nums, bools, nulls, inner, lists, structs, elems int
}

func (c *counts) object(m map[string]any) {
	for _, v := range m {
		c.value(v)
	}
}

func (c *counts) value(v any) {
	c.values++
	switch x := v.(type) {
	case nil:
		c.nulls++
	case string:
		c.strs++
	case bool:
		c.bools++
	case float64:
		c.nums++
	case map[string]any:
		c.inner++
		c.structs++
		c.object(x)
	case []any:
		c.lists++
		if len(x) <= maxSharedElems {
			c.elems += len(x)
		}
		for _, e := range x {
			c.value(e)
		}
	}
}

// maxSharedElems is the longest list whose elements come from the shared
// elems block; a longer one gets a slice of its own.
const maxSharedElems = 64

// elemSlice returns a slice of n Value pointers (capacity n, so appending
// to it never reaches a neighbour).
func (b *builder) elemSlice(n int) []*structpb.Value {
	if n > maxSharedElems {
		return make([]*structpb.Value, n)
	}
	if len(b.elems) < n {
		size := max(n, b.elemsNext)
		if b.elemsNext <= 0 {
			size = max(n, 16)
		}
		b.elems = make([]*structpb.Value, size)
		b.elemsNext = min(256, max(16, 2*size))
	}
	out := b.elems[:n:n]
	b.elems = b.elems[n:]
	return out
}

// toStruct builds a Struct from JSON-shaped values in one pass (no deep
// copy first): strings, numbers, bools, nil, maps and slices as
// encoding/json produces them go straight in; other Go values (e.g.
// []string, ints) are converted through their JSON form.
func (b *builder) toStruct(m map[string]any) *structpb.Struct {
	fields := make(map[string]*structpb.Value, len(m))
	for k, v := range m {
		fields[validUTF8(k)] = b.toValue(v)
	}
	return b.structOf(fields)
}

func (b *builder) toValue(v any) *structpb.Value {
	switch x := v.(type) {
	case nil:
		return b.nullValue()
	case string:
		return b.stringValue(validUTF8(x))
	case bool:
		return b.boolValue(x)
	case float64:
		return b.numberValue(x)
	case map[string]any:
		return b.structValue(b.toStruct(x))
	case []any:
		vals := b.elemSlice(len(x))
		for i, e := range x {
			vals[i] = b.toValue(e)
		}
		return b.listValue(vals)
	default:
		var decoded any
		if j, err := json.Marshal(x); err != nil || json.Unmarshal(j, &decoded) != nil {
			return b.nullValue()
		}
		return b.toValue(decoded)
	}
}

// The messages toValue builds, from blocks.

func (b *builder) structOf(fields map[string]*structpb.Value) *structpb.Struct {
	s := b.structs.take()
	s.Fields = fields
	return s
}

func (b *builder) nullValue() *structpb.Value {
	v := b.values.take()
	v.Kind = b.nulls.take()
	return v
}

func (b *builder) stringValue(s string) *structpb.Value {
	k := b.strs.take()
	k.StringValue = s
	v := b.values.take()
	v.Kind = k
	return v
}

func (b *builder) boolValue(x bool) *structpb.Value {
	k := b.bools.take()
	k.BoolValue = x
	v := b.values.take()
	v.Kind = k
	return v
}

func (b *builder) numberValue(f float64) *structpb.Value {
	k := b.nums.take()
	k.NumberValue = f
	v := b.values.take()
	v.Kind = k
	return v
}

func (b *builder) structValue(s *structpb.Struct) *structpb.Value {
	k := b.inner.take()
	k.StructValue = s
	v := b.values.take()
	v.Kind = k
	return v
}

// listValue wraps vals (from elemSlice) as a list Value.
func (b *builder) listValue(vals []*structpb.Value) *structpb.Value {
	lv := b.lvs.take()
	lv.Values = vals
	k := b.lists.take()
	k.ListValue = lv
	v := b.values.take()
	v.Kind = k
	return v
}

// ts is timestamppb.New in a block (nil for the zero time).
func (b *builder) ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	out := b.stamps.take()
	out.Seconds = t.Unix()
	out.Nanos = int32(t.Nanosecond()) //nolint:gosec // Nanosecond is in [0, 1e9)
	return out
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
	var b builder
	return b.toStruct(m)
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
		RawData:        new(builder).rawStruct(o.Raw, raw),
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

// recordToProto converts one record; a page's records share a builder.
// It fails only when the adapter broke the record contract (properties
// JSON that is not an object).
func recordToProto(r crm.Record, raw bool) (*crmv1.Record, error) {
	var b builder
	b.sizeFor(r, 1)
	return b.record(r, raw)
}

func (b *builder) record(r crm.Record, raw bool) (*crmv1.Record, error) {
	props, err := b.properties(r)
	if err != nil {
		return nil, err
	}
	out := b.records.take()
	out.Id = r.ID
	out.Properties = props
	out.ObjectName = r.ObjectName
	out.OwnerIds = r.OwnerIDs
	out.FollowerIds = r.FollowerIDs
	out.CreatedAt = b.ts(r.CreatedAt)
	out.UpdatedAt = b.ts(r.UpdatedAt)
	out.RawData = b.rawStruct(r.Raw, raw)
	return out, nil
}

// records converts a page; its records share one builder.
func records(in []crm.Record, raw bool) ([]*crmv1.Record, error) {
	var b builder
	if len(in) > 0 {
		b.sizeFor(in[0], len(in))
	}
	out := make([]*crmv1.Record, len(in))
	for i, r := range in {
		var err error
		if out[i], err = b.record(r, raw); err != nil {
			return nil, err
		}
	}
	return out, nil
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
