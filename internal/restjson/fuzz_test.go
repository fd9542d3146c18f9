package restjson

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/jsonscan"
	"github.com/crmgate/crmgate/internal/structwire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// FuzzMarshal builds a response message from the fuzz input and requires
// Marshaler to agree with runtime.JSONPb: same error, or same JSON. When
// the input's first byte does not allow odd shapes (nil elements, Values
// without a kind, nil oneof wrappers), the fast path must also have
// encoded every message protojson accepts, so the comparison is not just
// the fallback compared with itself.
func FuzzMarshal(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x00record with a few properties"))
	f.Add([]byte("\x01\x03list\xff\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0\xd0\xe0\xf0"))
	f.Add([]byte("\x00\x05\x07\x7f\xf0\x00\x00\x00\x00\x00\x00\x01\x02\x03"))
	f.Add([]byte("\x00\x07nested\x04\x04\x04\x05\x05\x05\x01\x02\x03\x04"))
	m := newTest()
	ref := reference()
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &gen{data: data}
		odd := g.byte()&1 == 1
		g.odd = odd
		msg := g.message()
		same(t, m, msg)
		if odd {
			return
		}
		_, fast := m.marshalFast(msg)
		dv, ok := asDecoded(msg)
		if !ok {
			return
		}
		if _, err := ref.Marshal(dv); err == nil && !fast && canonical(msg) {
			t.Fatalf("protojson encodes %v but the fast path gave up", msg)
		}
	})
}

// gen turns bytes into messages; an exhausted input reads as zeros.
type gen struct {
	data  []byte
	odd   bool // allow shapes the fast path hands to protojson
	depth int
}

func (g *gen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

func (g *gen) uint64() uint64 {
	var b [8]byte
	n := copy(b[:], g.data)
	g.data = g.data[n:]
	return binary.LittleEndian.Uint64(b[:])
}

// runes the strings are made of when not raw: the characters protojson
// escapes or treats specially, and multi-byte ones.
var runes = []string{
	"a", "Z", "0", " ", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x00", "\x01", "\x1f", "\x7f",
	"<", ">", "&", "é", "€", "😀", "\u2028", "\u2029", "\ufffd", "\u00ff", "_", "-",
}

func (g *gen) string() string {
	n := int(g.byte() % 12)
	if g.byte()%8 == 0 { // raw bytes: may be invalid UTF-8
		n = min(n, len(g.data))
		s := string(g.data[:n])
		g.data = g.data[n:]
		return s
	}
	var s string
	for range n {
		s += runes[int(g.byte())%len(runes)]
	}
	return s
}

func (g *gen) strings() []string {
	switch n := int(g.byte() % 5); n {
	case 0:
		return nil
	case 1:
		return []string{}
	default:
		out := make([]string, n-1)
		for i := range out {
			out[i] = g.string()
		}
		return out
	}
}

var floats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 1e21, 1e20, 999999999999999999999, 1e-6, 1e-7, 9.99999e-7,
	5e-324, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1 << 53, 1<<53 + 1,
	math.NaN(), math.Inf(1), math.Inf(-1), 123.456, -0.000001, 1e100, 1e-100,
}

func (g *gen) float() float64 {
	switch g.byte() % 4 {
	case 0:
		return math.Float64frombits(g.uint64()) // any bit pattern: NaNs, subnormals, huge
	case 1:
		return float64(int8(g.byte()))
	case 2:
		return float64(int32(g.uint64())) / math.Pow10(int(g.byte()%12))
	default:
		return floats[int(g.byte())%len(floats)]
	}
}

func (g *gen) timestamp() *timestamppb.Timestamp {
	switch g.byte() % 6 {
	case 0:
		return nil
	case 1: // anything, mostly out of range
		return &timestamppb.Timestamp{Seconds: int64(g.uint64()), Nanos: int32(g.uint64())}
	case 2: // edges of the range
		secs := []int64{minTimestampSeconds - 1, minTimestampSeconds, 0, -1, maxTimestampSeconds, maxTimestampSeconds + 1}
		nanos := []int32{-1, 0, 1, 1000, 1_000_000, maxNanos, maxNanos + 1, 500_000_000}
		return &timestamppb.Timestamp{Seconds: secs[int(g.byte())%len(secs)], Nanos: nanos[int(g.byte())%len(nanos)]}
	default: // in range, with 0, 3, 6 or 9 fractional digits
		secs := minTimestampSeconds + int64(g.uint64()%uint64(maxTimestampSeconds-minTimestampSeconds+1))
		nanos := int32(g.uint64() % 1_000_000_000)
		switch g.byte() % 4 {
		case 0:
			nanos = 0
		case 1:
			nanos -= nanos % 1_000_000
		case 2:
			nanos -= nanos % 1_000
		}
		return &timestamppb.Timestamp{Seconds: secs, Nanos: nanos}
	}
}

func (g *gen) structOrNil() *structpb.Struct {
	if g.byte()%4 == 0 {
		return nil
	}
	return g.structValue()
}

