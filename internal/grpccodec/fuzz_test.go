package grpccodec

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// fuzzTypes are the six responses the fast path writes; the fuzz input's
// kind picks one.
func fuzzTypes() []func() proto.Message {
	return []func() proto.Message{
		func() proto.Message { return &crmv1.ListRecordsResponse{} },
		func() proto.Message { return &crmv1.SearchRecordsResponse{} },
		func() proto.Message { return &crmv1.StreamRecordsResponse{} },
		func() proto.Message { return &crmv1.GetRecordResponse{} },
		func() proto.Message { return &crmv1.CreateRecordResponse{} },
		func() proto.Message { return &crmv1.UpdateRecordResponse{} },
	}
}

// breakSites collects, for every string in m (fields, list elements, map
// keys), a function that makes it invalid UTF-8, and for every message in
// m, m included, one that gives it an unknown field: the one thing the
// fast path must give up on, and one it must write as proto.Marshal does.
func breakSites(m protoreflect.Message, sites *[]func()) {
	const bad = "\xff"
	*sites = append(*sites, func() {
		m.SetUnknown(protowire.AppendVarint(protowire.AppendTag(m.GetUnknown(), 99, protowire.VarintType), 1))
	})
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			// In key order, so that a bad value picks the same place
			// every run.
			mp := v.Map()
			var keys []string
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k.String())
				return true
			})
			slices.Sort(keys)
			for _, key := range keys {
				k := protoreflect.ValueOfString(key).MapKey()
				mv := mp.Get(k)
				*sites = append(*sites, func() {
					mp.Clear(k)
					mp.Set(protoreflect.ValueOfString(key+bad).MapKey(), mv)
				})
				if fd.MapValue().Message() != nil {
					breakSites(mv.Message(), sites)
				}
			}
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				switch {
				case fd.Kind() == protoreflect.StringKind:
					*sites = append(*sites, func() { l.Set(i, protoreflect.ValueOfString(l.Get(i).String()+bad)) })
				case fd.Message() != nil:
					breakSites(l.Get(i).Message(), sites)
				}
			}
		case fd.Kind() == protoreflect.StringKind:
			*sites = append(*sites, func() { m.Set(fd, protoreflect.ValueOfString(v.String()+bad)) })
		case fd.Message() != nil:
			breakSites(v.Message(), sites)
		}
		return true
	})
}

// FuzzMarshal decodes the input as one of the six responses and requires
// the fast path to agree with protobuf-go (checkSame): exactly
// proto.Marshal's deterministic bytes (unknown fields included), or giving
// up when the message has a string that is not UTF-8, and the Codec to
// answer as grpc-go's codec does (checkCodec). Random bytes seldom decode
// to a message with unknown fields deep inside, and never to invalid UTF-8
// (proto.Unmarshal rejects it), so when bad is not 0 one such defect is
// planted: at the bad'th place breakSites finds.
func FuzzMarshal(f *testing.F) {
	types := fuzzTypes()
	seed := func(kind uint8, m proto.Message) {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		for _, bad := range []uint16{0, 1, 2, 3, 5, 8, 13, 21, 34, 55} {
			f.Add(kind, b, bad)
		}
	}
	page := benchPage(f, 3, false)
	page.Items[1] = benchRecord(f, true)
	page.Items[2].OwnerIds = []string{"u1", ""}
	page.Items[2].Properties.Fields["odd"] = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{
		{}, structpb.NewNullValue(), structpb.NewBoolValue(false), structpb.NewNumberValue(-0.5),
		structpb.NewStructValue(&structpb.Struct{}), structpb.NewStringValue(strings.Repeat("é", 100)),
	}})
	page.Items[2].CreatedAt = &timestamppb.Timestamp{Seconds: -5, Nanos: -1}
	seed(0, page)
	seed(1, &crmv1.SearchRecordsResponse{Items: page.Items, NextCursor: benchCursor, HasNextPage: true, Total: -3})
	seed(2, &crmv1.StreamRecordsResponse{Items: page.Items[:1], NextCursor: "n"})
	seed(3, &crmv1.GetRecordResponse{Record: page.Items[1]})
	seed(4, &crmv1.CreateRecordResponse{Record: page.Items[2], Warnings: []string{"w", ""}})
	seed(5, &crmv1.UpdateRecordResponse{Record: &crmv1.Record{}})
	// A small answer with a bit of everything, with a defect planted at
	// each place in turn.
	small := &crmv1.CreateRecordResponse{
		Record: &crmv1.Record{
			Id: "r", ObjectName: "o", OwnerIds: []string{"a", ""}, FollowerIds: []string{"f"},
			Properties: &structpb.Struct{Fields: map[string]*structpb.Value{
				"s": structpb.NewStringValue("x"), "n": structpb.NewNumberValue(1),
				"l": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{
					structpb.NewNullValue(), structpb.NewBoolValue(true),
					structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"k": structpb.NewStringValue("v")}}),
				}}),
			}},
			CreatedAt: &timestamppb.Timestamp{Seconds: 1}, UpdatedAt: &timestamppb.Timestamp{Nanos: 1},
			RawData: &structpb.Struct{Fields: map[string]*structpb.Value{"r": structpb.NewStringValue("raw")}},
		},
		Warnings: []string{"w"},
	}
	b, err := proto.Marshal(small)
	if err != nil {
		f.Fatal(err)
	}
	var sites []func()
	breakSites(small.ProtoReflect(), &sites)
	for bad := range len(sites) + 1 {
		f.Add(uint8(4), b, uint16(bad))
	}
	// Unknown fields: a field the responses do not have, and a known
	// field number with the wrong wire type.
	f.Add(uint8(0), protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 1), uint16(0))
	f.Add(uint8(3), []byte{0x0a, 0x02, 0x08, 0x01}, uint16(0))

	c := New(quietLog())
	f.Fuzz(func(t *testing.T, kind uint8, data []byte, bad uint16) {
		m := types[int(kind)%len(types)]()
		if proto.Unmarshal(data, m) != nil {
			return
		}
		if bad != 0 {
			var sites []func()
			breakSites(m.ProtoReflect(), &sites)
			sites[int(bad)%len(sites)]()
		}
		_, invalid := proto.Marshal(m)
		if gaveUp, want := checkSame(t, m), invalid != nil; gaveUp != want {
			t.Fatalf("fast path gave up: %v, want %v (proto.Marshal: %v)", gaveUp, want, invalid)
		}
		checkCodec(t, c, m)
	})
}
