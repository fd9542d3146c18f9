package restjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"testing"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/jsonscan"
	"github.com/crmgate/crmgate/internal/structwire"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// reference is the marshaler the gateway used before: the one Marshaler
// must match.
func reference() *runtime.JSONPb {
	return &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
	}
}

func newTest() *Marshaler { return New(slog.New(slog.DiscardHandler)) }

// compact removes insignificant whitespace: protojson adds random spaces
// after commas, and nothing else differs between two encodings of the
// same fields in the same order with the same literals.
func compact(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	return out.Bytes()
}

// same fails unless m.Marshal(v) and the reference agree: both fail with
// the same error, or both succeed with the same JSON. An answer whose
// records carry unknown fields that cannot be merged must fail.
func same(t testing.TB, m *Marshaler, v any) {
	t.Helper()
	dv, decodable := asDecoded(v)
	got, gotErr := m.Marshal(v)
	if !decodable {
		if gotErr == nil {
			t.Fatalf("unknown fields that cannot be merged were encoded: %s", got)
		}
		return
	}
	want, wantErr := reference().Marshal(dv)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("error mismatch: got %v, protojson %v", gotErr, wantErr)
	}
	if wantErr != nil {
		if gotErr.Error() != wantErr.Error() {
			t.Fatalf("error mismatch: got %q, protojson %q", gotErr, wantErr)
		}
		return
	}
	if g, w := compact(t, got), compact(t, want); !bytes.Equal(g, w) {
		t.Fatalf("JSON mismatch\n got %s\nwant %s", g, w)
	}
	// Belt and braces for readers who trust a decoder more than Compact.
	var gv, wv any
	if err := json.Unmarshal(got, &gv); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &wv); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gv, wv) {
		t.Fatalf("decoded mismatch\n got %v\nwant %v", gv, wv)
	}
}

// asDecoded is v as a gRPC client would decode it, if v is an answer
// whose records carry unknown fields (properties in wire form, or in
// JSON form as the REST facade asks for them): what the REST encoder
// must write for it. Other values are themselves. ok is false when a
// record's unknown fields do not parse or hold JSON form that is not a
// JSON object.
func asDecoded(v any) (_ any, ok bool) {
	pm, isMsg := v.(proto.Message)
	if !isMsg || !anySpliced(v) {
		return v, true
	}
	out := proto.Clone(pm)
	for _, r := range records(out) {
		if r == nil {
			continue
		}
		u, ok := referenceWire(r.ProtoReflect().GetUnknown())
		if !ok {
			return nil, false
		}
		r.ProtoReflect().SetUnknown(nil)
		if (proto.UnmarshalOptions{Merge: true}).Unmarshal(u, r) != nil {
			return nil, false
		}
	}
	return out, true
}

// referenceWire is u with its fields in structwire's JSON form (field
// 19000+n, or 19500+n for canonical JSON, holding a JSON object) replaced
// by field n holding encoding/json's decoding of the object as a Struct:
// what structwire says they mean, written here without structwire.
func referenceWire(u []byte) ([]byte, bool) {
	var out []byte
	for len(u) > 0 {
		num, typ, n := protowire.ConsumeField(u)
		if n < 0 {
			return nil, false
		}
		field := u[:n]
		u = u[n:]
		if typ != protowire.BytesType || num <= 19000 || num >= 20000 {
			out = append(out, field...)
			continue
		}
		_, _, tl := protowire.ConsumeTag(field)
		js, _ := protowire.ConsumeBytes(field[tl:])
		var m map[string]any
		if json.Unmarshal(js, &m) != nil || m == nil {
			return nil, false
		}
		s, err := structpb.NewStruct(m)
		if err != nil {
			return nil, false
		}
		body, err := proto.Marshal(s)
		if err != nil {
			return nil, false
		}
		out = protowire.AppendTag(out, (num-19000)%500, protowire.BytesType)
		out = protowire.AppendBytes(out, body)
	}
	return out, true
}

