package structwire_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/jsonscan"
	"github.com/crmgate/crmgate/internal/structwire"
)

// The wire form must be exactly protobuf-go's deterministic encoding of
// the Struct that encoding/json's decoding of the same JSON becomes.
//
//	go test ./internal/structwire -run '^$' -fuzz FuzzAppendField -fuzztime 60s

var seeds = []string{
	`{}`, ` { } `,
	`{"name":"Buddy 0","age":0,"price":{"currency":"default","value":50},"tags":["friendly","playful"],"ok":true,"no":false,"none":null}`,
	`{"z":1,"a":2,"m":{"y":1,"b":[{"q":1,"c":2}]}}`,
	`{"a":1,"a":{"b":2}}`, `{"a":{"x":1},"a":{"y":2}}`, `{"b":1,"a":2,"b":3,"a":4,"c":5,"a":6}`,
	`{"caf\u00e9":"\"quoted\" \\ \/ \b\f\n\r\t \ud83d\ude00 \ud800"}`, `{"\u0061":1,"a":2}`,
	"{\"k\xff\":\"v\xfe\",\"l\":[\"\xff\",\"ok\"]}",
	`{"n":-0,"m":1.5e3,"x":1E-2,"big":1e308,"neg":-12.5e-3}`,
	`{"huge":1e309}`, `{"a":01}`, `{"a":"\x"}`, `{"a":1,}`, `{"a":[1,]}`, `{"a" 1}`, `{"a":tru}`, `{"a":nul}`,
	`{"l":[[],[[]],{},[{"a":[{}]}],null,1,"s",true]}`,
	`{"long":"` + strings.Repeat("x", 300) + `","list":[` + strings.Repeat(`"0123456789",`, 20) + `"end"]}`,
	`null`, `[]`, `"s"`, `1`, ``, `{"a":1} x`, `{"a":1}}`, `{`, `{"a":`, `{"a":[`,
	`{"d":` + strings.Repeat(`[`, jsonscan.MaxDepth+5) + strings.Repeat(`]`, jsonscan.MaxDepth+5) + `}`,
	`{"d":` + strings.Repeat(`{"x":`, jsonscan.MaxDepth+5) + `1` + strings.Repeat(`}`, jsonscan.MaxDepth+5) + `}`,
}

func FuzzAppendField(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	var w structwire.Writer // shared, as a page's records share one
	f.Fuzz(func(t *testing.T, js string) { check(t, &w, js) })
}

func TestAppendField(t *testing.T) {
	var w structwire.Writer
	for _, s := range seeds {
		check(t, &w, s)
	}
	for _, s := range seeds[:11] {
		if _, ok := w.AppendField(nil, 5, s); !ok {
			t.Errorf("refused %q", s)
		}
	}
}

// check: AppendField, after a prefix, writes Value.struct_value (field 5)
// exactly as proto.Marshal (deterministic) writes a Value holding
// encoding/json's object as a Struct; or it refuses, leaving the prefix.
func check(t *testing.T, w *structwire.Writer, js string) {
	t.Helper()
	var m map[string]any
	err := json.Unmarshal([]byte(js), &m)
	isObject := err == nil && m != nil

	prefix := []byte("prefix")
	got, ok := w.AppendField(bytes.Clone(prefix), 5, js)
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("%q: prefix overwritten: %q", js, got)
	}
	if !ok {
		if !bytes.Equal(got, prefix) {
			t.Fatalf("%q refused, but %q was left after the prefix", js, got[len(prefix):])
		}
		if isObject && depth(m) < jsonscan.MaxDepth {
			t.Fatalf("refused %q, which encoding/json decodes", js)
		}
		return
	}
	if !isObject {
		t.Fatalf("accepted %q; encoding/json: %v (map %v)", js, err, m)
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatalf("%q: structpb: %v", js, err)
	}
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(structpb.NewStructValue(s))
	if err != nil {
		t.Fatalf("%q: %v", js, err)
	}
	if !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("%q:\n got % x\nwant % x", js, got[len(prefix):], want)
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

// TestPatchLen checks the length prefix fix-up on its own: every guess
// from 1 to 3 bytes for bodies around the varint size boundaries.
func TestPatchLen(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 200, 16383, 16384, 20000} {
		for reserved := 1; reserved <= 3; reserved++ {
			body := bytes.Repeat([]byte{'x'}, n)
			b := append([]byte{0xAA}, make([]byte, reserved)...)
			b = append(b, body...)
			b = structwire.PatchLen(b, 1, reserved)
			want := protowire.AppendBytes([]byte{0xAA}, body)
			if !bytes.Equal(b, want) {
				t.Errorf("n=%d reserved=%d: got %d bytes %x..., want %d bytes %x...", n, reserved, len(b), b[:min(len(b), 6)], len(want), want[:min(len(want), 6)])
			}
		}
	}
}

