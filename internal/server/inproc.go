package server

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// inprocConn is the REST facade's connection to the services: a
// grpc.ClientConnInterface that runs unary methods as direct function calls
// through the same interceptor chain a gRPC call passes, with no codec, no
// HTTP/2 framing and no goroutine hand-offs. grpc-gateway's generated
// client code calls it as it would call a remote server; what it sees is
// the same: incoming metadata from the forwarded headers, response headers
// and trailers set by handlers, status errors.
//
// Streaming methods have no REST routes: NewStream answers Unimplemented.
type inprocConn struct {
	unary map[string]inprocMethod
	chain grpc.UnaryServerInterceptor
}

var _ grpc.ClientConnInterface = (*inprocConn)(nil)

type inprocMethod struct {
	srv     any
	handler grpc.MethodHandler
}

// newInprocConn serves the unary methods of each registered service
// (desc and its implementation) through chain.
func newInprocConn(chain grpc.UnaryServerInterceptor, services map[*grpc.ServiceDesc]any) *inprocConn {
	c := &inprocConn{unary: map[string]inprocMethod{}, chain: chain}
	for desc, impl := range services {
		for _, m := range desc.Methods {
			c.unary["/"+desc.ServiceName+"/"+m.MethodName] = inprocMethod{srv: impl, handler: m.Handler}
		}
	}
	return c
}

// Invoke calls a unary method directly. args and reply are the gateway's
// request and a fresh response message; neither is used by the gateway
// after the call except reply, so the request is moved into the handler's
// message and the handler's response moved into reply (field by field, no
// deep copy), which is what a codec round trip would produce without its
// cost.
func (c *inprocConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	m, ok := c.unary[method]
	if !ok {
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	ctx = metadata.NewIncomingContext(ctx, md)
	st := &inprocTransportStream{method: method}
	ctx = grpc.NewContextWithServerTransportStream(ctx, st)

	dec := func(v any) error { return move(v, args) }
	resp, err := m.handler(m.srv, ctx, dec, c.chain)

	st.mu.Lock()
	header, trailer := st.header, st.trailer
	st.mu.Unlock()
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = header
		case grpc.TrailerCallOption:
			*o.TrailerAddr = trailer
		}
	}
	if err != nil {
		if _, ok := status.FromError(err); !ok {
			// What a gRPC server sends for a non-status error.
			return status.Error(codes.Unknown, err.Error())
		}
		return err
	}
	return move(reply, resp)
}

// NewStream implements grpc.ClientConnInterface: streaming RPCs are
// gRPC-only (no REST route reaches here).
func (c *inprocConn) NewStream(_ context.Context, _ *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Errorf(codes.Unimplemented, "%s is served over gRPC only", method)
}

// move sets *dst to *src: both must be pointers to the same message type.
// The source must not be used afterwards (it shares the moved fields).
func move(dst, src any) error {
	d, s := reflect.ValueOf(dst), reflect.ValueOf(src)
	if d.Kind() != reflect.Pointer || d.IsNil() || s.Type() != d.Type() || s.IsNil() {
		return status.Error(codes.Internal, fmt.Sprintf("in-process call: cannot move %T into %T", src, dst))
	}
	d.Elem().Set(s.Elem())
	return nil
}

// inprocTransportStream collects the headers and trailers handlers set with
// grpc.SetHeader / grpc.SendHeader / grpc.SetTrailer.
type inprocTransportStream struct {
	method string

	mu      sync.Mutex
	header  metadata.MD
	trailer metadata.MD
}

var _ grpc.ServerTransportStream = (*inprocTransportStream)(nil)

func (s *inprocTransportStream) Method() string { return s.method }

func (s *inprocTransportStream) SetHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = metadata.Join(s.header, md)
	return nil
}

func (s *inprocTransportStream) SendHeader(md metadata.MD) error { return s.SetHeader(md) }

func (s *inprocTransportStream) SetTrailer(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trailer = metadata.Join(s.trailer, md)
	return nil
}

// chainUnary composes interceptors into one, first outermost (as
// grpc.ChainUnaryInterceptor does).
func chainUnary(ics ...grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		h := handler
		for i := len(ics) - 1; i >= 0; i-- {
			ic, next := ics[i], h
			h = func(ctx context.Context, req any) (any, error) { return ic(ctx, req, info, next) }
		}
		return h(ctx, req)
	}
}