func (g *gen) structValue() *structpb.Struct {
	n := int(g.byte() % 6)
	if n == 0 {
		return &structpb.Struct{} // nil Fields
	}
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, n-1)}
	for range n - 1 {
		s.Fields[g.string()] = g.value()
	}
	return s
}

func (g *gen) value() *structpb.Value {
	g.depth++
	defer func() { g.depth-- }()
	kinds := byte(4)
	if g.depth < 5 {
		kinds = 6
	}
	if g.odd {
		kinds = 9
	}
	switch g.byte() % kinds {
	case 0:
		return &structpb.Value{Kind: &structpb.Value_NullValue{NullValue: structpb.NullValue(g.byte() % 3)}}
	case 1:
		return structpb.NewNumberValue(g.float())
	case 2:
		return structpb.NewStringValue(g.string())
	case 3:
		return structpb.NewBoolValue(g.byte()&1 == 1)
	case 4:
		if g.depth >= 5 {
			return structpb.NewNullValue()
		}
		return structpb.NewStructValue(g.structValue())
	case 5:
		if g.depth >= 5 {
			return structpb.NewNullValue()
		}
		n := int(g.byte() % 5)
		l := &structpb.ListValue{}
		for range n {
			l.Values = append(l.Values, g.value())
		}
		return structpb.NewListValue(l)
	case 6:
		return nil
	case 7:
		return &structpb.Value{}
	default: // nil oneof wrappers and nil messages inside them
		odd := []*structpb.Value{
			{Kind: (*structpb.Value_NullValue)(nil)},
			{Kind: (*structpb.Value_NumberValue)(nil)},
			{Kind: (*structpb.Value_StringValue)(nil)},
			{Kind: (*structpb.Value_BoolValue)(nil)},
			{Kind: (*structpb.Value_StructValue)(nil)},
			{Kind: (*structpb.Value_ListValue)(nil)},
			{Kind: &structpb.Value_StructValue{}},
			{Kind: &structpb.Value_ListValue{}},
		}
		return odd[int(g.byte())%len(odd)]
	}
}

// recordOrNil is a message field: nil is written as null.
func (g *gen) recordOrNil() *crmv1.Record {
	if g.byte()%5 == 0 {
		return nil
	}
	return g.record()
}

// record may be nil only in odd mode (a nil list element).
func (g *gen) record() *crmv1.Record {
	if g.odd && g.byte()%7 == 0 {
		return nil
	}
	r := &crmv1.Record{
		Id:          g.string(),
		ObjectName:  g.string(),
		Properties:  g.structOrNil(),
		OwnerIds:    g.strings(),
		FollowerIds: g.strings(),
		CreatedAt:   g.timestamp(),
		UpdatedAt:   g.timestamp(),
		RawData:     g.structOrNil(),
	}
	g.splice(r)
	return r
}

// splice may move r's properties into its unknown fields, as a page's
// records carry them (internal/structwire): in the form structwire
// writes (keys in order; protobuf-go's deterministic form is the same),
// in map order (the fast path must refuse unordered keys), or followed by
// bytes from the input (anything at all, for the reader to refuse).
func (g *gen) splice(r *crmv1.Record) {
	mode := g.byte() % 5
	if mode < 2 || r.Properties == nil {
		return
	}
	props, err := proto.MarshalOptions{Deterministic: mode == 2}.Marshal(&crmv1.Record{Properties: r.Properties})
	if err != nil {
		return // invalid UTF-8: protobuf-go writes no such bytes
	}
	if mode == 4 {
		n := min(int(g.byte()%8), len(g.data))
		props = append(props, g.data[:n]...)
		g.data = g.data[n:]
	}
	r.Properties = nil
	r.ProtoReflect().SetUnknown(props)
}

func (g *gen) records() []*crmv1.Record {
	n := int(g.byte() % 5)
	if n == 0 {
		return nil
	}
	out := make([]*crmv1.Record, n-1)
	for i := range out {
		out[i] = g.record()
	}
	return out
}

func (g *gen) property() *crmv1.Property {
	if g.odd && g.byte()%7 == 0 {
		return nil
	}
	p := &crmv1.Property{
		Id: g.string(), Label: g.string(), Description: g.string(), Type: g.string(),
		IsRequired: g.byte()&1 == 1, Precision: int32(g.uint64()), Scale: int32(g.byte()),
		GroupName: g.string(), RawDetails: g.structOrNil(),
	}
	for range int(g.byte() % 4) {
		var o *crmv1.Option
		if !g.odd || g.byte()%7 != 0 {
			o = &crmv1.Option{Label: g.string(), Value: g.string(), Description: g.string(), Hidden: g.byte()&1 == 1}
		}
		p.Options = append(p.Options, o)
	}
	return p
}

