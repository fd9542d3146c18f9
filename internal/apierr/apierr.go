// Package apierr is the one place where errors become API answers: Status
// maps any domain error (gateway, store, provider) to a gRPC status with a
// safe public message and structured details, and WriteHTTP renders a
// status as crmgate's REST error body. Causes are logged, never returned.
package apierr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/store"
	"github.com/crmgate/crmgate/internal/upstream"
)

// Domain is the ErrorInfo domain of every crmgate error.
const Domain = "crmgate.dev"

// Origins of an error, in ErrorInfo metadata "origin".
const (
	OriginGateway  = "gateway"
	OriginProvider = "provider"
)

// Error is a gateway error with a code and a message that is safe to show.
// Cause, if any, is logged but never shown.
type Error struct {
	Code    codes.Code
	Reason  string // machine-readable, e.g. "CONNECTION_NOT_FOUND"
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// New builds an Error.
func New(code codes.Code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Common gateway errors.
var (
	ErrMissingAPIKey = New(codes.Unauthenticated, "API_KEY_MISSING", "missing x-apikey header")
	ErrInvalidAPIKey = New(codes.Unauthenticated, "API_KEY_INVALID", "invalid x-apikey")
	ErrRevokedAPIKey = New(codes.Unauthenticated, "API_KEY_REVOKED", "the x-apikey was revoked")
	ErrExpiredAPIKey = New(codes.Unauthenticated, "API_KEY_EXPIRED", "the x-apikey has expired")

	// The Admin API's (x-admin-key).
	ErrAdminDisabled    = New(codes.PermissionDenied, "ADMIN_API_DISABLED", "admin API disabled: set GATEWAY_ADMIN_KEY_HASH")
	ErrMissingAdminKey  = New(codes.Unauthenticated, "ADMIN_KEY_MISSING", "missing x-admin-key header")
	ErrInvalidAdminKey  = New(codes.Unauthenticated, "ADMIN_KEY_INVALID", "invalid x-admin-key")
	ErrAPIKeyOnAdminAPI = New(codes.Unauthenticated, "ADMIN_KEY_MISSING", "the admin API takes x-admin-key, not an organisation's x-apikey")
)

// Status converts err to a gRPC status error. Unknown errors become
// Internal with a generic message; their cause is logged.
func Status(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var (
		gwErr    *Error
		valErr   *crm.ValidationError
		provErr  *crm.ProviderError
		unsupErr *crm.UnsupportedError
	)
	switch {
	case errors.As(err, &valErr):
		br := &errdetails.BadRequest{}
		for _, v := range valErr.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		return build(codes.InvalidArgument, valErr.Error(), info("INVALID_ARGUMENT", OriginGateway, nil), br)
	case errors.As(err, &gwErr):
		if gwErr.Cause != nil {
			log.WarnContext(ctx, "request failed", "method", method, "code", gwErr.Code.String(), "cause", gwErr.Cause)
		}
		return build(gwErr.Code, gwErr.Message, info(gwErr.Reason, OriginGateway, nil))
	case isUpstream(err):
		return upstreamStatus(ctx, log, method, err)
	case errors.As(err, &provErr):
		return providerStatus(ctx, log, method, provErr)
	case errors.Is(err, context.DeadlineExceeded):
		return build(codes.DeadlineExceeded, "deadline exceeded", info("DEADLINE_EXCEEDED", OriginGateway, nil))
	case errors.Is(err, context.Canceled):
		return build(codes.Canceled, "request canceled", info("CANCELED", OriginGateway, nil))
	case errors.As(err, &unsupErr):
		md := map[string]string{"entity": unsupErr.Entity, "operation": unsupErr.Operation}
		if unsupErr.Provider != "" {
			md["provider"] = unsupErr.Provider
		}
		return build(codes.Unimplemented, unsupErr.Error(), info("NOT_IMPLEMENTED", OriginGateway, md))
	case errors.Is(err, crm.ErrUnsupported):
		return build(codes.Unimplemented, "operation not supported by this provider", info("NOT_IMPLEMENTED", OriginGateway, nil))
	case errors.Is(err, crm.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return build(codes.NotFound, "not found", info("NOT_FOUND", OriginGateway, nil))
	case errors.Is(err, store.ErrConflict):
		return build(codes.AlreadyExists, "conflict with the current state", info("CONFLICT", OriginGateway, nil))
	}
	log.ErrorContext(ctx, "internal error", "method", method, "err", err)
	return build(codes.Internal, "internal error", info("INTERNAL", OriginGateway, nil))
}

// providerStatus keeps the provider's HTTP status and message.
func providerStatus(ctx context.Context, log *slog.Logger, method string, e *crm.ProviderError) error {
	md := map[string]string{"provider": e.Provider}
	if e.Status == 0 {
		log.WarnContext(ctx, "provider unreachable", "method", method, "provider", e.Provider, "cause", e.Cause)
		code := codes.Unavailable
		msg := e.Provider + ": provider unreachable"
		if errors.Is(e.Cause, context.DeadlineExceeded) {
			code, msg = codes.DeadlineExceeded, e.Provider+": provider did not answer in time"
		}
		return build(code, msg, info("PROVIDER_UNREACHABLE", OriginProvider, md))
	}
	md["provider_status"] = strconv.Itoa(e.Status)
	md["provider_message"] = e.Message
	var (
		details []protoDetail
		code    codes.Code
	)
	switch {
	case e.Status == http.StatusBadRequest, e.Status == http.StatusUnprocessableEntity:
		code = codes.InvalidArgument
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusForbidden:
		code = codes.PermissionDenied
	case e.Status == http.StatusNotFound:
		code = codes.NotFound
	case e.Status == http.StatusConflict:
		code = codes.AlreadyExists
	case e.Status == http.StatusTooManyRequests:
		code = codes.ResourceExhausted
		if e.RetryAfter > 0 {
			details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)})
		}
	case e.Status >= 500:
		code = codes.Unavailable
	default:
		code = codes.FailedPrecondition
	}
	log.InfoContext(ctx, "provider error", "method", method, "provider", e.Provider, "status", e.Status, "message", e.Message)
	msg := fmt.Sprintf("%s answered %d: %s", e.Provider, e.Status, e.Message)
	return build(code, msg, append([]protoDetail{info("PROVIDER_ERROR", OriginProvider, md)}, details...)...)
}

