package server

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crmgate/crmgate/internal/structwire"
)

// TestInprocAsksForJSONFields: calls from the REST facade tell services
// that their answer goes to the REST encoder, which reads Struct fields
// in JSON form (a page's properties as the provider's JSON); gRPC calls
// do not pass here and get wire form.
func TestInprocAsksForJSONFields(t *testing.T) {
	desc := &grpc.ServiceDesc{ServiceName: "test.S", Methods: []grpc.MethodDesc{{
		MethodName: "M",
		Handler: func(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(structpb.Value)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, _ any) (any, error) {
				return structpb.NewBoolValue(structwire.JSONFieldsWanted(ctx)), nil
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{FullMethod: "/test.S/M"}, h)
		},
	}}}
	c := newInprocConn(chainUnary(), map[*grpc.ServiceDesc]any{desc: struct{}{}})
	out := new(structpb.Value)
	if err := c.Invoke(context.Background(), "/test.S/M", structpb.NewNullValue(), out); err != nil {
		t.Fatal(err)
	}
	if !out.GetBoolValue() {
		t.Fatal("the handler's context does not ask for JSON-form fields")
	}
	if structwire.JSONFieldsWanted(context.Background()) {
		t.Fatal("a plain context asks for JSON-form fields")
	}
}
