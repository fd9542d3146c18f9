package unified

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/jsonscan"
	"github.com/crmgate/crmgate/internal/structwire"
)

// Properties handed through as JSON must convert exactly as the map
// encoding/json decodes them into does.
//
//	go test ./internal/unified -run '^$' -fuzz FuzzJSONStruct -fuzztime 60s

var jsonStructSeeds = []string{
	`{}`, ` { } `,
	`{"name":"Buddy 0","age":0,"price":{"currency":"default","value":50},"tags":["friendly","playful"],"ok":true,"no":false,"none":null}`,
	`{"a":1,"a":{"b":2}}`, `{"a":{"x":1},"a":{"y":2}}`,
	`{"caf\u00e9":"\"quoted\" \\ \/ \b\f\n\r\t \ud83d\ude00 \ud800"}`,
	"{\"k\xff\":\"v\xfe\",\"l\":[\"\xff\",\"ok\"]}",
	`{"n":-0,"m":1.5e3,"x":1E-2,"big":1e308,"neg":-12.5e-3}`,
	`{"huge":1e309}`, `{"a":01}`, `{"a":"\x"}`, `{"a":1,}`, `{"a":[1,]}`, `{"a" 1}`,
	`{"l":[[],[[]],{},[{"a":[{}]}],null,1,"s",true]}`,
	`{"long":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69]}`,
	`null`, `[]`, `"s"`, `1`, ``, `{"a":1} x`, `{"a":1}}`,
	`{"d":` + strings.Repeat(`[`, jsonscan.MaxDepth+5) + strings.Repeat(`]`, jsonscan.MaxDepth+5) + `}`,
	`{"d":` + strings.Repeat(`{"x":`, jsonscan.MaxDepth+5) + `1` + strings.Repeat(`}`, jsonscan.MaxDepth+5) + `}`,
}

func FuzzJSONStruct(f *testing.F) {
	for _, s := range jsonStructSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, js string) { checkJSONStruct(t, js) })
}

func TestJSONStruct(t *testing.T) {
	for _, s := range jsonStructSeeds {
		checkJSONStruct(t, s)
	}
	// The usual shapes take the one-pass reader (not the fallback).
	for _, s := range jsonStructSeeds[:8] {
		var b builder
		if _, ok := b.jsonStruct(s); !ok {
			t.Errorf("one-pass reader refused %q", s)
		}
	}
}

// checkJSONStruct: the one-pass reader gives toStruct's Struct of what
// encoding/json decodes, or refuses; and the record conversion (which
// falls back to encoding/json) succeeds exactly when encoding/json
// decodes an object, with that Struct.
func checkJSONStruct(t *testing.T, js string) {
	t.Helper()
	var m map[string]any
	err := json.Unmarshal([]byte(js), &m)
	isObject := err == nil && m != nil
	var want proto.Message
	if isObject {
		var rb builder
		want = rb.toStruct(m)
	}

	var b builder
	got, ok := b.jsonStruct(js)
	if len(b.members) != 0 || len(b.stack) != 0 {
		t.Fatalf("%q: reading left %d members and %d elements on the builder's stacks", js, len(b.members), len(b.stack))
	}
	if ok {
		if !isObject {
			t.Fatalf("one-pass reader accepted %q; encoding/json: %v (map %v)", js, err, m)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("%q:\n one-pass %v\nreference %v", js, got, want)
		}
		if _, err := proto.Marshal(got); err != nil {
			t.Fatalf("%q: %v", js, err)
		}
	} else if isObject && depth(m) < jsonscan.MaxDepth {
		// Only nesting deeper than the scanner takes may fall back.
		t.Errorf("one-pass reader refused %q, which encoding/json decodes", js)
	}
	if js == "" {
		return // no PropertiesJSON: the record's Properties count
	}

	for _, page := range [][]crm.Record{
		{{ID: "r1", PropertiesJSON: js}},
		{{ID: "r0", Properties: map[string]any{"a": 1.0}}, {ID: "r1", PropertiesJSON: js}},
	} {
		got, err := records(page, false, wireForm)
		if (err == nil) != isObject {
			t.Fatalf("%q: records error %v, encoding/json decodes an object: %v", js, err, isObject)
		}
		if err == nil {
			// A page's properties may be in wire form.
			if err := structwire.MergeUnknown(&crmv1.ListRecordsResponse{Items: got}); err != nil {
				t.Fatalf("%q: %v", js, err)
			}
		}
		if err == nil && !proto.Equal(got[len(got)-1].GetProperties(), want) {
			t.Fatalf("%q: records\n got %v\nwant %v", js, got[len(got)-1].GetProperties(), want)
		}
	}
}

// depth is the nesting depth of a decoded JSON value.
func depth(v any) int {
	d := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case []any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}
