package grpccodec

import (
	"bytes"
	"encoding/hex"
	"log/slog"
	"math"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/structwire"
)

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// countingPool is the default pool, counting what is taken and given back.
type countingPool struct {
	gets, puts atomic.Int64
}

func (p *countingPool) Get(n int) *[]byte {
	p.gets.Add(1)
	return mem.DefaultBufferPool().Get(n)
}

func (p *countingPool) Put(b *[]byte) {
	p.puts.Add(1)
	mem.DefaultBufferPool().Put(b)
}

// fastBytes runs the fast path (map entries sorted by key, or in map
// order) and returns its bytes, or false if it gave up. It fails the test
// if the fast path keeps a pooled buffer.
func fastBytes(t testing.TB, m any, sorted bool) ([]byte, bool) {
	t.Helper()
	var pool countingPool
	out, ok := marshalFast(m, encoder{sorted: sorted}, &pool)
	if !ok {
		if out != nil || pool.gets.Load() != pool.puts.Load() {
			t.Fatalf("fast path gave up but returned %d buffers, kept %d of %d pooled buffers",
				len(out), pool.gets.Load()-pool.puts.Load(), pool.gets.Load())
		}
		return nil, false
	}
	b := out.Materialize()
	out.Free()
	if pool.gets.Load() != pool.puts.Load() {
		t.Fatalf("freeing the result gave back %d of %d pooled buffers", pool.puts.Load(), pool.gets.Load())
	}
	return b, true
}

// checkSame requires the fast path to agree with protobuf-go on m:
// where proto.Marshal fails, the fast path gives up; where it succeeds,
// the fast path either gives up or writes exactly proto.Marshal's
// deterministic bytes with entries sorted, and with entries in map order
// bytes of proto.Size(m) that decode to what proto.Marshal's decode to.
// It reports whether the fast path gave up.
func checkSame(t testing.TB, m proto.Message) (gaveUp bool) {
	t.Helper()
	want, wantErr := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	got, ok := fastBytes(t, m, true)
	if wantErr != nil {
		if ok {
			t.Fatalf("proto.Marshal fails (%v), the fast path wrote %x", wantErr, got)
		}
		return true
	}
	if !ok {
		return true
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("fast path (sorted) differs from proto.Marshal (deterministic):\n got %s\nwant %s", hex.EncodeToString(got), hex.EncodeToString(want))
	}
	got, ok = fastBytes(t, m, false)
	if !ok {
		t.Fatal("the fast path gave up in map order but not sorted")
	}
	if len(got) != proto.Size(m) {
		t.Fatalf("fast path wrote %d bytes, proto.Size is %d", len(got), proto.Size(m))
	}
	fromFast, fromProto := m.ProtoReflect().New().Interface(), m.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(got, fromFast); err != nil {
		t.Fatalf("unmarshal fast bytes: %v", err)
	}
	if err := proto.Unmarshal(want, fromProto); err != nil {
		t.Fatalf("unmarshal proto.Marshal bytes: %v", err)
	}
	if !proto.Equal(fromFast, fromProto) {
		t.Fatalf("fast bytes decode to %v, proto.Marshal's to %v", fromFast, fromProto)
	}
	if proto.Equal(fromFast, m) != proto.Equal(fromProto, m) {
		t.Fatalf("decoded fast bytes equal the input: %v, decoded proto.Marshal bytes: %v", proto.Equal(fromFast, m), proto.Equal(fromProto, m))
	}
	return false
}

// checkCodec requires New's Codec to answer m as grpc-go's proto codec
// does: the same error, or bytes of the same length that decode to the
// same message (map order aside).
func checkCodec(t testing.TB, c *Codec, m any) {
	t.Helper()
	base := encoding.GetCodecV2(Name)
	want, wantErr := base.Marshal(m)
	got, err := c.Marshal(m)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("Marshal error %v, grpc-go's codec: %v", err, wantErr)
	}
	if err != nil {
		return
	}
	defer want.Free()
	defer got.Free()
	gb, wb := got.Materialize(), want.Materialize()
	if len(gb) != len(wb) {
		t.Fatalf("Marshal wrote %d bytes, grpc-go's codec %d", len(gb), len(wb))
	}
	pm, ok := m.(proto.Message)
	if !ok {
		return
	}
	fromFast, fromProto := pm.ProtoReflect().New().Interface(), pm.ProtoReflect().New().Interface()
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(gb)}, fromFast); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(wb, fromProto); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(fromFast, fromProto) {
		t.Fatalf("Marshal's bytes decode to %v, grpc-go codec's to %v", fromFast, fromProto)
	}
}

