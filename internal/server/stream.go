package server

import (
	"context"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/upstream"
)

// streamInterceptors is the streaming counterpart of the unary chain:
// recovery, error mapping (apierr.Status, as errorsUnary), authentication
// (the principal goes into the stream's context, as authUnary does) and the
// caller's provider-call preferences (x-crmgate-wait).
// extra (e.g. the in-flight limit) runs after error mapping and before
// authentication.
func streamInterceptors(a *auth.Authenticator, log *slog.Logger, extra ...grpc.StreamServerInterceptor) []grpc.StreamServerInterceptor {
	out := []grpc.StreamServerInterceptor{recovery.StreamServerInterceptor(recovered(log)), errorsStream(log)}
	out = append(out, extra...)
	return append(out, authStream(a, log), callOptionsStream())
}

// ctxStream is a ServerStream with a replaced context.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }

func withStreamContext(ss grpc.ServerStream, ctx context.Context) grpc.ServerStream {
	return &ctxStream{ServerStream: ss, ctx: ctx}
}

// errorsStream maps domain errors to statuses (the one mapping: apierr.Status).
func errorsStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := handler(srv, ss); err != nil {
			return apierr.Status(ss.Context(), log, info.FullMethod, err)
		}
		return nil
	}
}

// callOptionsStream is callOptionsUnary for streams.
func callOptionsStream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := withCallOptions(ss.Context())
		if err != nil {
			return err
		}
		return handler(srv, withStreamContext(ss, ctx))
	}
}

// withCallOptions carries the caller's x-crmgate-wait to the upstream
// transport (upstream.Call), or refuses a malformed value.
func withCallOptions(ctx context.Context) (context.Context, error) {
	v := auth.MetadataValue(ctx, HeaderWait)
	if v == "" {
		return ctx, nil
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs < 0 || secs > 3600 || math.IsNaN(secs) {
		return ctx, apierr.New(codes.InvalidArgument, "WAIT_INVALID", "%s must be a number of seconds between 0 and 3600, got %q", HeaderWait, clipHeader(v))
	}
	call, _ := upstream.CallFrom(ctx)
	if secs == 0 {
		call.FailFast = true
	} else {
		call.MaxWait = time.Duration(secs * float64(time.Second))
	}
	return upstream.WithCall(ctx, call), nil
}