// records are the records of an answer.
func records(v any) []*crmv1.Record {
	switch m := v.(type) {
	case *crmv1.GetRecordResponse:
		return []*crmv1.Record{m.GetRecord()}
	case *crmv1.CreateRecordResponse:
		return []*crmv1.Record{m.GetRecord()}
	case *crmv1.UpdateRecordResponse:
		return []*crmv1.Record{m.GetRecord()}
	case *crmv1.ListRecordsResponse:
		return m.GetItems()
	case *crmv1.SearchRecordsResponse:
		return m.GetItems()
	}
	return nil
}

// anySpliced tells whether a record of v has unknown fields.
func anySpliced(v any) bool {
	for _, r := range records(v) {
		if r != nil && len(r.ProtoReflect().GetUnknown()) != 0 {
			return true
		}
	}
	return false
}

// canonical tells whether every record of v with unknown fields has them
// in the form the fast path reads (structwire's: only the properties
// field, keys in order, each once), which it must then not hand over.
func canonical(v any) bool {
	for _, r := range records(v) {
		u := r.ProtoReflect().GetUnknown()
		if r == nil || len(u) == 0 {
			continue
		}
		var props crmv1.Record
		if proto.Unmarshal(u, &props) != nil || props.Properties == nil || len(props.ProtoReflect().GetUnknown()) != 0 {
			return false
		}
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(&props)
		if err != nil || !bytes.Equal(want, u) {
			return false
		}
	}
	return true
}

// wireProps is the properties field as structwire writes it from js.
func wireProps(t testing.TB, js string) []byte {
	t.Helper()
	var w structwire.Writer
	b, ok := w.AppendField(nil, 3, js)
	if !ok {
		t.Fatalf("structwire refused %s", js)
	}
	return b
}

// spliced moves r's properties into its unknown fields, as written from
// js.
func spliced(t testing.TB, r *crmv1.Record, js string) *crmv1.Record {
	t.Helper()
	r.Properties = nil
	return splicedBytes(r, wireProps(t, js))
}

// splicedKeep is spliced with r's Properties left as they are.
func splicedKeep(t testing.TB, r *crmv1.Record, js string) *crmv1.Record {
	t.Helper()
	r.ProtoReflect().SetUnknown(wireProps(t, js))
	return r
}

func splicedBytes(r *crmv1.Record, u []byte) *crmv1.Record {
	r.Properties = nil
	r.ProtoReflect().SetUnknown(u)
	return r
}

// jsonForm moves r's properties into its unknown fields in JSON form, as
// the unified service writes them for REST calls.
func jsonForm(r *crmv1.Record, js string) *crmv1.Record {
	return splicedBytes(r, structwire.AppendJSONField(nil, 3, js, false))
}

// canonicalForm is jsonForm for canonical JSON (jsonscan), which the
// adapter has checked and the encoder copies.
func canonicalForm(t testing.TB, r *crmv1.Record, js string) *crmv1.Record {
	t.Helper()
	d := jsonscan.Scanner{S: js}
	if ok, canonical := d.CheckObject(0, func(int, int, jsonscan.Kind) bool { return true }); !ok || !canonical || !d.End() {
		t.Fatalf("not canonical JSON: %s", js)
	}
	return splicedBytes(r, structwire.AppendJSONField(nil, 3, js, true))
}

// jsonFormKeep is jsonForm with r's Properties left as they are.
func jsonFormKeep(r *crmv1.Record, js string) *crmv1.Record {
	r.ProtoReflect().SetUnknown(structwire.AppendJSONField(nil, 3, js, false))
	return r
}

// unordered is a properties field whose keys are not in order.
func unordered(t testing.TB) []byte {
	t.Helper()
	a, b := wireProps(t, `{"b":1}`), wireProps(t, `{"a":2}`)
	body := append(append([]byte{}, a[2:]...), b[2:]...)
	return append([]byte{a[0], byte(len(body))}, body...)
}

func num(f float64) *structpb.Value { return structpb.NewNumberValue(f) }
func str(s string) *structpb.Value  { return structpb.NewStringValue(s) }