func str(s string) *structpb.Value  { return structpb.NewStringValue(s) }
func num(f float64) *structpb.Value { return structpb.NewNumberValue(f) }
func null(n int32) *structpb.Value {
	return &structpb.Value{Kind: &structpb.Value_NullValue{NullValue: structpb.NullValue(n)}}
}
func boolean(v bool) *structpb.Value { return structpb.NewBoolValue(v) }
func list(vs ...*structpb.Value) *structpb.Value {
	return structpb.NewListValue(&structpb.ListValue{Values: vs})
}

func obj(kv map[string]*structpb.Value) *structpb.Struct { return &structpb.Struct{Fields: kv} }

func withProps(props map[string]*structpb.Value) *crmv1.ListRecordsResponse {
	return &crmv1.ListRecordsResponse{Items: []*crmv1.Record{{Id: "r1", Properties: obj(props)}}}
}

func withUnknown[M proto.Message](m M) M {
	m.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7))
	return m
}

// withLongUnknown gives m an unknown field of 200 bytes: its length
// prefix no longer fits the one byte guessed for small messages.
func withLongUnknown[M proto.Message](m M) M {
	m.ProtoReflect().SetUnknown(protowire.AppendBytes(protowire.AppendTag(nil, 99, protowire.BytesType), bytes.Repeat([]byte{'u'}, 200)))
	return m
}

// splicedRecord is a record whose properties the unified service wrote
// from JSON into its unknown fields (internal/structwire).
func splicedRecord(t testing.TB) *crmv1.Record {
	t.Helper()
	var w structwire.Writer
	props, ok := w.AppendField(nil, 3, `{"name":"Buddy","age":4,"tags":["a","b"],"price":{"currency":"USD","value":5},"ok":true,"none":null}`)
	if !ok {
		t.Fatal("AppendField refused the properties")
	}
	r := &crmv1.Record{Id: "r1", ObjectName: "custom_objects.pets", OwnerIds: []string{"u"}, CreatedAt: &timestamppb.Timestamp{Seconds: 1}}
	r.ProtoReflect().SetUnknown(props)
	return r
}

// deep nests n levels of Structs and lists, alternately.
func deep(n int) *structpb.Value {
	v := str("leaf")
	for i := range n {
		if i%2 == 0 {
			v = structpb.NewStructValue(obj(map[string]*structpb.Value{"k": v, "n": num(float64(i))}))
		} else {
			v = list(num(float64(i)), v, str(""))
		}
	}
	return v
}

// variedPage is a page whose records grow from empty to big (raw_data with
// strings of up to 40 KiB), so records straddle chunk boundaries, outgrow
// chunks, and need length prefixes of one to three bytes.
func variedPage(t testing.TB) *crmv1.ListRecordsResponse {
	page := &crmv1.ListRecordsResponse{NextCursor: strings.Repeat("c", 300), HasNextPage: true}
	for i := range 60 {
		r := benchRecord(t, i%3 == 0)
		r.Id = strings.Repeat("i", i*7)
		if i%5 == 0 {
			r.RawData = obj(map[string]*structpb.Value{"blob": str(strings.Repeat("b", i*i*11))})
		}
		page.Items = append(page.Items, r)
	}
	return page
}