// isUpstream tells the resilience transport's own refusals (they arrive
// wrapped in a ProviderError's cause).
func isUpstream(err error) bool {
	var (
		rl *upstream.RateLimitedError
		uo *upstream.UnknownOutcomeError
		co *upstream.CircuitOpenError
	)
	return errors.As(err, &rl) || errors.As(err, &uo) || errors.As(err, &co) || errors.Is(err, upstream.ErrBodyTooLarge)
}

// upstreamStatus maps the transport's refusals: the gateway decided, on
// the provider's behalf (rate limits, circuit breaker), or could not learn
// what the provider did (unknown outcome).
func upstreamStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	var (
		rl *upstream.RateLimitedError
		uo *upstream.UnknownOutcomeError
		co *upstream.CircuitOpenError
	)
	switch {
	case errors.As(err, &rl):
		what := "burst"
		if rl.Daily {
			what = "daily"
		}
		msg := fmt.Sprintf("provider %s rate limit for this connection reached; retry after %s", what, rl.RetryAfter.Round(time.Millisecond))
		return build(codes.ResourceExhausted, msg, info("RATE_LIMITED", OriginGateway, map[string]string{"limit": what}),
			&errdetails.RetryInfo{RetryDelay: durationpb.New(rl.RetryAfter)})
	case errors.As(err, &co):
		msg := fmt.Sprintf("provider %s has been failing; calls are paused for %s", co.Host, co.RetryAfter.Round(time.Millisecond))
		return build(codes.Unavailable, msg, info("CIRCUIT_OPEN", OriginGateway, nil), &errdetails.RetryInfo{RetryDelay: durationpb.New(co.RetryAfter)})
	case errors.As(err, &uo):
		log.WarnContext(ctx, "unknown outcome of a provider write", "method", method, "cause", uo.Cause, "status", uo.Status)
		return build(codes.DeadlineExceeded, "the provider did not confirm the write; it may or may not have happened. "+
			"Check before repeating it, or send an Idempotency-Key header so repeats are safe", info(ReasonUnknownOutcome, OriginProvider, nil))
	default: // body too large
		return build(codes.Unavailable, "the provider's answer was larger than the gateway accepts", info("PROVIDER_RESPONSE_TOO_LARGE", OriginProvider, nil))
	}
}

// ReasonUnknownOutcome is the ErrorInfo reason of a write whose outcome is
// unknown.
const ReasonUnknownOutcome = "UNKNOWN_OUTCOME"
