package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/telemetry"
)

// publicMethods need no API key.
func public(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/") || strings.HasPrefix(method, "/grpc.reflection.")
}

// recovered is the panic handler of go-grpc-middleware's recovery
// interceptors: it logs the panic with its stack and answers the safe
// INTERNAL "internal error" (nothing of the panic reaches the caller).
func recovered(log *slog.Logger) recovery.Option {
	return recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		method, _ := grpc.Method(ctx)
		log.ErrorContext(ctx, "panic in handler", "method", method, "panic", p, "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error")
	})
}

// grpcMetrics are the gRPC port's Prometheus interceptors
// (telemetry.Metrics; nil: none), outermost so they count every call
// with its final code; the REST facade's in-process calls do not pass them.
func grpcMetrics(m *telemetry.Metrics) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	if m == nil {
		return nil, nil
	}
	return []grpc.UnaryServerInterceptor{m.GRPCUnaryInterceptor()}, []grpc.StreamServerInterceptor{m.GRPCStreamInterceptor()}
}

// errorsUnary maps domain errors to statuses (the one mapping: apierr.Status).
func errorsUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, apierr.Status(ctx, log, info.FullMethod, err)
		}
		return resp, nil
	}
}

// adminMethods are the AdminService's: authenticated by x-admin-key, not
// by an organisation's x-apikey.
func adminMethod(method string) bool {
	return strings.HasPrefix(method, "/crmgate.admin.v1.AdminService/")
}

// authUnary authenticates every non-public call: AdminService calls by
// their x-admin-key (admin nil: refused as disabled), all others by their
// x-apikey.
func authUnary(a *auth.Authenticator, admin *auth.AdminAuthenticator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if public(info.FullMethod) {
			return handler(ctx, req)
		}
		if adminMethod(info.FullMethod) {
			if err := admin.Check(auth.MetadataValue(ctx, auth.HeaderAdminKey), auth.MetadataValue(ctx, auth.HeaderAPIKey)); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		}
		p, err := a.Authenticate(ctx, auth.MetadataValue(ctx, auth.HeaderAPIKey))
		if err != nil {
			return nil, err
		}
		noteOrg(ctx, p.OrganisationID)
		return handler(auth.WithPrincipal(ctx, p), req)
	}
}

// authStream guards streaming methods (only reflection is public).
func authStream(a *auth.Authenticator, log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if public(info.FullMethod) {
			return handler(srv, ss)
		}
		p, err := a.Authenticate(ss.Context(), auth.MetadataValue(ss.Context(), auth.HeaderAPIKey))
		if err != nil {
			return apierr.Status(ss.Context(), log, info.FullMethod, err)
		}
		noteOrg(ss.Context(), p.OrganisationID)
		return handler(srv, withStreamContext(ss, auth.WithPrincipal(ss.Context(), p)))
	}
}

// HeaderWait is the request header (gRPC metadata) choosing how long a call
// may queue for the provider's rate-limit budget: "0" fails fast with 429
// and Retry-After; a number of seconds caps the wait.
const HeaderWait = "x-crmgate-wait"

// callOptionsUnary carries the caller's provider-call preferences
// (x-crmgate-wait) to the upstream transport.
func callOptionsUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := withCallOptions(ctx)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func clipHeader(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
