package restjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// TestRESTMarshaler: every answer is compact JSON, snake_case, counts as
// numbers, and unset fields written with their zero value (null for a
// message), whatever the message.
func TestRESTMarshaler(t *testing.T) {
	m := New()
	props, err := structpb.NewStruct(map[string]any{"name": "Rex", "age": 3.0, "tags": []any{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	at := timestamppb.New(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		name string
		msg  any
		want string
	}{
		{"record", &crmv1.GetRecordResponse{Record: &crmv1.Record{Id: "r1", ObjectName: "pet", Properties: props, CreatedAt: at}},
			`{"record":{"id":"r1","object_name":"pet","properties":{"age":3,"name":"Rex","tags":["a","b"]},"owner_ids":[],"follower_ids":[],"created_at":"2026-12-07T10:00:00Z","updated_at":null,"raw_data":null}}`},
		{"search total is a number", &crmv1.SearchRecordsResponse{Total: 42},
			`{"items":[],"next_cursor":"","has_next_page":false,"total":42}`},
		{"object", &crmv1.GetObjectResponse{Object: &crmv1.Object{Name: "pet", Labels: &crmv1.Labels{Singular: "Pet"}}},
			`{"object":{"name":"pet","type":"","labels":{"singular":"Pet","plural":""},"description":"","primary_field_id":"","created_at":null,"updated_at":null,"raw_data":null}}`},
		{"core answer", &corev1.GetConnectionResponse{},
			`{"connection":null}`},
		{"not a message", map[string]int{"a": 1}, `{"a":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Marshal(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			var buf bytes.Buffer
			if err := m.NewEncoder(&buf).Encode(tc.msg); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.want {
				t.Fatalf("encoder wrote %s", buf.String())
			}
		})
	}
}

// BenchmarkMarshal is the REST answer of a page of 100 records:
// runtime.JSONPb (protojson) compacted, and Marshal.
//
//	go test -run '^$' -bench Marshal -benchmem ./internal/restjson
func BenchmarkMarshal(b *testing.B) {
	page := &crmv1.ListRecordsResponse{NextCursor: "c", HasNextPage: true}
	for i := range 100 {
		props, err := structpb.NewStruct(map[string]any{
			"name": fmt.Sprint("Rex ", i), "species": "dog", "age": 3.0, "birthday": "2021-06-15",
			"email": "rex@example.com", "phone": "+15551234567", "notes": "Good boy",
			"price": map[string]any{"currency": "default", "value": 120.0},
			"tags":  []any{"friendly", "rescue"}, "vaccinated": []any{"rabies", "parvo"},
		})
		if err != nil {
			b.Fatal(err)
		}
		page.Items = append(page.Items, &crmv1.Record{Id: fmt.Sprint("rec_", i), ObjectName: "pet", Properties: props,
			CreatedAt: timestamppb.Now(), UpdatedAt: timestamppb.Now()})
	}
	m := New()
	b.Run("impl=protojson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.marshalProtojson(page); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=restjson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Marshal(page); err != nil {
				b.Fatal(err)
			}
		}
	})
	out, _ := m.Marshal(page)
	if !json.Valid(out) {
		b.Fatal("invalid JSON")
	}
}
