package unified

// Micro-benchmarks of the unified service's per-call translation and
// validation work (go test -bench . -benchmem ./internal/unified). The
// inputs mirror the GHL fake's demo object "pet" (ten fields, seven GHL
// types) and its records; see docs/benchmarks.md for the numbers.

import (
	"encoding/json"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

// benchRaw is a GHL record as the GHL fake answers GET .../records/{id}.
const benchRaw = `{"id":"6b02d7d9cc77358d7720bda2","owner":[],"followers":[],"properties":{"age":0,"birthday":"2010-01-01","email":"owner0@example.com","name":"Buddy 0","notes":"Demo pet number 0.","phone":"+15550000000","price":{"currency":"default","value":50},"species":"dog","tags":["friendly","playful"],"vaccinated":["rabies"]},"dateAdded":"2026-11-22T11:54:01.264Z","dateUpdated":"2026-11-22T11:54:01.264Z","createdAt":"2026-11-22T11:54:01.264Z","updatedAt":"2026-11-22T11:54:01.264Z","locationId":"benchLocation0000000","objectId":"6b02d7d9cc77358d7720bda1","objectKey":"custom_objects.pet","createdBy":{"channel":"API","createdAt":"2026-11-22T11:54:01.264Z","source":"PUBLIC_API","sourceId":"4c96523de1368c275bd9"},"lastUpdatedBy":{"channel":"API","createdAt":"2026-11-22T11:54:01.264Z","source":"PUBLIC_API","sourceId":"4c96523de1368c275bd9"}}`

// benchSchema is the pet object as the GHL adapter maps it.
func benchSchema() crm.Schema {
	opts := func(vals ...string) []crm.Option {
		out := make([]crm.Option, len(vals))
		for i, v := range vals {
			out[i] = crm.Option{Value: v, Label: v}
		}
		return out
	}
	raw := func(dt string) map[string]any {
		return map[string]any{"ghl_data_type": dt, "id": "Xb3kq9ZkR2mPl0aTqW1e", "parentId": "F0ld3rIdF0ld3rIdF0ld", "showInForms": true}
	}
	return crm.Schema{
		Object: crm.Object{
			Name: "pet", Type: crm.ObjectCustom, Labels: crm.Labels{Singular: "Pet", Plural: "Pets"},
			Description: "Sample custom object seeded by ghlfake", PrimaryFieldID: "name",
			CreatedAt: time.Date(2026, 11, 22, 11, 54, 1, 0, time.UTC), UpdatedAt: time.Date(2026, 11, 22, 11, 54, 1, 0, time.UTC),
			Raw: json.RawMessage(`{"id":"6b02d7d9cc77358d7720bda1","standard":false,"key":"custom_objects.pet","labels":{"singular":"Pet","plural":"Pets"},"description":"Sample custom object seeded by ghlfake","locationId":"benchLocation0000000","primaryDisplayProperty":"custom_objects.pet.name","dateAdded":"2026-11-22T11:54:01.264Z","dateUpdated":"2026-11-22T11:54:01.264Z","type":"USER_DEFINED","searchableProperties":["custom_objects.pet.name","custom_objects.pet.email"]}`),
		},
		Properties: []crm.Property{
			{ID: "name", Label: "Name", Type: crm.TypeText, RawDetails: raw("TEXT")},
			{ID: "species", Label: "Species", Type: crm.TypePicklist, Options: opts("dog", "cat", "bird"), RawDetails: raw("SINGLE_OPTIONS")},
			{ID: "age", Label: "Age", Type: crm.TypeNumber, RawDetails: raw("NUMERICAL")},
			{ID: "price", Label: "Price", Type: crm.TypeCurrency, RawDetails: raw("MONETORY")},
			{ID: "vaccinated", Label: "Vaccinated", Type: crm.TypeMultipicklist, Options: opts("rabies", "distemper", "parvo"), RawDetails: raw("CHECKBOX")},
			{ID: "birthday", Label: "Birthday", Type: crm.TypeDate, RawDetails: raw("DATE")},
			{ID: "notes", Label: "Notes", Type: crm.TypeTextarea, RawDetails: raw("LARGE_TEXT")},
			{ID: "email", Label: "Owner Email", Type: crm.TypeEmail, RawDetails: raw("EMAIL")},
			{ID: "phone", Label: "Owner Phone", Type: crm.TypePhone, RawDetails: raw("PHONE")},
			{ID: "tags", Label: "Tags", Type: crm.TypeMultipicklist, Options: opts("friendly", "playful", "senior", "rescue"), RawDetails: raw("MULTIPLE_OPTIONS")},
		},
	}
}

// benchProps are a create body's properties (the ones crmbench sends).
func benchProps() map[string]any {
	return map[string]any{
		"name": "Rex", "species": "dog", "age": 4.0,
		"price": map[string]any{"currency": "default", "value": 120.0}, "tags": []any{"friendly"},
	}
}

// benchFullProps set every field of the schema.
func benchFullProps() map[string]any {
	p := benchProps()
	p["vaccinated"] = []any{"rabies", "parvo"}
	p["birthday"] = "2020-01-31"
	p["notes"] = "A very good dog."
	p["email"] = "owner@example.com"
	p["phone"] = "+15550000000"
	return p
}

// benchRecord is a record as the GHL adapter returns it.
func benchRecord() crm.Record {
	var r struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal([]byte(benchRaw), &r); err != nil {
		panic(err)
	}
	t := time.Date(2026, 11, 22, 11, 54, 1, 264_000_000, time.UTC)
	return crm.Record{
		ID: "6b02d7d9cc77358d7720bda2", ObjectName: "pet", Properties: r.Properties,
		OwnerIDs: []string{}, FollowerIDs: []string{}, CreatedAt: t, UpdatedAt: t, Raw: json.RawMessage(benchRaw),
	}
}

func BenchmarkValidateRecord(b *testing.B) {
	s := benchSchema()
	for _, tc := range []struct {
		name  string
		props map[string]any
	}{{"create_5_props", benchProps()}, {"create_10_props", benchFullProps()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := validateRecord(s, tc.props, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("invalid_2_violations", func(b *testing.B) {
		props := benchProps()
		props["age"] = "four"
		props["colour"] = "brown"
		b.ReportAllocs()
		for b.Loop() {
			if validateRecord(s, props, false) == nil {
				b.Fatal("want violations")
			}
		}
	})
}

// BenchmarkRecordInputFromProto is the structpb -> map conversion of a
// create body (recordInput's in.GetProperties().AsMap()).
func BenchmarkRecordInputFromProto(b *testing.B) {
	st, err := structpb.NewStruct(benchProps())
	if err != nil {
		b.Fatal(err)
	}
	in := &crmv1.RecordInput{Properties: st}
	b.ReportAllocs()
	for b.Loop() {
		_ = in.GetProperties().AsMap()
	}
}

func BenchmarkRecordToProto(b *testing.B) {
	for _, tc := range []struct {
		name string
		r    crm.Record
		raw  bool
	}{
		{"properties", benchRecord(), false},
		{"with_raw_data", benchRecord(), true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := recordToProto(tc.r, tc.raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchListResponse is ListRecords' answer for a page of 100 records.
func benchListResponse() *crmv1.ListRecordsResponse {
	r := benchRecord()
	page := make([]crm.Record, 100)
	for i := range page {
		page[i] = r
	}
	items, err := records(page, false)
	if err != nil {
		panic(err)
	}
	return &crmv1.ListRecordsResponse{
		Items:       items,
		NextCursor:  encodeCursor("conn_ghl_0123456789abcdef", "records:pet", "", "eyJhIjpbMTcwMDAwMDAwMDAwMCwiNmIwMmQ3ZDljYzc3MzU4ZDc3MjBiZGEyIl0sIm4iOjEwMH0"),
		HasNextPage: true,
	}
}

// BenchmarkListPageToProto converts a page of 100 records (ListRecords),
// their properties as JSON (as GHL's adapter hands them through) or as
// maps.
func BenchmarkListPageToProto(b *testing.B) {
	js := benchRecord()
	var err error
	if js.PropertiesJSON, err = json.Marshal(js.Properties); err != nil {
		b.Fatal(err)
	}
	js.Properties = nil
	for _, tc := range []struct {
		name string
		r    crm.Record
	}{{"json", js}, {"map", benchRecord()}} {
		b.Run(tc.name, func(b *testing.B) {
			page := make([]crm.Record, 100)
			for i := range page {
				page[i] = tc.r
			}
			b.ReportAllocs()
			for b.Loop() {
				items, err := records(page, false)
				if err != nil {
					b.Fatal(err)
				}
				_ = &crmv1.ListRecordsResponse{Items: items}
			}
		})
	}
}

// BenchmarkListPageEncode is the wire encoding of that page: protobuf for
// gRPC, and protobuf + protojson for REST (grpc-gateway decodes the
// in-process gRPC answer and marshals it with the server's JSON options).
func BenchmarkListPageEncode(b *testing.B) {
	resp := benchListResponse()
	wire, err := proto.Marshal(resp)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("proto_marshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			if _, err := proto.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("vtproto_marshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			if _, err := resp.MarshalVT(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto_unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		for b.Loop() {
			var out crmv1.ListRecordsResponse
			if err := proto.Unmarshal(wire, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	mo := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}
	js, err := mo.Marshal(resp)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("protojson_marshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(js)))
		for b.Loop() {
			if _, err := mo.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSchemaToProto(b *testing.B) {
	s := benchSchema()
	b.Run("object", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = objectToProto(s.Object, false)
		}
	})
	b.Run("10_properties", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := &crmv1.ListPropertiesResponse{Items: []*crmv1.Property{}}
			for _, p := range s.Properties {
				out.Items = append(out.Items, propertyToProto(p))
			}
		}
	})
}

// BenchmarkSchemaCacheDecode is what decoding a schema from JSON costs: what
// every schema-cache hit cost before internal/schemacache kept a decoded hot
// set (now only colder entries, and replicas reading Redis, pay it).
func BenchmarkSchemaCacheDecode(b *testing.B) {
	raw, err := json.Marshal(benchSchema())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var s crm.Schema
		if err := json.Unmarshal(raw, &s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCursor(b *testing.B) {
	const conn, target = "conn_ghl_0123456789abcdef", "records:pet"
	provider := "eyJhIjpbMTcwMDAwMDAwMDAwMCwiNmIwMmQ3ZDljYzc3MzU4ZDc3MjBiZGEyIl0sIm4iOjEwMH0"
	c := encodeCursor(conn, target, "Buddy", provider)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = encodeCursor(conn, target, "Buddy", provider)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeCursor(c, conn, target, "Buddy"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRequestChecks is the input checking every record call does
// before it resolves the connection (object name, record id, connection id).
func BenchmarkRequestChecks(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if checkObjectName("object_name", "pet") != nil || checkID("id", "6b02d7d9cc77358d7720bda2") != nil || !idName.match("conn_ghl_0123456789abcdef") {
			b.Fatal("unexpected")
		}
	}
}