func fields(kv ...any) *structpb.Struct {
	s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for i := 0; i < len(kv); i += 2 {
		v, _ := kv[i+1].(*structpb.Value)
		s.Fields[kv[i].(string)] = v
	}
	return s
}

func list(vs ...*structpb.Value) *structpb.Value {
	return structpb.NewListValue(&structpb.ListValue{Values: vs})
}

func ts(secs int64, nanos int32) *timestamppb.Timestamp {
	return &timestamppb.Timestamp{Seconds: secs, Nanos: nanos}
}

// petRecord is a record as the GHL provider returns one (see the e2e
// golden record_get.golden.json).
func petRecord(id string) *crmv1.Record {
	return &crmv1.Record{
		Id:         id,
		ObjectName: "pet",
		Properties: fields(
			"age", num(3),
			"birthday", str("2021-06-15"),
			"email", str("rex@example.com"),
			"name", str("Rex"),
			"notes", str("Good boy"),
			"phone", str("+15551234567"),
			"price", structpb.NewStructValue(fields("currency", str("default"), "value", num(120))),
			"species", str("dog"),
			"tags", list(str("friendly"), str("rescue")),
			"vaccinated", list(str("rabies"), str("parvo")),
		),
		OwnerIds:  []string{"user_1"},
		CreatedAt: ts(1718000000, 123000000),
		UpdatedAt: ts(1718000500, 0),
	}
}

func record(p *structpb.Struct) *crmv1.GetRecordResponse {
	return &crmv1.GetRecordResponse{Record: &crmv1.Record{Properties: p}}
}

func withTime(t *timestamppb.Timestamp) *crmv1.GetRecordResponse {
	return &crmv1.GetRecordResponse{Record: &crmv1.Record{CreatedAt: t}}
}

