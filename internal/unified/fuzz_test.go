package unified

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

// Fuzzing of the REST edge: JSON bodies decoded as the gateway does
// (protojson, unknown fields refused) into the request messages, then the
// validation the service runs before any provider call; and the path
// parameters. Every input must be accepted or refused with a
// *crm.ValidationError naming a field — never a panic, never another error
// (which would be a 500).
//
//	go test ./internal/unified -run '^$' -fuzz FuzzRecordBody -fuzztime 10s
//	go test ./internal/unified -run '^$' -fuzz FuzzSearchBody -fuzztime 10s
//	go test ./internal/unified -run '^$' -fuzz FuzzSchemaBodies -fuzztime 10s
//	go test ./internal/unified -run '^$' -fuzz FuzzPathParams -fuzztime 10s
//	go test ./internal/unified -run '^$' -fuzz FuzzDecodeCursor -fuzztime 10s

// restUnmarshal decodes a body as the REST facade does (server.go).
var restUnmarshal = protojson.UnmarshalOptions{DiscardUnknown: false}

// requireValidation fails unless err is nil or a ValidationError whose
// violations all name a field under prefix.
func requireValidation(t *testing.T, err error, prefixes ...string) {
	t.Helper()
	if err == nil {
		return
	}
	var ve *crm.ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) == 0 {
		t.Fatalf("not a validation error: %T %v", err, err)
	}
	for _, v := range ve.Violations {
		ok := false
		for _, p := range prefixes {
			ok = ok || strings.HasPrefix(v.Field, p)
		}
		if !ok || v.Description == "" {
			t.Fatalf("violation %+v names no field under %v", v, prefixes)
		}
	}
}

// recordBody runs what CreateRecord/UpdateRecord check before the
// provider: the path's object name, the body's owner/follower ids and the
// properties against the object's schema.
func recordBody(t *testing.T, in *crmv1.RecordInput, partial bool) {
	requireValidation(t, checkObjectName("object_name", "pet"), "object_name")
	if in == nil {
		return
	}
	props := in.GetProperties().AsMap()
	for _, id := range append(in.GetOwnerIds(), in.GetFollowerIds()...) {
		requireValidation(t, checkID("record.owner_ids", id), "record.owner_ids")
	}
	err := validateRecord(petSchema(), props, partial)
	requireValidation(t, err, "record.properties.")
	if err == nil {
		// What passed validation converts back for the answer.
		if r, err := recordToProto(crm.Record{ID: "r1", ObjectName: "pet", Properties: props}, false); err != nil || r.GetProperties() == nil {
			t.Fatalf("valid properties %v do not convert back", props)
		}
		if !partial {
			if _, ok := props["name"]; !ok {
				t.Fatal("a create without the required name passed")
			}
		}
	}
}

func FuzzRecordBody(f *testing.F) {
	for _, s := range []string{
		`{"record":{"properties":{"name":"Rex","species":"dog","age":4,"price":{"currency":"default","value":120},"tags":["a"]}}}`,
		`{"record":{"properties":{"name":"Rex","age":"four"}}}`,
		`{"record":{"properties":{"name":"Rex","birthday":"2024-02-30","seen":"2024-01-01T00:00:00Z","email":"a@b.co","site":"https://x.y"}}}`,
		`{"record":{"properties":{"name":null,"files":[{"url":"https://f"}],"alive":true,"extra":{"a":[1,2,{"b":null}]}}}}`,
		`{"record":{"properties":{"name":"R","price":{"value":1e308,"currency":7,"x":1}},"owner_ids":["u_1","bad id"],"follower_ids":[""]}}`,
		`{"record":{}}`, `{}`, `{"record":null}`, `{"unknown":1}`, `[]`, `null`, ``,
		`{"record":{"properties":{"name":"\u0000\ud800"}}}`, `{"object_name":"pet","record":{"properties":{"tags":"a"}}}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, update bool) {
		if update {
			var req crmv1.UpdateRecordRequest
			if restUnmarshal.Unmarshal(body, &req) == nil {
				recordBody(t, req.GetRecord(), true)
			}
			return
		}
		var req crmv1.CreateRecordRequest
		if restUnmarshal.Unmarshal(body, &req) == nil {
			recordBody(t, req.GetRecord(), false)
		}
	})
}

func FuzzSearchBody(f *testing.F) {
	good := encodeCursor("conn_a", "search:pet", "Buddy", "p1")
	for _, s := range []string{
		`{"query":"Buddy","page_size":3}`,
		`{"query":"Buddy","page_size":3,"cursor":"` + good + `"}`,
		`{"query":"other","cursor":"` + good + `"}`,
		`{"page_size":-1}`, `{"page_size":2147483647}`, `{"page_size":"7"}`, `{"cursor":"%%%"}`, `{}`, `x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req crmv1.SearchRecordsRequest
		if restUnmarshal.Unmarshal(body, &req) != nil {
			return
		}
		n, err := pageSize(req.GetPageSize())
		requireValidation(t, err, "page_size")
		if err == nil && (n < 1 || n > MaxPageSize) {
			t.Fatalf("page size %d accepted as %d", req.GetPageSize(), n)
		}
		p, err := decodeCursor(req.GetCursor(), "conn_a", "search:pet", req.GetQuery())
		requireValidation(t, err, "cursor")
		if err == nil && req.GetCursor() != "" && p == "" {
			t.Fatalf("cursor %q accepted without a provider cursor", req.GetCursor())
		}
	})
}

