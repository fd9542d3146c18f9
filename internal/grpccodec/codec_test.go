package grpccodec

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/encoding"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

func page(n int) *crmv1.ListRecordsResponse {
	at := timestamppb.New(time.Date(2026, 12, 7, 10, 0, 0, 5, time.UTC))
	out := &crmv1.ListRecordsResponse{NextCursor: "c", HasNextPage: true}
	for i := range n {
		props, err := structpb.NewStruct(map[string]any{
			"name": fmt.Sprint("Rex ", i), "age": float64(i), "ok": i%2 == 0, "none": nil,
			"price": map[string]any{"currency": "default", "value": 120.5},
			"tags":  []any{"a", float64(i), []any{}, map[string]any{}},
		})
		if err != nil {
			panic(err)
		}
		out.Items = append(out.Items, &crmv1.Record{
			Id: fmt.Sprint("rec_", i), ObjectName: "pet", Properties: props,
			OwnerIds: []string{"u1"}, CreatedAt: at, UpdatedAt: at,
		})
	}
	return out
}

// TestRoundTrip: what the codec writes is protobuf (proto.Unmarshal reads
// it back to an equal message) and what it reads is protobuf, for small
// answers and for answers large enough to come from the buffer pool, and
// for messages without vtprotobuf code (the health service's), which go
// to grpc-go's own codec.
func TestRoundTrip(t *testing.T) {
	c := New()
	if c.Name() != "proto" {
		t.Fatalf("name %q", c.Name())
	}
	for _, tc := range []struct {
		name string
		msg  proto.Message
		new  func() proto.Message
	}{
		{"empty", &crmv1.ListRecordsResponse{}, func() proto.Message { return new(crmv1.ListRecordsResponse) }},
		{"one record", page(1), func() proto.Message { return new(crmv1.ListRecordsResponse) }},
		{"page of 100 (pooled buffer)", page(100), func() proto.Message { return new(crmv1.ListRecordsResponse) }},
		{"search total", &crmv1.SearchRecordsResponse{Total: 12345}, func() proto.Message { return new(crmv1.SearchRecordsResponse) }},
		{"no vtprotobuf code", &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, func() proto.Message { return new(healthpb.HealthCheckResponse) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := c.Marshal(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			wire := data.Materialize()
			data.Free()
			back := tc.new()
			if err := proto.Unmarshal(wire, back); err != nil {
				t.Fatalf("proto.Unmarshal of the codec's bytes: %v", err)
			}
			if !proto.Equal(back, tc.msg) {
				t.Fatalf("round trip through proto.Unmarshal:\n got %v\nwant %v", back, tc.msg)
			}
			std, err := proto.Marshal(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			// Split in two buffers, as a message can arrive.
			half := len(std) / 2
			got := tc.new()
			if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(std[:half]), mem.SliceBuffer(std[half:])}, got); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tc.msg) {
				t.Fatalf("codec unmarshal of proto.Marshal's bytes:\n got %v\nwant %v", got, tc.msg)
			}
		})
	}
}

// TestUnmarshalDoesNotAlias: a decoded message keeps none of the buffer,
// which goes back to the pool.
func TestUnmarshalDoesNotAlias(t *testing.T) {
	std, err := proto.Marshal(page(3))
	if err != nil {
		t.Fatal(err)
	}
	buf := append([]byte(nil), std...)
	var got crmv1.ListRecordsResponse
	if err := New().Unmarshal(mem.BufferSlice{mem.SliceBuffer(buf)}, &got); err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 0
	}
	if !proto.Equal(&got, page(3)) {
		t.Fatal("decoded message changed with its input buffer")
	}
}

func TestBadInput(t *testing.T) {
	var got crmv1.ListRecordsResponse
	if err := New().Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{0x0a, 0xff})}, &got); err == nil {
		t.Fatal("truncated message decoded without error")
	}
	if _, err := New().Marshal(struct{}{}); err == nil {
		t.Fatal("a non-message marshalled without error")
	}
}

var _ encoding.CodecV2 = New()

// BenchmarkMarshalListPage compares grpc-go's codec (reflection) with
// this one on a page of 100 records:
//
//	go test -run '^$' -bench MarshalListPage -benchmem ./internal/grpccodec
func BenchmarkMarshalListPage(b *testing.B) {
	msg := page(100)
	for _, tc := range []struct {
		name  string
		codec encoding.CodecV2
	}{{"grpc-go", encoding.GetCodecV2(Name)}, {"vtprotobuf", New()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				data, err := tc.codec.Marshal(msg)
				if err != nil {
					b.Fatal(err)
				}
				data.Free()
			}
		})
	}
}