func TestMarshalMatchesProtojson(t *testing.T) {
	m := newTest()
	hundred := &crmv1.ListRecordsResponse{NextCursor: "c2", HasNextPage: true}
	for i := range 100 {
		hundred.Items = append(hundred.Items, petRecord("rec_"+strings.Repeat("x", i%7)))
	}
	cases := []struct {
		name string
		msg  any
		// fast: the fast path must encode it (false: it must hand it to
		// protojson, because protojson fails or writes something unusual).
		fast bool
	}{
		{"get record", &crmv1.GetRecordResponse{Record: petRecord("r1")}, true},
		{"get record, no record", &crmv1.GetRecordResponse{}, true},
		{"empty record", &crmv1.GetRecordResponse{Record: &crmv1.Record{}}, true},
		{"empty struct", record(&structpb.Struct{}), true},
		{"raw data", &crmv1.GetRecordResponse{Record: &crmv1.Record{RawData: fields("a", num(1))}}, true},
		{"create record", &crmv1.CreateRecordResponse{Record: petRecord("r2"), Warnings: []string{"w1", "w\"2"}}, true},
		{"create record, nothing", &crmv1.CreateRecordResponse{}, true},
		{"update record", &crmv1.UpdateRecordResponse{Record: petRecord("r3"), Warnings: []string{}}, true},
		{"list 100 records", hundred, true},
		{"list no records", &crmv1.ListRecordsResponse{}, true},
		{"list nil record", &crmv1.ListRecordsResponse{Items: []*crmv1.Record{petRecord("a"), nil}}, false},
		{"search", &crmv1.SearchRecordsResponse{Items: []*crmv1.Record{petRecord("a")}, Total: math.MaxInt64}, true},
		{"search negative total", &crmv1.SearchRecordsResponse{Total: -7}, true},
		{"strings escaped", record(fields(
			"ctl", str("\x00\x01\x07\x08\x09\x0a\x0b\x0c\x0d\x1b\x1f\x7f"),
			"quote\"key\\", str(`a"b\c/d`),
			"html", str("<script>&amp;</script>"),
			"unicode", str("é€😀\u2028\u2029\ufffd"),
			"", str(""),
		)), true},
		{"keys sorted by bytes", record(fields(
			"b", num(1), "a", num(2), "B", num(3), "é", num(4), "aa", num(5), "a b", num(6), "😀", num(7), "\u00ff", num(8),
		)), true},
		{"numbers", record(fields(
			"zero", num(0), "negzero", num(math.Copysign(0, -1)), "int", num(42), "neg", num(-1.5),
			"big", num(1e21), "below big", num(999999999999999999999), "bigger", num(1.5e300),
			"small", num(1e-6), "smaller", num(1e-7), "tiny", num(5e-324), "max", num(math.MaxFloat64),
			"pi", num(math.Pi), "2^53+1", num(9007199254740993), "neg small", num(-1.25e-10),
			"e-100", num(1e-100), "third", num(1.0/3),
		)), true},
		{"NaN", record(fields("n", num(math.NaN()))), false},
		{"+Inf", record(fields("n", num(math.Inf(1)))), false},
		{"-Inf in list", record(fields("n", list(num(1), num(math.Inf(-1))))), false},
		{"values of every kind", record(fields(
			"null", structpb.NewNullValue(), "odd null", &structpb.Value{Kind: &structpb.Value_NullValue{NullValue: 5}},
			"t", structpb.NewBoolValue(true), "f", structpb.NewBoolValue(false),
			"empty list", list(), "nil list values", structpb.NewListValue(&structpb.ListValue{}),
			"empty struct", structpb.NewStructValue(&structpb.Struct{}),
			"nested", list(list(structpb.NewStructValue(fields("x", list(structpb.NewNullValue()))))),
		)), true},
		{"nil value in struct", record(fields("v", nil)), false},
		{"value without kind", record(fields("v", &structpb.Value{})), false},
		{"nil value in list", record(fields("v", list(str("a"), nil))), false},
		{"nil struct value", record(fields("v", &structpb.Value{Kind: &structpb.Value_StructValue{}})), false},
		{"nil list value", record(fields("v", &structpb.Value{Kind: &structpb.Value_ListValue{}})), false},
		{"typed nil null wrapper", record(fields("v", &structpb.Value{Kind: (*structpb.Value_NullValue)(nil)})), false},
		{"typed nil number wrapper", record(fields("v", &structpb.Value{Kind: (*structpb.Value_NumberValue)(nil)})), false},
		{"typed nil string wrapper", record(fields("v", &structpb.Value{Kind: (*structpb.Value_StringValue)(nil)})), false},
		{"typed nil bool wrapper", record(fields("v", &structpb.Value{Kind: (*structpb.Value_BoolValue)(nil)})), false},
		{"typed nil struct wrapper", record(fields("v", &structpb.Value{Kind: (*structpb.Value_StructValue)(nil)})), false},
		{"typed nil list wrapper", record(fields("v", &structpb.Value{Kind: (*structpb.Value_ListValue)(nil)})), false},
		{"invalid UTF-8 in id", &crmv1.GetRecordResponse{Record: &crmv1.Record{Id: "a\xffb"}}, false},
		{"invalid UTF-8 in owner", &crmv1.GetRecordResponse{Record: &crmv1.Record{OwnerIds: []string{"ok", "\xc3"}}}, false},
		{"invalid UTF-8 in key", record(fields("k\x80", num(1))), false},
		{"invalid UTF-8 in value", record(fields("k", str("\xed\xa0\x80"))), false},
		{"invalid UTF-8 in warning", &crmv1.CreateRecordResponse{Warnings: []string{"\xfe"}}, false},
		{"epoch", withTime(ts(0, 0)), true},
		{"millis", withTime(ts(1, 1_000_000)), true},
		{"micros", withTime(ts(1, 1_000)), true},
		{"nanos", withTime(ts(1, 1)), true},
		{"all nanos", withTime(ts(1, 999_999_999)), true},
		{"before epoch", withTime(ts(-1, 500_000_000)), true},
		{"min timestamp", withTime(ts(minTimestampSeconds, 0)), true},
		{"max timestamp", withTime(ts(maxTimestampSeconds, maxNanos)), true},
		{"leap year", withTime(ts(951782400, 0)), true},
		{"seconds too small", withTime(ts(minTimestampSeconds-1, 0)), false},
		{"seconds too big", withTime(ts(maxTimestampSeconds+1, 0)), false},
		{"negative nanos", withTime(ts(0, -1)), false},
		{"nanos too big", withTime(ts(0, 1_000_000_000)), false},
		{"list properties", &crmv1.ListPropertiesResponse{Items: []*crmv1.Property{
			{Id: "name", Label: "Name", Type: "text", RawDetails: fields("ghl_data_type", str("TEXT"), "showInForms", structpb.NewBoolValue(true))},
			{Id: "species", Label: "Species", Type: "picklist", IsRequired: true, Precision: -3, Scale: math.MaxInt32, GroupName: "g",
				Options: []*crmv1.Option{{Label: "Dog", Value: "dog"}, {Label: "Cat", Value: "cat", Description: "d", Hidden: true}}},
		}}, true},
		{"list no properties", &crmv1.ListPropertiesResponse{}, true},
		{"nil property", &crmv1.ListPropertiesResponse{Items: []*crmv1.Property{nil}}, false},
		{"nil option", &crmv1.ListPropertiesResponse{Items: []*crmv1.Property{{Options: []*crmv1.Option{nil}}}}, false},
		{"property body", &crmv1.Property{Id: "p", Precision: math.MinInt32}, true},
		{"object body", &crmv1.Object{Name: "pet", Type: "custom", Labels: &crmv1.Labels{Singular: "Pet", Plural: "Pets"},
			PrimaryFieldId: "name", CreatedAt: ts(1, 0), RawData: fields("id", str("x"))}, true},
		{"object without labels", &crmv1.Object{}, true},
		{"typed nil get record", (*crmv1.GetRecordResponse)(nil), false},
		{"typed nil list", (*crmv1.ListRecordsResponse)(nil), false},
		{"typed nil object", (*crmv1.Object)(nil), false},
		{"other message", &crmv1.ListRelationsResponse{Items: []*crmv1.Relation{{Id: "x"}}}, false},
		{"bare record", petRecord("r"), false},
		{"non-proto value", []string{"a"}, false},
		{"nil", nil, false},

		// A page's records carry their properties in wire form
		// (internal/structwire).
		{"spliced page", &crmv1.ListRecordsResponse{Items: []*crmv1.Record{
			spliced(t, petRecord("a"), `{"name":"Rex","age":3,"tags":["a","b"],"price":{"value":5,"currency":"USD"},"ok":true,"none":null,"q":"\"é\u2028"}`),
			petRecord("b"),
			spliced(t, petRecord("c"), `{}`),
		}}, true},
		{"spliced search", &crmv1.SearchRecordsResponse{Items: []*crmv1.Record{spliced(t, petRecord("a"), `{"b":1,"a":2,"b":3}`)}, Total: 1}, true},
		{"spliced, and properties set too", &crmv1.GetRecordResponse{Record: splicedKeep(t, petRecord("a"), `{"extra":1}`)}, false},
		{"spliced in map order", &crmv1.GetRecordResponse{Record: splicedBytes(petRecord("a"), unordered(t))}, false},
		{"spliced twice", &crmv1.GetRecordResponse{Record: splicedBytes(petRecord("a"), append(wireProps(t, `{"a":1}`), wireProps(t, `{"b":2}`)...))}, false},
		{"spliced, then an unknown field", &crmv1.GetRecordResponse{Record: splicedBytes(petRecord("a"), append(wireProps(t, `{"a":1}`), 0x98, 0x06, 0x01))}, false},
		{"spliced, truncated", &crmv1.GetRecordResponse{Record: splicedBytes(petRecord("a"), wireProps(t, `{"a":"long"}`)[:8])}, false},
		{"unknown field only", &crmv1.GetRecordResponse{Record: splicedBytes(petRecord("a"), []byte{0x98, 0x06, 0x01})}, false},

		// For REST calls the records carry the provider's JSON as it
		// came (structwire's JSON form).
		{"JSON-form page", &crmv1.ListRecordsResponse{Items: []*crmv1.Record{
			jsonForm(petRecord("a"), ` { "name" : "Rex", "age":3 ,"tags":["b" , "a"],"price":{"value":5,"currency":"USD"},"ok":true,"none":null}`),
			jsonForm(petRecord("b"), `{"z":1,"a":{"y":[1,{"d":2,"c":3}],"b":2},"m":[],"e":{}}`),
			jsonForm(petRecord("c"), `{"b":1,"a":2,"b":3,"a":4}`),
			jsonForm(petRecord("d"), `{"n":[0,-0,1.50,1e2,1E-7,-12.5e-3,123456789012345,1234567890123456,9007199254740993,-12345678901234567,12345678901234567890,0.1,1e21,1e308,5e-324]}`),
			jsonForm(petRecord("e"), `{"s":"caf\u00e9 \"q\" \\ \/ \b\f\n\r\t \ud83d\ude00 \ud800 \u2028 <&>","\u0061":1,"a":2,"é":"ü€😀"}`),
			jsonForm(petRecord("f"), "{\"k\xff\":\"v\xfe\",\"l\":[\"\xff\",\"ok\"],\"del\":\"\x7f\"}"),
			petRecord("g"),
			spliced(t, petRecord("h"), `{"wire":1}`),
			jsonForm(petRecord("i"), `{}`),
		}}, true},
		{"canonical JSON-form page", &crmv1.ListRecordsResponse{Items: []*crmv1.Record{
			canonicalForm(t, petRecord("a"), `{"age":3,"name":"Rex","none":null,"ok":true,"price":{"currency":"USD","value":5},"tags":["b","a"]}`),
			canonicalForm(t, petRecord("b"), "{\"\":-0,\"n\":[123456789012345,-1,[],{}],\"s\":\"é ü€😀 \u2028 <&> \x7f\",\"é\":{}}"),
			jsonForm(petRecord("c"), `{"b":1,"a":2}`),
			canonicalForm(t, petRecord("d"), `{}`),
		}}, true},
		{"canonical JSON form, and properties set too", &crmv1.GetRecordResponse{Record: func() *crmv1.Record {
			r := petRecord("a")
			r.ProtoReflect().SetUnknown(structwire.AppendJSONField(nil, 3, `{"x":1}`, true))
			return r
		}()}, false},
		{"JSON-form search", &crmv1.SearchRecordsResponse{Items: []*crmv1.Record{jsonForm(petRecord("a"), `{"b":1,"a":2}`)}, Total: 1}, true},
		{"JSON form deeper than structwire takes", &crmv1.GetRecordResponse{Record: jsonForm(petRecord("a"),
			`{"d":`+strings.Repeat(`[`, 200)+strings.Repeat(`]`, 200)+`}`)}, false},
		{"JSON form, and properties set too", &crmv1.GetRecordResponse{Record: jsonFormKeep(petRecord("a"), `{"extra":1}`)}, false},
		{"JSON form twice", &crmv1.GetRecordResponse{Record: splicedBytes(petRecord("a"),
			structwire.AppendJSONField(structwire.AppendJSONField(nil, 3, `{"a":1}`, false), 3, `{"b":2}`, true))}, false},
		{"JSON form, then wire form", &crmv1.GetRecordResponse{Record: splicedBytes(petRecord("a"),
			append(structwire.AppendJSONField(nil, 3, `{"a":1}`, true), wireProps(t, `{"b":2}`)...))}, false},
		{"JSON form of a number out of range", &crmv1.GetRecordResponse{Record: jsonForm(petRecord("a"), `{"a":1e400}`)}, false},
		{"JSON form of invalid JSON", &crmv1.GetRecordResponse{Record: jsonForm(petRecord("a"), `{"a":1,}`)}, false},
		{"JSON form of null", &crmv1.GetRecordResponse{Record: jsonForm(petRecord("a"), `null`)}, false},
		{"JSON form of an array", &crmv1.GetRecordResponse{Record: jsonForm(petRecord("a"), `[1]`)}, false},
		{"JSON form, trailing text", &crmv1.GetRecordResponse{Record: jsonForm(petRecord("a"), `{"a":1} x`)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			same(t, m, tc.msg)
			if _, ok := m.marshalFast(tc.msg); ok != tc.fast {
				t.Fatalf("fast path taken = %v, want %v", ok, tc.fast)
			}
		})
	}
}

