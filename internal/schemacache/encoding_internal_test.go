package schemacache

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

func TestEncodeDecode(t *testing.T) {
	s := crm.Schema{Object: crm.Object{Name: "pet", Raw: json.RawMessage(`{"id":"o1","key":"custom_objects.pet"}`)}}
	for i := range 10 {
		s.Properties = append(s.Properties, crm.Property{ID: fmt.Sprintf("field_%d", i), Label: "Field", Type: crm.TypeText,
			RawDetails: map[string]any{"ghl_data_type": "TEXT", "ghl_field_id": fmt.Sprintf("f%d", i)}})
	}
	b, err := encode(s)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(s)
	if len(b)*2 > len(plain) {
		t.Errorf("encoded %d bytes for %d bytes of JSON: want at least 2x smaller", len(b), len(plain))
	}
	var got crm.Schema
	if err := decode(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip changed the schema:\n got %+v\nwant %+v", got, s)
	}
	// Entries written as plain JSON (earlier versions) still decode.
	var old crm.Schema
	if err := decode(plain, &old); err != nil || !reflect.DeepEqual(old, s) {
		t.Fatalf("plain JSON entry: %v", err)
	}
	// Corrupt entries fail (the caller refetches).
	for _, bad := range [][]byte{nil, {markerFlate}, {markerFlate, 0xff, 0x00}, b[:len(b)/2]} {
		var v crm.Schema
		if err := decode(bad, &v); err == nil {
			t.Errorf("decode(%x) succeeded", bad)
		}
	}
}