func TestMarshalEquivalence(t *testing.T) {
	negZero := math.Copysign(0, -1)
	ts := &timestamppb.Timestamp{Seconds: 1_790_000_000, Nanos: 264_000_000}
	cases := []struct {
		name   string
		msg    proto.Message
		gaveUp bool
	}{
		{name: "page of 100", msg: benchPage(t, 100, false)},
		{name: "page of 100 with raw_data", msg: benchPage(t, 100, true)},
		{name: "varied page", msg: variedPage(t)},
		{name: "search page", msg: &crmv1.SearchRecordsResponse{Items: benchPage(t, 3, true).Items, NextCursor: "n", HasNextPage: true, Total: 1234}},
		{name: "stream page", msg: &crmv1.StreamRecordsResponse{Items: benchPage(t, 3, false).Items, NextCursor: "n"}},
		{name: "get", msg: &crmv1.GetRecordResponse{Record: benchRecord(t, true)}},
		{name: "create", msg: &crmv1.CreateRecordResponse{Record: benchRecord(t, false), Warnings: []string{"w1", "", "w3"}}},
		{name: "update", msg: &crmv1.UpdateRecordResponse{Record: benchRecord(t, false), Warnings: []string{strings.Repeat("w", 200)}}},

		// Zero values: nothing written for implicit presence, a non-nil
		// empty message written as tag + length 0.
		{name: "empty list", msg: &crmv1.ListRecordsResponse{}},
		{name: "empty search", msg: &crmv1.SearchRecordsResponse{}},
		{name: "empty stream", msg: &crmv1.StreamRecordsResponse{}},
		{name: "empty get", msg: &crmv1.GetRecordResponse{}},
		{name: "empty create", msg: &crmv1.CreateRecordResponse{}},
		{name: "empty update", msg: &crmv1.UpdateRecordResponse{}},
		{name: "empty record", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{}}},
		{name: "empty items", msg: &crmv1.ListRecordsResponse{Items: []*crmv1.Record{{}, {}}}},
		{name: "nil item", msg: &crmv1.ListRecordsResponse{Items: []*crmv1.Record{nil, {Id: "x"}, nil}}},
		{name: "empty non-nil structs", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{Properties: &structpb.Struct{}, RawData: obj(map[string]*structpb.Value{})}}},
		{name: "empty timestamps", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{CreatedAt: &timestamppb.Timestamp{}, UpdatedAt: &timestamppb.Timestamp{}}}},
		{name: "empty and nil id lists", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{OwnerIds: []string{}, FollowerIds: nil}}},
		{name: "empty strings in repeated", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{OwnerIds: []string{"", "o", ""}, FollowerIds: []string{""}}}},
		{name: "empty warning", msg: &crmv1.CreateRecordResponse{Warnings: []string{""}}},
		{name: "search negative total", msg: &crmv1.SearchRecordsResponse{Total: -1}},
		{name: "search extreme totals", msg: &crmv1.SearchRecordsResponse{Total: math.MinInt64, HasNextPage: true}},
		{name: "search max total", msg: &crmv1.SearchRecordsResponse{Total: math.MaxInt64}},

		// Timestamps are written as they are, valid or not.
		{name: "timestamps", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{CreatedAt: ts, UpdatedAt: &timestamppb.Timestamp{Seconds: -62135596800, Nanos: 999_999_999}}}},
		{name: "negative nanos", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{CreatedAt: &timestamppb.Timestamp{Nanos: -1}, UpdatedAt: &timestamppb.Timestamp{Seconds: -1, Nanos: math.MinInt32}}}},
		{name: "extreme seconds", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{CreatedAt: &timestamppb.Timestamp{Seconds: math.MaxInt64, Nanos: math.MaxInt32}, UpdatedAt: &timestamppb.Timestamp{Seconds: math.MinInt64}}}},

		// Value kinds: a set oneof member is written even at its zero.
		{name: "zero kinds", msg: withProps(map[string]*structpb.Value{
			"null": null(0), "zero": num(0), "negzero": num(negZero), "empty": str(""), "false": boolean(false),
			"true": boolean(true), "emptystruct": structpb.NewStructValue(&structpb.Struct{}), "emptylist": list(),
		})},
		{name: "odd numbers", msg: withProps(map[string]*structpb.Value{
			"nan": num(math.NaN()), "nanpayload": num(math.Float64frombits(0x7ff8_0000_0000_0123)),
			"inf": num(math.Inf(1)), "-inf": num(math.Inf(-1)), "tiny": num(math.SmallestNonzeroFloat64),
			"max": num(math.MaxFloat64), "neg": num(-12.5),
		})},
		{name: "out of range null values", msg: withProps(map[string]*structpb.Value{"neg": null(-1), "five": null(5), "min": null(math.MinInt32)})},
		{name: "no kind", msg: withProps(map[string]*structpb.Value{"none": {}})},
		{name: "nil wrappers", msg: withProps(map[string]*structpb.Value{
			"s": {Kind: (*structpb.Value_StringValue)(nil)}, "n": {Kind: (*structpb.Value_NumberValue)(nil)},
			"b": {Kind: (*structpb.Value_BoolValue)(nil)}, "z": {Kind: (*structpb.Value_NullValue)(nil)},
			"o": {Kind: (*structpb.Value_StructValue)(nil)}, "l": {Kind: (*structpb.Value_ListValue)(nil)},
		})},
		{name: "wrappers holding nil", msg: withProps(map[string]*structpb.Value{
			"o": {Kind: &structpb.Value_StructValue{}}, "l": {Kind: &structpb.Value_ListValue{}},
		})},
		{name: "empty key", msg: withProps(map[string]*structpb.Value{"": str("v")})},
		{name: "nil value", msg: withProps(map[string]*structpb.Value{"k": nil})},
		{name: "empty key, nil value", msg: withProps(map[string]*structpb.Value{"": nil})},
		{name: "nil and empty list elements", msg: withProps(map[string]*structpb.Value{"l": list(nil, str("a"), &structpb.Value{}, nil)})},
		{name: "non-ASCII", msg: withProps(map[string]*structpb.Value{"ключ": str("значение ✓ 🐕"), "é": list(str("ü"))})},
		{name: "deep", msg: withProps(map[string]*structpb.Value{"d": deep(40)})},
		{name: "long strings", msg: withProps(map[string]*structpb.Value{
			"127": str(strings.Repeat("a", 127)), "128": str(strings.Repeat("a", 128)),
			"16383": str(strings.Repeat("a", 16383)), "20000": str(strings.Repeat("a", 20000)),
			strings.Repeat("k", 300): str("long key"),
		})},
		{name: "body lengths around 127 and 16383", msg: &crmv1.ListRecordsResponse{Items: []*crmv1.Record{
			{Id: strings.Repeat("a", 125)}, {Id: strings.Repeat("a", 126)}, {Id: strings.Repeat("a", 16380)}, {Id: strings.Repeat("a", 16381)}, {Id: "x"},
		}}},
		{name: "huge record", msg: &crmv1.ListRecordsResponse{Items: append(benchPage(t, 40, false).Items,
			&crmv1.Record{Id: "big", RawData: obj(map[string]*structpb.Value{"b": str(strings.Repeat("b", 3<<20))})},
			benchRecord(t, false))}},

		// Unknown fields are written after the known ones, as
		// proto.Marshal writes them; a long one moves a length prefix.
		{name: "unknown fields: list", msg: withUnknown(&crmv1.ListRecordsResponse{})},
		{name: "unknown fields: search", msg: withUnknown(&crmv1.SearchRecordsResponse{Items: benchPage(t, 2, false).Items, Total: 2})},
		{name: "unknown fields: stream", msg: withUnknown(&crmv1.StreamRecordsResponse{})},
		{name: "unknown fields: get", msg: withUnknown(&crmv1.GetRecordResponse{})},
		{name: "unknown fields: create", msg: withUnknown(&crmv1.CreateRecordResponse{Warnings: []string{"w"}})},
		{name: "unknown fields: update", msg: withUnknown(&crmv1.UpdateRecordResponse{})},
		{name: "unknown fields: record", msg: &crmv1.GetRecordResponse{Record: withUnknown(&crmv1.Record{Id: "r"})}},
		{name: "unknown fields: struct", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{RawData: withUnknown(&structpb.Struct{})}}},
		{name: "unknown fields: value", msg: withProps(map[string]*structpb.Value{"k": withUnknown(str("v"))})},
		{name: "unknown fields: list value", msg: withProps(map[string]*structpb.Value{"k": structpb.NewListValue(withUnknown(&structpb.ListValue{}))})},
		{name: "unknown fields: timestamp", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{UpdatedAt: withUnknown(&timestamppb.Timestamp{Seconds: 1, Nanos: -1})}}},
		{name: "long unknown fields: timestamp", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{CreatedAt: withLongUnknown(&timestamppb.Timestamp{Seconds: 1})}}},
		{name: "long unknown fields: value", msg: withProps(map[string]*structpb.Value{"k": withLongUnknown(str("v"))})},
		{name: "spliced properties", msg: &crmv1.ListRecordsResponse{Items: []*crmv1.Record{splicedRecord(t), benchRecord(t, true), splicedRecord(t)}}},

		// Where the fast path gives up: invalid UTF-8 (proto.Marshal
		// fails).
		{name: "invalid UTF-8 id", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{Id: "a\xffb"}}, gaveUp: true},
		{name: "invalid UTF-8 object name", msg: &crmv1.ListRecordsResponse{Items: []*crmv1.Record{{ObjectName: "\xc0"}}}, gaveUp: true},
		{name: "invalid UTF-8 owner", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{OwnerIds: []string{"ok", "\xed\xa0\x80"}}}, gaveUp: true},
		{name: "invalid UTF-8 follower", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{FollowerIds: []string{"\xff"}}}, gaveUp: true},
		{name: "invalid UTF-8 key", msg: withProps(map[string]*structpb.Value{"k\xff": str("v")}), gaveUp: true},
		{name: "invalid UTF-8 long key", msg: withProps(map[string]*structpb.Value{strings.Repeat("k", 200) + "\xff": nil}), gaveUp: true},
		{name: "invalid UTF-8 nested value", msg: withProps(map[string]*structpb.Value{"a": list(str("ok"), structpb.NewStructValue(obj(map[string]*structpb.Value{"b": str("\x80")})))}), gaveUp: true},
		{name: "invalid UTF-8 raw data", msg: &crmv1.GetRecordResponse{Record: &crmv1.Record{RawData: obj(map[string]*structpb.Value{"x": str(strings.Repeat("x", 500) + "\xff")})}}, gaveUp: true},
		{name: "invalid UTF-8 cursor", msg: &crmv1.ListRecordsResponse{NextCursor: "\xff"}, gaveUp: true},
		{name: "invalid UTF-8 search cursor", msg: &crmv1.SearchRecordsResponse{Items: benchPage(t, 2, false).Items, NextCursor: "\xff"}, gaveUp: true},
		{name: "invalid UTF-8 stream cursor", msg: &crmv1.StreamRecordsResponse{NextCursor: "\xff"}, gaveUp: true},
		{name: "invalid UTF-8 warning", msg: &crmv1.UpdateRecordResponse{Warnings: []string{"ok", "\xff"}}, gaveUp: true},
		{name: "invalid UTF-8 in the last of many records", msg: &crmv1.ListRecordsResponse{Items: append(benchPage(t, 100, true).Items, &crmv1.Record{Id: "\xff"})}, gaveUp: true},

		// Not one of the six responses.
		{name: "other message", msg: &crmv1.ListObjectsResponse{}, gaveUp: true},
		{name: "a record itself", msg: benchRecord(t, false), gaveUp: true},
		{name: "nil message", msg: (*crmv1.ListRecordsResponse)(nil), gaveUp: true},
	}
	c := New(quietLog())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if gaveUp := checkSame(t, tc.msg); gaveUp != tc.gaveUp {
				t.Fatalf("fast path gave up: %v, want %v", gaveUp, tc.gaveUp)
			}
			checkCodec(t, c, tc.msg)
		})
	}
}