func TestLayouts(t *testing.T) {
	if err := checkLayouts(fastLayouts()); err != nil {
		t.Fatalf("update messages.go and fastLayouts for the proto change: %v", err)
	}
}

func TestLayoutMismatchTurnsFastPathOff(t *testing.T) {
	layouts := fastLayouts()
	for i, l := range layouts {
		if _, ok := l.Message.(*crmv1.Record); ok {
			layouts[i].Fields = l.Fields[:len(l.Fields)-1] // as if raw_data were new
		}
	}
	err := checkLayouts(layouts)
	if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), "crmgate.crm.v1.Record") {
		t.Fatalf("checkLayouts = %v, want ErrLayout naming Record", err)
	}
	var logs bytes.Buffer
	m := newMarshaler(slog.New(slog.NewTextHandler(&logs, nil)), layouts)
	if !strings.Contains(logs.String(), "fast path off") {
		t.Errorf("no warning logged: %q", logs.String())
	}
	msg := &crmv1.GetRecordResponse{Record: petRecord("r")}
	if _, ok := m.marshalFast(msg); ok {
		t.Error("fast path still on after a layout mismatch")
	}
	same(t, m, msg)
}

func TestDelegates(t *testing.T) {
	m, ref := newTest(), reference()
	if got, want := m.ContentType(nil), ref.ContentType(nil); got != want {
		t.Errorf("ContentType = %q, want %q", got, want)
	}
	if got, want := m.Delimiter(), ref.Delimiter(); !bytes.Equal(got, want) {
		t.Errorf("Delimiter = %q, want %q", got, want)
	}
	var in crmv1.CreateRecordRequest
	if err := m.Unmarshal([]byte(`{"object_name":"pet","record":{"properties":{"a":1}}}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.GetObjectName() != "pet" || in.GetRecord().GetProperties().GetFields()["a"].GetNumberValue() != 1 {
		t.Errorf("Unmarshal = %v", &in)
	}
	if err := m.Unmarshal([]byte(`{"unknown":1}`), &in); err == nil {
		t.Error("Unmarshal accepted an unknown field (DiscardUnknown must stay false)")
	}
	var dec crmv1.RecordInput
	if err := m.NewDecoder(strings.NewReader(`{"owner_ids":["u"]}`)).Decode(&dec); err != nil || dec.GetOwnerIds()[0] != "u" {
		t.Errorf("NewDecoder: %v, %v", err, &dec)
	}
	var buf bytes.Buffer
	msg := &crmv1.GetRecordResponse{Record: petRecord("r")}
	if err := m.NewEncoder(&buf).Encode(msg); err != nil {
		t.Fatal(err)
	}
	want, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(compact(t, buf.Bytes()), compact(t, want)) {
		t.Errorf("NewEncoder wrote %s, want %s", buf.Bytes(), want)
	}
}

// TestOutputNotShared checks each Marshal result owns its bytes: the
// pooled buffer is reused by the next call.
func TestOutputNotShared(t *testing.T) {
	m := newTest()
	first, err := m.Marshal(&crmv1.GetRecordResponse{Record: petRecord("first")})
	if err != nil {
		t.Fatal(err)
	}
	keep := bytes.Clone(first)
	if _, err := m.Marshal(&crmv1.GetRecordResponse{Record: petRecord("second")}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, keep) {
		t.Fatalf("first result changed by the second call:\n%s\n%s", first, keep)
	}
}
