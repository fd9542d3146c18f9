package structwire

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// MergeUnknown moves the unknown fields of m, and of every message in it,
// into their known fields where the field numbers are known, as a
// proto.Marshal and proto.Unmarshal round trip would: a Record whose
// properties were written by a Writer gets its Properties Struct, and
// one whose properties travel in JSON form gets them too
// (ExpandJSONFields). Fields whose numbers are not in the schema stay
// unknown. It fails, leaving the message where it failed as it was, on
// bytes that do not parse and on JSON form that is not a JSON object
// (ErrJSONField).
//
// It is for readers that see only known fields (protojson, code reading
// the Go fields); encoders that write unknown fields (proto.Marshal, the
// gRPC codec) need not call it.
func MergeUnknown(m proto.Message) error {
	return mergeUnknown(m.ProtoReflect())
}

func mergeUnknown(m protoreflect.Message) error {
	if u := m.GetUnknown(); len(u) != 0 {
		wire, err := ExpandJSONFields(u)
		if err != nil {
			return fmt.Errorf("merge unknown fields of %s: %w", m.Descriptor().FullName(), err)
		}
		m.SetUnknown(nil)
		if err := (proto.UnmarshalOptions{Merge: true, AllowPartial: true}).Unmarshal(wire, m.Interface()); err != nil {
			m.SetUnknown(u)
			return fmt.Errorf("merge unknown fields of %s: %w", m.Descriptor().FullName(), err)
		}
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					err = mergeUnknown(mv.Message())
					return err == nil
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				l := v.List()
				for i := 0; i < l.Len() && err == nil; i++ {
					err = mergeUnknown(l.Get(i).Message())
				}
			}
		case fd.Message() != nil:
			err = mergeUnknown(v.Message())
		}
		return err == nil
	})
	return err
}
