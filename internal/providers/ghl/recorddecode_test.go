package ghl

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

// The one-pass record decoder must give exactly what encoding/json gives
// whenever it accepts an answer (and it must accept the usual answers).
//
//	go test ./internal/providers/ghl -run '^$' -fuzz FuzzFastRecordDecoder -fuzztime 60s

var fastDecoderSeeds = []string{
	`{"record":` + benchGHLRecord + `}`,
	benchSearchPage(3),
	`{"records":null,"total":null}`,
	`{"records":[],"total":0}`,
	`{"total":2,"records":[{"id":"a"},{"id":"b","searchAfter":null}],"extra":{"x":[1,2,{"y":null}]}}`,
	` {"record" : {"id":"r1","owner":null,"followers":[null,"u"],"properties":null}} `,
	`{"record":{"id":"r\u00e9","properties":{"n\u00e9":"caf\u00e9","k":"\ud83d\ude00","e":"","t":true,"f":false,"z":null,"a":[],"o":{}}}}`,
	`{"record":{"id":"r1","properties":{"n":-0,"m":1.5e3,"x":1E-2,"big":1e308,"huge":1e309}}}`,
	`{"record":{"id":"r1","properties":{"n":-0,"m":1.5e3,"x":1E-2,"big":1e308,"neg":-12.5e-3,"deep":[[{"a":[{}]}]]}}}`,
	`{"record":{"ID":"r1"}}`,
	`{"Record":{"id":"r1"}}`,
	`{"record":{"id":"r1","id":"r2"}}`,
	`{"record":{"id":"r1","properties":{"a":1},"properties":{"b":2}}}`,
	`{"record":{"id":"r1","properties":{"a":1,"a":2}}}`,
	`{"record":{"id":"r1"}} x`,
	`{"record":{"id":"r1"}}]`,
	`{"record":{"id":"r1","owner":[1]}}`,
	`{"record":{"id":5}}`,
	`{"record":{"id":"r1","\u0069d":"r2"}}`,
	`{"record":{"id":"r1","ſearchAfter":[1]}}`,
	`{"record":{"id":"r1","searchAfter":[1, "x"]}}`,
	"{\"record\":{\"id\":\"r\xff1\",\"properties\":{\"k\xfe\":\"v\xfd\"}}}",
	`{"record":{"id":"r1","properties":{"a":01}}}`,
	`{"record":{"id":"r1","properties":{"a":"\x"}}}`,
	`{"record":null}`,
	`{"record":[]}`,
	`{"records":[null]}`,
	`{"records":[{"id":"a"}],"total":"1"}`,
	`{"records":[{"id":"a"}],"total":1e999}`,
	`{"record":{"id":""}}`,
	``, `{}`, `[]`, `null`,
}

func FuzzFastRecordDecoder(f *testing.F) {
	for _, s := range append(fastDecoderSeeds, ghlSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastRecord(t, data)
		checkFastSearch(t, data, false)
		checkFastSearch(t, data, true)
	})
}

func TestFastRecordDecoder(t *testing.T) {
	for _, s := range append(fastDecoderSeeds, ghlSeeds...) {
		checkFastRecord(t, []byte(s))
		checkFastSearch(t, []byte(s), false)
		checkFastSearch(t, []byte(s), true)
	}
	// The usual answers take the fast path.
	for _, s := range []string{`{"record":` + benchGHLRecord + `}`, fastDecoderSeeds[5], fastDecoderSeeds[6]} {
		if _, _, ok := fastRecordAnswer([]byte(s)); !ok {
			t.Errorf("fast path refused %s", s)
		}
	}
	for _, s := range []string{benchSearchPage(100), fastDecoderSeeds[2], fastDecoderSeeds[4]} {
		if _, _, _, ok := fastSearchAnswer([]byte(s), true); !ok {
			t.Errorf("fast path refused %.200s", s)
		}
	}
	// Neutral properties are handed through as JSON; dotted (TEXTBOX_LIST)
	// or escaped keys are decoded into a map to be regrouped.
	// Canonical JSON (jsonscan) is marked so, for JSON answers to copy.
	for _, tc := range []struct {
		props              string
		through, canonical bool
	}{
		{`{"name":"Rex","age":4,"price":{"currency":"default","value":50},"tags":["a"],"n":null}`, true, false},
		{`{"age":4,"n":null,"name":"Rex","price":{"currency":"default","value":50},"tags":["a"]}`, true, true},
		{`{"age":4.5}`, true, false},
		{`{"age": 4}`, true, false},
		{`{}`, true, true},
		{`{"name":"Caf\u00e9 \"R\""}`, true, false},
		{`{"name":"Café"}`, true, true},
		{`{"boxes.a":"x","name":"Rex"}`, false, false},
		{`{"boxes\u002ea":"x"}`, false, false},
		{`{"n":1e999}`, false, false}, // encoding/json refuses it: no fast path at all
	} {
		r, _, ok := fastRecordAnswer([]byte(`{"record":{"id":"r1","properties":` + tc.props + `}}`))
		if through := ok && r.propsJSON != ""; through != tc.through {
			t.Errorf("%s: handed through %v, want %v (fast path %v, map %v)", tc.props, through, tc.through, ok, r.Properties)
		}
		if tc.through && r.propsJSON != tc.props {
			t.Errorf("handed through %q, want %q", r.propsJSON, tc.props)
		}
		if r.propsCanonical != tc.canonical {
			t.Errorf("%s: canonical %v, want %v", tc.props, r.propsCanonical, tc.canonical)
		}
		if rec, err := recordFromDecoded("pet", r); ok && (err != nil || rec.PropertiesCanonical != tc.canonical) {
			t.Errorf("%s: mapped record canonical %v (%v), want %v", tc.props, rec.PropertiesCanonical, err, tc.canonical)
		}
	}
}

