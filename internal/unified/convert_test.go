package unified

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

// reference is what a record's proto must be: structpb's own
// constructors, message by message (validUTF8 aside, which structpb
// refuses instead of repairing).
func reference(t *testing.T, r crm.Record, raw bool) *crmv1.Record {
	t.Helper()
	m, err := r.PropertyMap()
	if err != nil {
		t.Fatalf("reference properties: %v", err)
	}
	props, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatalf("reference struct: %v", err)
	}
	out := &crmv1.Record{
		Id: r.ID, ObjectName: r.ObjectName, Properties: props,
		OwnerIds: r.OwnerIDs, FollowerIds: r.FollowerIDs,
	}
	if !r.CreatedAt.IsZero() {
		out.CreatedAt = timestamppb.New(r.CreatedAt)
	}
	if !r.UpdatedAt.IsZero() {
		out.UpdatedAt = timestamppb.New(r.UpdatedAt)
	}
	if raw && len(r.Raw) > 0 {
		var m map[string]any
		if err := json.Unmarshal(r.Raw, &m); err != nil {
			t.Fatalf("reference raw: %v", err)
		}
		if out.RawData, err = structpb.NewStruct(m); err != nil {
			t.Fatalf("reference raw struct: %v", err)
		}
	}
	return out
}

// TestRecordsBuilder checks the block builder against structpb on records
// of every value kind, on pages long enough to span several blocks (512
// values each at most) and lists longer than the shared element slices.
func TestRecordsBuilder(t *testing.T) {
	long := make([]any, 100) // > 64: its own element slice
	for i := range long {
		long[i] = float64(i)
	}
	at := time.Date(2026, 11, 22, 11, 54, 1, 264_000_000, time.UTC)
	record := func(i int) crm.Record {
		return crm.Record{
			ID: fmt.Sprintf("rec_%03d", i), ObjectName: "pet",
			Properties: map[string]any{
				"name":   fmt.Sprintf("Rex %d", i),
				"age":    float64(i),
				"ok":     i%2 == 0,
				"none":   nil,
				"price":  map[string]any{"currency": "default", "value": 120.5},
				"tags":   []any{"friendly", fmt.Sprint(i), []any{}, map[string]any{}},
				"nested": map[string]any{"a": map[string]any{"b": []any{nil, true, -0.5}}},
			},
			OwnerIDs: []string{"u1"}, FollowerIDs: []string{},
			CreatedAt: at, UpdatedAt: at.Add(time.Duration(i) * time.Second),
			Raw: json.RawMessage(fmt.Sprintf(`{"id":"rec_%03d","properties":{"n":%d}}`, i, i)),
		}
	}
	cases := []struct {
		name string
		page []crm.Record
		raw  bool
	}{
		{"empty page", nil, false},
		{"one record", []crm.Record{record(0)}, false},
		{"record without properties or times", []crm.Record{{ID: "r", ObjectName: "pet"}}, false},
		{"long list", []crm.Record{{ID: "r", ObjectName: "pet", Properties: map[string]any{"l": long}}}, false},
		{"page of 100", nil, false},
		{"page of 100 with raw data", nil, true},
	}
	for i := range 100 {
		cases[4].page = append(cases[4].page, record(i))
	}
	cases[5].page = cases[4].page
	// A first record far larger than the rest: its blocks are bounded
	// (maxFirstBlock), the rest of the page still converts.
	big := record(0)
	for i := range 5000 {
		big.Properties[fmt.Sprint("p", i)] = []any{fmt.Sprint(i), float64(i)}
	}
	cases = append(cases, struct {
		name string
		page []crm.Record
		raw  bool
	}{"large first record", []crm.Record{big, record(1), record(2)}, false})
	// Each page again with its properties as JSON, as an adapter that
	// hands its provider's JSON through delivers them.
	for _, tc := range cases {
		var page []crm.Record
		for _, r := range tc.page {
			if r.Properties != nil {
				js, err := json.Marshal(r.Properties)
				if err != nil {
					t.Fatal(err)
				}
				r.Properties, r.PropertiesJSON = nil, js
			}
			page = append(page, r)
		}
		cases = append(cases, struct {
			name string
			page []crm.Record
			raw  bool
		}{tc.name + " as JSON", page, tc.raw})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkRecords(t, tc.page, tc.raw) })
	}
}