// TestExactBytes pins a few encodings by hand, independently of
// protobuf-go, for the cases where proto.Marshal's choice is surprising.
func TestExactBytes(t *testing.T) {
	props := func(kv map[string]*structpb.Value) proto.Message {
		return &crmv1.GetRecordResponse{Record: &crmv1.Record{Properties: obj(kv)}}
	}
	cases := []struct {
		name string
		msg  proto.Message
		want string
	}{
		// A nil element of a repeated message field is an empty message.
		{"nil item", &crmv1.ListRecordsResponse{Items: []*crmv1.Record{nil}}, "0a00"},
		// A non-nil empty message is tag + length 0; a nil one is absent.
		{"empty struct", &crmv1.GetRecordResponse{Record: &crmv1.Record{Properties: &structpb.Struct{}}}, "0a021a00"},
		// Map entries carry key and value even when empty or nil.
		{"empty key, nil value", props(map[string]*structpb.Value{"": nil}), "0a08" + "1a06" + "0a04" + "0a00" + "1200"},
		// -0 is a set oneof member: written, sign bit kept.
		{"negative zero", props(map[string]*structpb.Value{"z": num(math.Copysign(0, -1))}), "0a12" + "1a10" + "0a0e" + "0a017a" + "1209" + "110000000000000080"},
		// A nil oneof wrapper writes nothing, a wrapper holding a nil
		// Struct writes an empty struct_value.
		{"nil wrapper", props(map[string]*structpb.Value{"s": {Kind: (*structpb.Value_StructValue)(nil)}}), "0a09" + "1a07" + "0a05" + "0a0173" + "1200"},
		{"wrapper of nil", props(map[string]*structpb.Value{"s": {Kind: &structpb.Value_StructValue{}}}), "0a0b" + "1a09" + "0a07" + "0a0173" + "12022a00"},
		// Negative int32 nanos and enums are sign-extended to ten bytes.
		{"negative nanos", &crmv1.GetRecordResponse{Record: &crmv1.Record{CreatedAt: &timestamppb.Timestamp{Nanos: -1}}}, "0a0d320b10ffffffffffffffffff01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fastBytes(t, tc.msg, true)
			if !ok {
				t.Fatal("fast path gave up")
			}
			if h := hex.EncodeToString(got); h != tc.want {
				t.Fatalf("got %s, want %s", h, tc.want)
			}
			want, err := proto.Marshal(tc.msg)
			if err != nil || !bytes.Equal(want, got) {
				t.Fatalf("proto.Marshal: %x, %v", want, err)
			}
		})
	}
}