func FuzzSchemaBodies(f *testing.F) {
	for _, s := range []string{
		`{"name":"pet","labels":{"singular":"Pet","plural":"Pets"},"primary_field_id":"name","fields":[{"id":"name","label":"Name","type":"text"}]}`,
		`{"name":"Pet","fields":[{"id":"1x","type":"picklist","options":[{"value":""},{"value":"a"},{"value":"a"}]}]}`,
		`{"id":"age","label":"Age","type":"number","raw_details":{"ghl_data_type":"NUMERICAL"}}`,
		`{"id":"kind","label":"Kind","type":"multipicklist","options":[]}`,
		`{"id":"x","label":" ","type":"boolean","precision":-1}`, `{"type":"nope"}`, `{}`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var obj crmv1.CreateObjectRequest
		if restUnmarshal.Unmarshal(body, &obj) == nil {
			requireValidation(t, checkObjectName("name", obj.GetName()), "name")
			for _, p := range obj.GetFields() {
				if vs := checkPropertyDef("fields[0]", propertyFromProto(p)); len(vs) > 0 {
					requireValidation(t, &crm.ValidationError{Violations: vs}, "fields[0].")
				}
			}
		}
		var prop crmv1.Property // the body of CreateProperty is a Property
		if restUnmarshal.Unmarshal(body, &prop) == nil {
			p := propertyFromProto(&prop)
			vs := checkPropertyDef("property", p)
			if len(vs) > 0 {
				requireValidation(t, &crm.ValidationError{Violations: vs}, "property.")
				return
			}
			back := propertyToProto(p)
			if back.GetId() != prop.GetId() || back.GetType() != prop.GetType() {
				t.Fatalf("a valid property does not round-trip: %v -> %v", &prop, back)
			}
			if _, err := proto.Marshal(back); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzPathParams(f *testing.F) {
	for _, s := range []string{"pet", "custom_objects.pet", "Pet", "a_1", "", "x/../y", "%2F", "rec_ABC-123", strings.Repeat("a", 129), "\x00", "é"} {
		f.Add(s, int32(0))
	}
	f.Add("pet", int32(-5))
	f.Add("pet", int32(1000))
	f.Fuzz(func(t *testing.T, s string, size int32) {
		if err := checkObjectName("object_name", s); err == nil {
			if len(s) == 0 || len(s) > 64 || !utf8.ValidString(s) || strings.ContainsAny(s, "/.%-") || s[0] < 'a' || s[0] > 'z' {
				t.Fatalf("object name %q accepted", s)
			}
		} else {
			requireValidation(t, err, "object_name")
		}
		if err := checkID("id", s); err == nil {
			if len(s) == 0 || len(s) > 128 || strings.ContainsAny(s, "/.%?#") {
				t.Fatalf("id %q accepted", s)
			}
		} else {
			requireValidation(t, err, "id")
		}
		if err := checkPropertyID("property_id", s); err == nil {
			if len(s) == 0 || len(s) > 100 || strings.ContainsAny(s, "/.%-") {
				t.Fatalf("property id %q accepted", s)
			}
		} else {
			requireValidation(t, err, "property_id")
		}
		n, err := pageSize(size)
		requireValidation(t, err, "page_size")
		if err == nil && (n < 1 || n > MaxPageSize) {
			t.Fatalf("page size %d gave %d", size, n)
		}
	})
}