// checkFastRecord: when the fast path accepts a {"record"} answer, the
// encoding/json path gives the same record and raw JSON.
func checkFastRecord(t *testing.T, data []byte) {
	t.Helper()
	in := bytes.Clone(data)
	r, raw, ok := fastRecordAnswer(in)
	if !bytes.Equal(in, data) {
		t.Fatalf("fast path changed its input")
	}
	if !ok {
		return
	}
	var resp struct {
		Record json.RawMessage `json:"record"`
	}
	if err := decodeJSON(data, &resp); err != nil {
		t.Fatalf("fast path accepted %q; encoding/json: %v", data, err)
	}
	var slow ghlRecord
	if err := json.Unmarshal(resp.Record, &slow); err != nil {
		t.Fatalf("fast path accepted %q; encoding/json: %v", data, err)
	}
	if !bytes.Equal(raw, resp.Record) {
		t.Errorf("%q: raw %q, encoding/json %q", data, raw, resp.Record)
	}
	if !reflect.DeepEqual(withPropertyMap(t, r), slow) {
		t.Errorf("%q:\nfast %#v\nslow %#v", data, r, slow)
	}
	fr, ferr := recordFromDecoded("pet", r)
	fr.Raw = raw
	sr, _, serr := recordFromGHL("pet", resp.Record)
	if (ferr == nil) != (serr == nil) || !reflect.DeepEqual(mappedProperties(t, fr), sr) {
		t.Errorf("%q: mapped\nfast %#v, %v\nslow %#v, %v", data, fr, ferr, sr, serr)
	}
}

// withPropertyMap is r with properties the decoder handed through as JSON
// decoded the way encoding/json decodes them into ghlRecord.
func withPropertyMap(t *testing.T, r ghlRecord) ghlRecord {
	t.Helper()
	if r.propsJSON == "" {
		return r
	}
	if r.Properties != nil {
		t.Fatalf("both a property map and JSON: %#v", r)
	}
	if err := json.Unmarshal([]byte(r.propsJSON), &r.Properties); err != nil {
		t.Fatalf("properties handed through are not JSON encoding/json reads: %v: %q", err, r.propsJSON)
	}
	r.propsJSON, r.propsCanonical = "", false
	return r
}

// mappedProperties is r with PropertiesJSON decoded into Properties.
func mappedProperties(t *testing.T, r crm.Record) crm.Record {
	t.Helper()
	if r.PropertiesJSON == "" {
		return r
	}
	if r.Properties != nil {
		t.Fatalf("both a property map and JSON: %#v", r)
	}
	m, err := r.PropertyMap()
	if err != nil {
		t.Fatal(err)
	}
	r.Properties, r.PropertiesJSON, r.PropertiesCanonical = m, "", false
	return r
}

// checkFastSearch: likewise for a search answer.
func checkFastSearch(t *testing.T, data []byte, raw bool) {
	t.Helper()
	recs, raws, total, ok := fastSearchAnswer(data, raw)
	if !ok {
		return
	}
	var resp struct {
		Records []json.RawMessage `json:"records"`
		Total   *float64          `json:"total"`
	}
	if err := decodeJSON(data, &resp); err != nil {
		t.Fatalf("fast path accepted %q; encoding/json: %v", data, err)
	}
	var typed struct {
		Records []*ghlRecord `json:"records"`
		Total   *float64     `json:"total"`
	}
	if err := decodeJSON(data, &typed); err != nil {
		t.Fatalf("fast path accepted %q; encoding/json: %v", data, err)
	}
	if !reflect.DeepEqual(total, resp.Total) {
		t.Errorf("%q: total %v, encoding/json %v", data, total, resp.Total)
	}
	if len(recs) != len(resp.Records) || len(typed.Records) != len(recs) {
		t.Fatalf("%q: %d records, encoding/json %d", data, len(recs), len(resp.Records))
	}
	if raw != (raws != nil) && len(recs) > 0 {
		t.Fatalf("raw %v but %d raw records", raw, len(raws))
	}
	for i := range recs {
		if typed.Records[i] == nil || !reflect.DeepEqual(withPropertyMap(t, recs[i]), *typed.Records[i]) {
			t.Errorf("%q: record %d\nfast %#v\nslow %#v", data, i, recs[i], typed.Records[i])
		}
		if raw && !bytes.Equal(raws[i], resp.Records[i]) {
			t.Errorf("%q: raw %d %q, encoding/json %q", data, i, raws[i], resp.Records[i])
		}
	}
}

// BenchmarkRecordAnswer decodes a GET record answer and maps it: the
// one-pass decoder against the encoding/json path it replaces.
func BenchmarkRecordAnswer(b *testing.B) {
	body := []byte(`{"record":` + benchGHLRecord + `}`)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			r, raw, ok := fastRecordAnswer(body)
			if !ok {
				b.Fatal("refused")
			}
			rec, err := recordFromDecoded("pet", r)
			if err != nil {
				b.Fatal(err)
			}
			rec.Raw = raw
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var resp struct {
				Record json.RawMessage `json:"record"`
			}
			if err := decodeJSON(body, &resp); err != nil {
				b.Fatal(err)
			}
			if _, _, err := recordFromGHL("pet", resp.Record); err != nil {
				b.Fatal(err)
			}
		}
	})
}