// TestChunks checks the pooled output: a big page comes in several
// buffers, none of them empty (a record that outgrows a fresh chunk gives
// the chunk back), all given back by Free.
func TestChunks(t *testing.T) {
	huge := &crmv1.Record{Id: "big", RawData: obj(map[string]*structpb.Value{"b": str(strings.Repeat("b", 100_000))})}
	for _, tc := range []struct {
		name      string
		msg       proto.Message
		minChunks int
	}{
		{"varied page", variedPage(t), 3},
		{"huge first record", &crmv1.ListRecordsResponse{Items: []*crmv1.Record{huge, benchRecord(t, false)}, NextCursor: "c"}, 2},
		{"huge get", &crmv1.GetRecordResponse{Record: huge}, 1},
		{"huge create", &crmv1.CreateRecordResponse{Record: huge, Warnings: []string{"w"}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pool countingPool
			out, ok := marshalFast(tc.msg, encoder{}, &pool)
			if !ok {
				t.Fatal("fast path gave up")
			}
			if len(out) < tc.minChunks {
				t.Errorf("a %d-byte message came in %d buffers, want at least %d", out.Len(), len(out), tc.minChunks)
			}
			for i, b := range out {
				if b.Len() == 0 {
					t.Errorf("buffer %d of %d is empty", i, len(out))
				}
			}
			if out.Len() != proto.Size(tc.msg) {
				t.Errorf("wrote %d bytes, proto.Size is %d", out.Len(), proto.Size(tc.msg))
			}
			out.Free()
			if pool.gets.Load() == 0 || pool.gets.Load() != pool.puts.Load() {
				t.Errorf("took %d pooled buffers, gave back %d", pool.gets.Load(), pool.puts.Load())
			}
		})
	}
}

