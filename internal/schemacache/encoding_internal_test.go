package schemacache

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"os"
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
	// Entries written by earlier versions still decode: plain JSON, and
	// DEFLATE without a dictionary.
	var undictionaried bytes.Buffer
	undictionaried.WriteByte(markerFlate)
	zw, _ := flate.NewWriter(&undictionaried, flate.BestSpeed)
	_, _ = zw.Write(plain)
	_ = zw.Close()
	for name, entry := range map[string][]byte{"plain JSON": plain, "DEFLATE": undictionaried.Bytes()} {
		var old crm.Schema
		if err := decode(entry, &old); err != nil || !reflect.DeepEqual(old, s) {
			t.Fatalf("%s entry: %v", name, err)
		}
	}
	// The dictionary is what the entry needs to be read.
	if err := decode(append([]byte{markerFlate}, b[1:]...), &crm.Schema{}); err == nil {
		t.Error("an entry decoded without its dictionary")
	}
	// Corrupt entries fail (the caller refetches).
	for _, bad := range [][]byte{nil, {markerFlate}, {markerFlate, 0xff, 0x00}, {markerFlateDict}, b[:len(b)/2]} {
		var v crm.Schema
		if err := decode(bad, &v); err == nil {
			t.Errorf("decode(%x) succeeded", bad)
		}
	}
}

// ghlPetSchema is what the GHL adapter makes of the fake's demo object
// (ten fields of seven types, with GHL's raw details).
func ghlPetSchema(tb testing.TB) crm.Schema {
	tb.Helper()
	b, err := os.ReadFile("testdata/ghl-pet-schema.json")
	if err != nil {
		tb.Fatal(err)
	}
	var s crm.Schema
	if err := json.Unmarshal(b, &s); err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkEncodeEntry is what storing a fetched schema costs (a miss).
func BenchmarkEncodeEntry(b *testing.B) {
	s := ghlPetSchema(b)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		raw, err := encode(s)
		if err != nil {
			b.Fatal(err)
		}
		n = len(raw)
	}
	b.ReportMetric(float64(n), "bytes/entry")
}

// BenchmarkDecodeEntry is what a hit in the encoded tier costs when the
// decoded hot set misses.
func BenchmarkDecodeEntry(b *testing.B) {
	raw, err := encode(ghlPetSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var s crm.Schema
		if err := decode(raw, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompact is what a schema decoded for the hot set costs on top
// of BenchmarkDecodeEntry.
func BenchmarkCompact(b *testing.B) {
	raw, err := encode(ghlPetSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	ss := make([]crm.Schema, 1000)
	for i := range ss {
		if err := decode(raw, &ss[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		compact(&ss[i%len(ss)])
		i++
	}
}

// TestCompact: compacting a decoded schema changes no value.
func TestCompact(t *testing.T) {
	s := ghlPetSchema(t)
	s.Properties = append(s.Properties, crm.Property{ID: "many", Type: "future_type", RawDetails: map[string]any{
		"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7", "h": "8", "i": "9", "parentId": 1.5}})
	s.Properties = append(s.Properties, crm.Property{ID: "again", RawDetails: map[string]any{"a": "1", "b": "x", "parentId": "p"}})
	raw, err := encode(s)
	if err != nil {
		t.Fatal(err)
	}
	var got, want crm.Schema
	if err := decode(raw, &got); err != nil {
		t.Fatal(err)
	}
	if err := decode(raw, &want); err != nil {
		t.Fatal(err)
	}
	compact(&got)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("compact changed the schema:\n got %+v\nwant %+v", got, want)
	}
}
