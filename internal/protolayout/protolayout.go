// Package protolayout guards the hand-written encoders of generated
// protobuf messages (internal/restjson for REST JSON, internal/grpccodec
// for gRPC's wire format). Each encoder lists, for every message it
// writes, the fields it writes as its own Signature renders them; Check
// compares that list with the generated descriptors. A proto change the
// encoder does not know about then turns its fast path off (and fails its
// test) instead of silently dropping or misencoding a field.
package protolayout

import (
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Layout is a message an encoder writes and its fields, in declaration
// order, as the encoder's Signature renders them.
type Layout struct {
	Message proto.Message
	Fields  []string
}

// Signature renders what of a field decides an encoder's output (its
// name, number, cardinality, kind: whatever the encoder depends on).
type Signature func(protoreflect.FieldDescriptor) string

// Check compares each layout with its message's descriptor and returns
// an error naming every message whose fields differ, nil when all match.
func Check(layouts []Layout, sig Signature) error {
	var errs []error
	for _, l := range layouts {
		md := l.Message.ProtoReflect().Descriptor()
		if got := Fields(md, sig); !slices.Equal(got, l.Fields) {
			errs = append(errs, fmt.Errorf("%s has %q, the encoder writes %q", md.FullName(), got, l.Fields))
		}
	}
	return errors.Join(errs...)
}

// Fields renders md's fields with sig, in declaration order.
func Fields(md protoreflect.MessageDescriptor, sig Signature) []string {
	fds := md.Fields()
	out := make([]string, 0, fds.Len())
	for i := range fds.Len() {
		out = append(out, sig(fds.Get(i)))
	}
	return out
}
