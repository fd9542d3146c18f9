package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
)

// publicMethods need no API key.
func public(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.Health/") || strings.HasPrefix(method, "/grpc.reflection.")
}

// recoverUnary turns a panic into Internal, logging the stack.
func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ctx, "panic in handler", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				resp, err = nil, status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(ctx, req)
	}
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