func TestMergeUnknown(t *testing.T) {
	var w structwire.Writer
	props, ok := w.AppendField(nil, 3, `{"name":"Buddy","tags":["a"],"price":{"value":5}}`)
	if !ok {
		t.Fatal("AppendField refused")
	}
	want, err := structpb.NewStruct(map[string]any{"name": "Buddy", "tags": []any{"a"}, "price": map[string]any{"value": 5.0}})
	if err != nil {
		t.Fatal(err)
	}
	unknownField := protowire.AppendTag(nil, 99, protowire.VarintType)
	unknownField = protowire.AppendVarint(unknownField, 7)

	r := &crmv1.Record{Id: "r1"}
	r.ProtoReflect().SetUnknown(append(bytes.Clone(props), unknownField...))
	resp := &crmv1.ListRecordsResponse{Items: []*crmv1.Record{r, {Id: "r2"}}}
	wire, err := proto.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if err := structwire.MergeUnknown(resp); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(r.GetProperties(), want) {
		t.Errorf("properties %v, want %v", r.GetProperties(), want)
	}
	if got := r.ProtoReflect().GetUnknown(); !bytes.Equal(got, unknownField) {
		t.Errorf("unknown fields left % x, want field 99 only (% x)", got, unknownField)
	}
	// What a gRPC client decodes from the spliced message.
	var decoded crmv1.ListRecordsResponse
	if err := proto.Unmarshal(wire, &decoded); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&decoded, resp) {
		t.Errorf("merged %v\ndecoded %v", resp, &decoded)
	}

	// Bytes that do not parse: an error, and the message as it was.
	bad := &crmv1.Record{Id: "bad"}
	broken := []byte{3<<3 | 2, 50, 1}
	bad.ProtoReflect().SetUnknown(broken)
	if err := structwire.MergeUnknown(&crmv1.GetRecordResponse{Record: bad}); err == nil {
		t.Error("MergeUnknown took truncated bytes")
	}
	if !bytes.Equal(bad.ProtoReflect().GetUnknown(), broken) || bad.GetProperties() != nil {
		t.Errorf("after a failed merge: unknown % x, properties %v", bad.ProtoReflect().GetUnknown(), bad.GetProperties())
	}
}

// TestJSONForm: a Struct field in JSON form means what AppendField, or
// where it refuses, encoding/json makes of the JSON; MergeUnknown turns
// it into the field, and fails on JSON that is not an object.
func TestJSONForm(t *testing.T) {
	deep := `{"d":` + strings.Repeat(`[`, jsonscan.MaxDepth+2) + `"x"` + strings.Repeat(`]`, jsonscan.MaxDepth+2) + `}`
	other := protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7)
	for _, js := range []string{
		`{}`, `{"b":1,"a":[true,null,"s"],"b":{"z":1,"y":2}}`, "{\"k\xff\":\"\\ud800\"}", deep,
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			t.Fatal(err)
		}
		want, err := structpb.NewStruct(m)
		if err != nil {
			t.Fatal(err)
		}
		canonical := js == `{}`
		u := structwire.AppendJSONField(nil, 3, js, canonical)
		if got, canon, ok := structwire.ParseJSONField(u, 3); !ok || string(got) != js || canon != canonical {
			t.Fatalf("ParseJSONField(AppendJSONField(%.40q, %v)) = %.40q, %v, %v", js, canonical, got, canon, ok)
		}
		if _, _, ok := structwire.ParseJSONField(u, 4); ok {
			t.Fatal("ParseJSONField read field 3 as field 4")
		}
		if _, _, ok := structwire.ParseJSONField(append(bytes.Clone(u), other...), 3); ok {
			t.Fatal("ParseJSONField took a second field")
		}
		r := &crmv1.Record{Id: "r"}
		r.ProtoReflect().SetUnknown(append(u, other...))
		if err := structwire.MergeUnknown(&crmv1.GetRecordResponse{Record: r}); err != nil {
			t.Fatalf("%.40q: %v", js, err)
		}
		if !proto.Equal(r.GetProperties(), want) {
			t.Errorf("%.40q: properties %v, want %v", js, r.GetProperties(), want)
		}
		if got := r.ProtoReflect().GetUnknown(); !bytes.Equal(got, other) {
			t.Errorf("%.40q: unknown fields left % x, want field 99 only", js, got)
		}
	}
	for _, js := range []string{`null`, `[1]`, `{"a":1,}`, `{"a":1e400}`, ``} {
		r := &crmv1.Record{Id: "r"}
		u := structwire.AppendJSONField(nil, 3, js, js == `null`)
		r.ProtoReflect().SetUnknown(u)
		err := structwire.MergeUnknown(r)
		if !errors.Is(err, structwire.ErrJSONField) {
			t.Errorf("%q: MergeUnknown = %v, want ErrJSONField", js, err)
		}
		if !bytes.Equal(r.ProtoReflect().GetUnknown(), u) || r.GetProperties() != nil {
			t.Errorf("%q: the record changed on a failed merge", js)
		}
	}
	if got, err := structwire.ExpandJSONFields(other); err != nil || !bytes.Equal(got, other) {
		t.Errorf("ExpandJSONFields of bytes without JSON form = % x, %v", got, err)
	}
	if structwire.JSONFieldsWanted(context.Background()) || !structwire.JSONFieldsWanted(structwire.WithJSONFields(context.Background())) {
		t.Error("WithJSONFields / JSONFieldsWanted disagree")
	}
}
