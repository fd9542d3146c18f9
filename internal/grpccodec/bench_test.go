package grpccodec

import (
	"encoding/json"
	"testing"
	"time"

	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/structwire"
)

// benchRaw is a GHL record as the GHL fake answers GET .../records/{id}
// (the one internal/unified's hot-path benchmarks convert).
const benchRaw = `{"id":"6b02d7d9cc77358d7720bda2","owner":[],"followers":[],"properties":{"age":0,"birthday":"2010-01-01","email":"owner0@example.com","name":"Buddy 0","notes":"Demo pet number 0.","phone":"+15550000000","price":{"currency":"default","value":50},"species":"dog","tags":["friendly","playful"],"vaccinated":["rabies"]},"dateAdded":"2026-11-22T11:54:01.264Z","dateUpdated":"2026-11-22T11:54:01.264Z","createdAt":"2026-11-22T11:54:01.264Z","updatedAt":"2026-11-22T11:54:01.264Z","locationId":"benchLocation0000000","objectId":"6b02d7d9cc77358d7720bda1","objectKey":"custom_objects.pet","createdBy":{"channel":"API","createdAt":"2026-11-22T11:54:01.264Z","source":"PUBLIC_API","sourceId":"4c96523de1368c275bd9"},"lastUpdatedBy":{"channel":"API","createdAt":"2026-11-22T11:54:01.264Z","source":"PUBLIC_API","sourceId":"4c96523de1368c275bd9"}}`

// benchCursor is a next_cursor as ListRecords writes it.
const benchCursor = "eyJ2IjoxLCJjIjoiY29ubl9naGxfMDEyMzQ1Njc4OWFiY2RlZiIsInQiOiJyZWNvcmRzOnBldCIsInEiOiIiLCJwIjoiZXlKaElqcGJNVGN3TURBd01EQXdNREF3TURBc0lqWmlNREprTjJRNVkyTTNOek0xT0dRM056SXdZbVJoTWlKZExDSnVJam94TURCOSJ9"

// benchRecord is a record as ListRecords answers it: the GHL record's
// properties as a Struct, no owners or followers (empty, not nil), both
// timestamps, and raw_data only when asked for. Each call builds its own
// Structs, as recordToProto does.
func benchRecord(tb testing.TB, raw bool) *crmv1.Record {
	tb.Helper()
	var full map[string]any
	if err := json.Unmarshal([]byte(benchRaw), &full); err != nil {
		tb.Fatal(err)
	}
	props, err := structpb.NewStruct(full["properties"].(map[string]any))
	if err != nil {
		tb.Fatal(err)
	}
	t := timestamppb.New(time.Date(2026, 11, 22, 11, 54, 1, 264_000_000, time.UTC))
	r := &crmv1.Record{
		Id: "6b02d7d9cc77358d7720bda2", ObjectName: "pet", Properties: props,
		OwnerIds: []string{}, FollowerIds: []string{}, CreatedAt: t, UpdatedAt: proto.Clone(t).(*timestamppb.Timestamp),
	}
	if raw {
		if r.RawData, err = structpb.NewStruct(full); err != nil {
			tb.Fatal(err)
		}
	}
	return r
}

// benchPage is ListRecords' answer for a page of n records.
func benchPage(tb testing.TB, n int, raw bool) *crmv1.ListRecordsResponse {
	tb.Helper()
	out := &crmv1.ListRecordsResponse{NextCursor: benchCursor, HasNextPage: true}
	for range n {
		out.Items = append(out.Items, benchRecord(tb, raw))
	}
	return out
}

// BenchmarkMarshalListPage is the gRPC encoding of a page of 100 records:
// grpc-go's proto codec (proto.Size, then proto.Marshal into a pooled
// buffer) and this package's Codec. Each iteration frees the result, as
// the transport does once it is written.
func BenchmarkMarshalListPage(b *testing.B) {
	for _, raw := range []bool{false, true} {
		page := benchPage(b, 100, raw)
		name := ""
		if raw {
			name = "_raw_data"
		}
		for _, c := range []struct {
			name  string
			codec encoding.CodecV2
		}{{"proto", encoding.GetCodecV2(Name)}, {"fast", New(quietLog())}} {
			b.Run(c.name+name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(proto.Size(page)))
				for b.Loop() {
					out, err := c.codec.Marshal(page)
					if err != nil {
						b.Fatal(err)
					}
					out.Free()
				}
			})
		}
	}
	// Properties in wire form, as ListRecords answers a page of records
	// whose properties come as JSON (internal/structwire): the codec
	// copies them.
	page := benchPage(b, 100, false)
	var full struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(benchRaw), &full); err != nil {
		b.Fatal(err)
	}
	var w structwire.Writer
	for _, r := range page.Items {
		props, ok := w.AppendField(nil, 3, string(full.Properties))
		if !ok {
			b.Fatal("structwire refused the properties")
		}
		r.Properties = nil
		r.ProtoReflect().SetUnknown(props)
	}
	b.Run("fast_spliced", func(b *testing.B) {
		c := New(quietLog())
		b.ReportAllocs()
		b.SetBytes(int64(proto.Size(page)))
		for b.Loop() {
			out, err := c.Marshal(page)
			if err != nil {
				b.Fatal(err)
			}
			out.Free()
		}
	})
}
