package server

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/crmgate/crmgate/internal/apierr"
)

// inflight bounds the calls being served at once, REST and gRPC together,
// so an overload (callers offering more work than the CPUs can do) is
// answered with a retryable error instead of growing queues and memory
// until the process is killed. A call over the limit waits up to queueWait
// for a slot (absorbing short bursts), then fails with UNAVAILABLE
// (HTTP 503), reason GATEWAY_OVERLOADED, which clients retry with backoff.
// Health checks and reflection are never limited.
type inflight struct {
	slots     chan struct{}
	queueWait time.Duration
}

// newInflight returns a limiter of max calls; max <= 0 means no limit (nil).
func newInflight(maxCalls int, queueWait time.Duration) *inflight {
	if maxCalls <= 0 {
		return nil
	}
	return &inflight{slots: make(chan struct{}, maxCalls), queueWait: queueWait}
}

// errOverloaded is the answer to a call that found no slot.
var errOverloaded = apierr.New(codes.Unavailable, "GATEWAY_OVERLOADED",
	"the gateway is serving as many calls as it is configured for; retry with backoff")

// acquire takes a slot, waiting at most queueWait (and never past ctx).
func (l *inflight) acquire(ctx context.Context) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
		return l.release, nil
	default:
	}
	if l.queueWait <= 0 {
		return nil, errOverloaded
	}
	t := time.NewTimer(l.queueWait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return l.release, nil
	case <-t.C:
		return nil, errOverloaded
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *inflight) release() { <-l.slots }

// unary limits unary calls.
func (l *inflight) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if public(info.FullMethod) {
			return handler(ctx, req)
		}
		release, err := l.acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
		return handler(ctx, req)
	}
}

// stream limits streaming calls (a stream holds its slot while it runs).
func (l *inflight) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if public(info.FullMethod) {
			return handler(srv, ss)
		}
		release, err := l.acquire(ss.Context())
		if err != nil {
			return err
		}
		defer release()
		return handler(srv, ss)
	}
}