func (g *gen) object() *crmv1.Object {
	o := &crmv1.Object{
		Name: g.string(), Type: g.string(), Description: g.string(), PrimaryFieldId: g.string(),
		CreatedAt: g.timestamp(), UpdatedAt: g.timestamp(), RawData: g.structOrNil(),
	}
	if g.byte()&1 == 1 {
		o.Labels = &crmv1.Labels{Singular: g.string(), Plural: g.string()}
	}
	return o
}

// message returns one of the messages the fast path writes.
func (g *gen) message() any {
	switch g.byte() % 8 {
	case 0:
		return &crmv1.GetRecordResponse{Record: g.recordOrNil()}
	case 1:
		return &crmv1.CreateRecordResponse{Record: g.recordOrNil(), Warnings: g.strings()}
	case 2:
		return &crmv1.UpdateRecordResponse{Record: g.recordOrNil(), Warnings: g.strings()}
	case 3:
		return &crmv1.ListRecordsResponse{Items: g.records(), NextCursor: g.string(), HasNextPage: g.byte()&1 == 1}
	case 4:
		return &crmv1.SearchRecordsResponse{
			Items: g.records(), NextCursor: g.string(), HasNextPage: g.byte()&1 == 1, Total: int64(g.uint64()),
		}
	case 5:
		l := &crmv1.ListPropertiesResponse{}
		for range int(g.byte() % 4) {
			l.Items = append(l.Items, g.property())
		}
		return l
	case 6:
		if p := g.property(); p != nil {
			return p
		}
		return (*crmv1.Property)(nil)
	default:
		return g.object()
	}
}

// FuzzJSONProperties: a page whose records carry properties in JSON form
// (the provider's JSON as it came, as REST calls get them) encodes as
// protojson encodes the Struct encoding/json makes of that JSON, or fails
// where that JSON is not an object encoding/json decodes. The fast path
// must take exactly the JSON structwire.Writer takes, so that the
// comparison is not the fallback compared with itself.
//
//	go test ./internal/restjson -run '^$' -fuzz FuzzJSONProperties -fuzztime 60s
func FuzzJSONProperties(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { "b" : 1 , "a" : [ true , false , null ] } `,
		`{"name":"Buddy 0","age":0,"price":{"currency":"default","value":50},"tags":["friendly","playful"]}`,
		`{"z":1,"a":2,"m":{"y":1,"b":[{"q":1,"c":2}]}}`, `{"b":1,"a":2,"b":3,"a":4,"c":5,"a":6}`,
		`{"caf\u00e9":"\"quoted\" \\ \/ \b\f\n\r\t \ud83d\ude00 \ud800","\u0061":1,"a":2}`,
		"{\"k\xff\":\"v\xfe\",\"l\":[\"\xff\",\"ok\"]}",
		`{"n":-0,"m":1.5e3,"x":1E-2,"big":1e308,"neg":-12.5e-3,"i":123456789012345678,"j":9007199254740993,"f":0.30000000000000004}`,
		`{"a":1,"b":[1,-2,true,null,{}],"c":{"d":"é"}}`, `{"a":-0,"b":123456789012345}`, `{"a":9007199254740993}`, `{"huge":1e309}`, `{"a":01}`, `{"a":"\x"}`, `{"a":1,}`, `null`, `[]`, ``, `{"a":1} x`,
		`{"d":` + strings.Repeat(`[`, jsonscan.MaxDepth+1) + strings.Repeat(`]`, jsonscan.MaxDepth+1) + `}`,
		`{"d":` + strings.Repeat(`{"x":`, jsonscan.MaxDepth) + `1` + strings.Repeat(`}`, jsonscan.MaxDepth) + `}`,
	} {
		f.Add(s)
	}
	m := newTest()
	var w structwire.Writer
	f.Fuzz(func(t *testing.T, js string) {
		msg := &crmv1.ListRecordsResponse{Items: []*crmv1.Record{
			jsonForm(&crmv1.Record{Id: "a", ObjectName: "pet"}, js),
			jsonForm(&crmv1.Record{Id: "b", ObjectName: "pet"}, `{"b":1,"a":2}`),
		}}
		same(t, m, msg)
		got, fast := m.marshalFast(msg)
		if _, takes := w.AppendField(nil, 3, js); fast != takes {
			t.Fatalf("fast path took %q: %v; structwire.Writer: %v", js, fast, takes)
		}
		// JSON the adapter's check calls canonical is copied, and must
		// come out as the encoder writes it.
		d := jsonscan.Scanner{S: js}
		if ok, canonical := d.CheckObject(0, func(int, int, jsonscan.Kind) bool { return true }); ok && canonical && d.I == len(js) {
			if !fast {
				t.Fatalf("fast path refused canonical JSON %q", js)
			}
			msg.Items[0].ProtoReflect().SetUnknown(structwire.AppendJSONField(nil, 3, js, true))
			copied, _ := m.marshalFast(msg)
			if string(copied) != string(got) {
				t.Fatalf("canonical JSON %q copied as\n%s\nwritten as\n%s", js, copied, got)
			}
		}
	})
}
