package restjson

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// apiMessages are every message type of the API's files.
func apiMessages(t testing.TB) []protoreflect.MessageType {
	t.Helper()
	var out []protoreflect.MessageType
	for _, fd := range []protoreflect.FileDescriptor{crmv1.File_crmgate_crm_v1_crm_proto, corev1.File_crmgate_core_v1_core_proto} {
		msgs := fd.Messages()
		for i := range msgs.Len() {
			mt, err := protoregistry.GlobalTypes.FindMessageByName(msgs.Get(i).FullName())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, mt)
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d message types found", len(out))
	}
	return out
}

// filler sets random values, edge cases included, on a message's fields.
type filler struct {
	r *rand.Rand
	// odd makes values protojson refuses or writes specially (invalid
	// UTF-8, NaN in a Value, timestamps out of range, Values with no kind).
	odd bool
}

var edgeStrings = []string{"", "a", "Rex", "snake_case", "quote\"back\\slash", "ctl\x00\x01\x1f\b\f\n\r\t", "é日本\u2028\u2029<>&", "\uFFFD", "emoji 🐕", "/path?x=1"}

func (f *filler) str() string {
	if f.odd && f.r.IntN(20) == 0 {
		return "bad\xffutf8"
	}
	return edgeStrings[f.r.IntN(len(edgeStrings))]
}

var edgeFloats = []float64{0, 1, -1, 0.5, 3, 120.5, 1e-7, 1e-6, 1e20, 1e21, 123456789012345678, -2.5e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Copysign(0, -1)}

func (f *filler) num() float64 {
	if f.odd && f.r.IntN(30) == 0 {
		return []float64{math.NaN(), math.Inf(1), math.Inf(-1)}[f.r.IntN(3)]
	}
	if f.r.IntN(3) == 0 {
		return f.r.NormFloat64() * math.Pow(10, float64(f.r.IntN(40)-20))
	}
	return edgeFloats[f.r.IntN(len(edgeFloats))]
}

func (f *filler) value(depth int) *structpb.Value {
	n := 6
	if depth > 3 {
		n = 4
	}
	switch f.r.IntN(n + 1) {
	case 0:
		return structpb.NewNullValue()
	case 1:
		return structpb.NewStringValue(f.str())
	case 2:
		return structpb.NewNumberValue(f.num())
	case 3:
		return structpb.NewBoolValue(f.r.IntN(2) == 0)
	case 4:
		return structpb.NewStructValue(f.structValue(depth + 1))
	case 5:
		l := &structpb.ListValue{}
		for range f.r.IntN(4) {
			l.Values = append(l.Values, f.value(depth+1))
		}
		return structpb.NewListValue(l)
	default:
		if f.odd {
			return &structpb.Value{} // no kind
		}
		return structpb.NewStringValue("x")
	}
}

func (f *filler) structValue(depth int) *structpb.Struct {
	s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for range f.r.IntN(6) {
		s.Fields[f.str()] = f.value(depth)
	}
	return s
}

func (f *filler) timestamp() *timestamppb.Timestamp {
	ts := &timestamppb.Timestamp{Seconds: f.r.Int64N(maxTimestampSeconds), Nanos: []int32{0, 5, 120_000_000, 123_456_000, 999_999_999, 1_000}[f.r.IntN(6)]}
	if f.odd && f.r.IntN(10) == 0 {
		ts.Seconds = maxTimestampSeconds + 1
	}
	return ts
}

func (f *filler) message(m protoreflect.Message, depth int) {
	switch v := m.Interface().(type) {
	case *structpb.Struct:
		*v = *f.structValue(depth) //nolint:govet // fresh message, no copy of a lock in use
		return
	case *timestamppb.Timestamp:
		ts := f.timestamp()
		v.Seconds, v.Nanos = ts.Seconds, ts.Nanos
		return
	}
	fds := m.Descriptor().Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		if f.r.IntN(3) == 0 {
			continue // unset
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range f.r.IntN(3) {
				if fd.Kind() == protoreflect.MessageKind {
					if depth > 3 {
						break
					}
					e := l.NewElement()
					f.message(e.Message(), depth+1)
					l.Append(e)
				} else {
					l.Append(f.scalar(fd))
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			if depth > 3 {
				continue
			}
			f.message(m.Mutable(fd).Message(), depth+1)
		default:
			m.Set(fd, f.scalar(fd))
		}
	}
}

func (f *filler) scalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(f.str())
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(f.r.IntN(2) == 0)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32([]int32{0, 1, -1, 100, math.MaxInt32, math.MinInt32}[f.r.IntN(6)])
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64([]int64{0, 1, -1, math.MaxInt64, math.MinInt64}[f.r.IntN(5)])
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(f.r.Uint32())
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(f.r.Uint64())
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(f.num())
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(f.num()))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte(f.str()))
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(f.r.IntN(4)))
	}
	panic("unhandled kind " + fd.Kind().String())
}

// compare requires Marshal's fast path to write exactly protojson's
// (compacted) output, or to hand the message to protojson; and Marshal
// to answer what protojson answers, errors included.
func compare(t *testing.T, m proto.Message) {
	t.Helper()
	mar := New()
	want, wantErr := mar.marshalProtojson(m)
	fast, fastErr := marshalFast(m)
	switch {
	case fastErr == nil && wantErr != nil:
		t.Fatalf("%T: fast path wrote %s where protojson fails: %v", m, fast, wantErr)
	case fastErr == nil && string(fast) != string(want):
		t.Fatalf("%T:\nfast      %s\nprotojson %s", m, fast, want)
	case fastErr != nil && !errors.Is(fastErr, errFallback):
		t.Fatalf("%T: fast path error %v, not a fallback", m, fastErr)
	}
	got, err := mar.Marshal(m)
	if (err != nil) != (wantErr != nil) || string(got) != string(want) {
		t.Fatalf("%T: Marshal = %s, %v; protojson %s, %v", m, got, err, want, wantErr)
	}
}

// TestMatchesProtojson fills every API message type at random, ordinary
// values and edge cases, and compares Marshal with protojson.
func TestMatchesProtojson(t *testing.T) {
	types := apiMessages(t)
	for _, odd := range []bool{false, true} {
		f := filler{r: rand.New(rand.NewPCG(1, 2)), odd: odd}
		for range 40 {
			for _, mt := range types {
				m := mt.New()
				f.message(m, 0)
				compare(t, m.Interface())
			}
		}
	}
	// Unset everything, and nil messages inside lists are not possible
	// through protoreflect; a typed nil top-level message is.
	for _, mt := range types {
		compare(t, mt.New().Interface())
	}
	compare(t, (*crmv1.Record)(nil))
}

// FuzzMarshal drives the filler from fuzz input.
func FuzzMarshal(f *testing.F) {
	f.Add(uint64(1), uint64(2), false)
	f.Add(uint64(3), uint64(4), true)
	f.Fuzz(func(t *testing.T, a, b uint64, odd bool) {
		types := apiMessages(t)
		fl := filler{r: rand.New(rand.NewPCG(a, b)), odd: odd}
		mt := types[int(a%uint64(len(types)))]
		m := mt.New()
		fl.message(m, 0)
		compare(t, m.Interface())
	})
}