// checkRecords converts page and compares each record with the
// reference conversion.
func checkRecords(t *testing.T, page []crm.Record, raw bool) {
	t.Helper()
	got, err := records(page, raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(page) {
		t.Fatalf("got %d records, want %d", len(got), len(page))
	}
	for i, r := range page {
		want := reference(t, r, raw)
		if !proto.Equal(got[i], want) {
			t.Fatalf("record %d:\n got %v\nwant %v", i, got[i], want)
		}
		if one, err := recordToProto(r, raw); err != nil || !proto.Equal(one, want) {
			t.Fatalf("recordToProto %d:\n got %v\nwant %v", i, one, want)
		}
	}
	// Messages from one builder share blocks, not values: changing one
	// record's properties leaves the others as they were.
	if len(got) > 1 {
		got[0].GetProperties().GetFields()["name"].Kind = &structpb.Value_StringValue{StringValue: "changed"}
		got[0].GetProperties().GetFields()["tags"].GetListValue().Values[0] = structpb.NewBoolValue(false)
		if !proto.Equal(got[1], reference(t, page[1], raw)) {
			t.Fatalf("record 1 changed with record 0: %v", got[1])
		}
	}
}

// TestRecordsBuilderRepairsUTF8 checks that invalid UTF-8 in keys and
// strings is replaced, as protobuf strings must be valid.
func TestRecordsBuilderRepairsUTF8(t *testing.T) {
	got, err := recordToProto(crm.Record{ID: "r", Properties: map[string]any{"k\xff": "v\xfe", "l": []any{"\xff"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	want, err := structpb.NewStruct(map[string]any{"k\uFFFD": "v\uFFFD", "l": []any{"\uFFFD"}})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got.GetProperties(), want) {
		t.Fatalf("got %v, want %v", got.GetProperties(), want)
	}
	if _, err := proto.Marshal(got); err != nil {
		t.Fatalf("marshal: %v", err)
	}
}

// TestJSONStructMatchesMap: properties as JSON become the same Struct as
// what encoding/json decodes them into, edge cases included (duplicate
// names, escapes, invalid UTF-8, numbers at float64's edges); JSON that
// encoding/json refuses is refused.
func TestJSONStructMatchesMap(t *testing.T) {
	for _, js := range []string{
		`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"s":"\u00e9\n\"x\"","t":"\ud83d\ude00"}`, "{\"k\xff\":\"v\xfe\"}",
		`{"n":[1,-0.5,1e308,5e-324,0,-0]}`, `{"deep":{"a":{"b":[[],[{}],null,true,false]}}}`,
		` { "sp" : [ 1 , 2 ] } `,
	} {
		checkJSONStruct(t, []byte(js))
	}
	for _, bad := range []string{`[]`, `null`, `{"a":1e309}`, `{"a":}`, `{"a":1} {}`, `{"a":1`, `"x"`} {
		r := crm.Record{ID: "r", PropertiesJSON: []byte(bad)}
		if _, err := recordToProto(r, false); err == nil {
			t.Errorf("%q: converted without error", bad)
		}
	}
}

func checkJSONStruct(t *testing.T, js []byte) {
	t.Helper()
	if len(js) == 0 {
		return // no properties JSON: the record has none
	}
	var m map[string]any
	mapErr := json.Unmarshal(js, &m)
	if mapErr == nil && m == nil {
		mapErr = errNotObject
	}
	got, err := recordToProto(crm.Record{ID: "r", PropertiesJSON: js}, false)
	if (err != nil) != (mapErr != nil) {
		t.Fatalf("%q: error %v, encoding/json's %v", js, err, mapErr)
	}
	if err != nil {
		return
	}
	want, _ := recordToProto(crm.Record{ID: "r", Properties: m}, false)
	if !proto.Equal(got, want) {
		t.Fatalf("%q:\n got %v\nwant %v", js, got.GetProperties(), want.GetProperties())
	}
}

func FuzzJSONStruct(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":[1,"x",null,{"b":true}]}`, `{"a":1e309}`, `[]`, `{"a":"\u00e9"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, js []byte) { checkJSONStruct(t, js) })
}