func TestCodec(t *testing.T) {
	c := New(quietLog())
	if c.Name() != "proto" {
		t.Errorf("Name() = %q", c.Name())
	}
	// Not a message at all: grpc-go's error.
	checkCodec(t, c, "not a message")
	// Unmarshal is grpc-go's.
	page := benchPage(t, 3, true)
	out, err := c.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Free()
	var back crmv1.ListRecordsResponse
	if err := c.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&back, page) {
		t.Errorf("round trip: %v, want %v", &back, page)
	}
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer{0xff}}, &back); err == nil {
		t.Error("Unmarshal accepted garbage")
	}
}

// TestLayouts fails when a proto change makes the generated messages
// differ from what the encoder writes: update encode.go and fastLayouts.
func TestLayouts(t *testing.T) {
	if err := checkLayouts(fastLayouts()); err != nil {
		t.Fatal(err)
	}
	if !New(quietLog()).fast {
		t.Fatal("New turned the fast path off")
	}
	// A mismatch turns the fast path off: everything goes to grpc-go.
	layouts := fastLayouts()
	layouts[6].Fields = layouts[6].Fields[:7] // as if Record had no raw_data
	var logged bytes.Buffer
	c := newCodec(slog.New(slog.NewTextHandler(&logged, nil)), layouts)
	if c.fast || !strings.Contains(logged.String(), "crmgate.crm.v1.Record") {
		t.Fatalf("fast path on after a layout mismatch; log: %s", logged.String())
	}
	page := benchPage(t, 2, true)
	page.Items[0].ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
	checkCodec(t, c, page)
}
