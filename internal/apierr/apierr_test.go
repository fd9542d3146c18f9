package apierr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/store"
)

func TestStatusMapping(t *testing.T) {
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name       string
		err        error
		code       codes.Code
		httpStatus int
		origin     string
		provStatus int
		msgHas     string
		msgHasNot  string
	}{
		{"validation", crm.Invalid("record.properties.age", "must be a number"), codes.InvalidArgument, 400, OriginGateway, 0, "record.properties.age", ""},
		{"gateway error", New(codes.NotFound, "CONNECTION_NOT_FOUND", "connection %q not found", "c1"), codes.NotFound, 404, OriginGateway, 0, `connection "c1" not found`, ""},
		{"gateway error hides cause", &Error{Code: codes.FailedPrecondition, Reason: "X", Message: "safe", Cause: errors.New("secret-cause")}, codes.FailedPrecondition, 400, OriginGateway, 0, "safe", "secret-cause"},
		{"provider 400", &crm.ProviderError{Provider: "ghl", Status: 400, Message: "Bad Request"}, codes.InvalidArgument, 400, OriginProvider, 400, "ghl answered 400", ""},
		{"provider 422", &crm.ProviderError{Provider: "ghl", Status: 422, Message: "locationId should not be empty"}, codes.InvalidArgument, 400, OriginProvider, 422, "locationId", ""},
		{"provider 401", &crm.ProviderError{Provider: "ghl", Status: 401, Message: "Invalid token"}, codes.PermissionDenied, 403, OriginProvider, 401, "", ""},
		{"provider 403", &crm.ProviderError{Provider: "ghl", Status: 403, Message: "no access"}, codes.PermissionDenied, 403, OriginProvider, 403, "", ""},
		{"provider 404", fmt.Errorf("wrapped: %w", &crm.ProviderError{Provider: "ghl", Status: 404, Message: "Not Found"}), codes.NotFound, 404, OriginProvider, 404, "", ""},
		{"provider 429", &crm.ProviderError{Provider: "ghl", Status: 429, Message: "Too many", RetryAfter: 1500 * time.Millisecond}, codes.ResourceExhausted, 429, OriginProvider, 429, "", ""},
		{"provider 503", &crm.ProviderError{Provider: "ghl", Status: 503, Message: "down"}, codes.Unavailable, 503, OriginProvider, 503, "", ""},
		{"provider unreachable", &crm.ProviderError{Provider: "ghl", Cause: errors.New("dial tcp: refused")}, codes.Unavailable, 503, OriginProvider, 0, "unreachable", "refused"},
		{"provider timeout", &crm.ProviderError{Provider: "ghl", Cause: context.DeadlineExceeded}, codes.DeadlineExceeded, 504, OriginProvider, 0, "in time", ""},
		{"unsupported", fmt.Errorf("x: %w", crm.ErrUnsupported), codes.Unimplemented, 501, OriginGateway, 0, "not supported", ""},
		{"store not found", store.ErrNotFound, codes.NotFound, 404, OriginGateway, 0, "", ""},
		{"store conflict", store.ErrConflict, codes.AlreadyExists, 409, OriginGateway, 0, "", ""},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, 504, OriginGateway, 0, "", ""},
		{"unknown", errors.New("db password=hunter2 failed"), codes.Internal, 500, OriginGateway, 0, "internal error", "hunter2"},
		{"status passes", status.Error(codes.Aborted, "x"), codes.Aborted, 409, OriginGateway, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Status(context.Background(), discard, "/m", tt.err)
			st := status.Convert(err)
			if st.Code() != tt.code {
				t.Fatalf("code = %v, want %v", st.Code(), tt.code)
			}
			httpStatus, body := BodyFromStatus(st)
			if httpStatus != tt.httpStatus {
				t.Errorf("http status = %d, want %d", httpStatus, tt.httpStatus)
			}
			if body.Details.Origin != tt.origin {
				t.Errorf("origin = %q, want %q", body.Details.Origin, tt.origin)
			}
			if body.Details.ProviderStatus != tt.provStatus {
				t.Errorf("provider_status = %d, want %d", body.Details.ProviderStatus, tt.provStatus)
			}
			if tt.msgHas != "" && !strings.Contains(body.Message, tt.msgHas) {
				t.Errorf("message %q lacks %q", body.Message, tt.msgHas)
			}
			if tt.msgHasNot != "" && strings.Contains(body.Message, tt.msgHasNot) {
				t.Errorf("message %q leaks %q", body.Message, tt.msgHasNot)
			}
			if body.Code == "" || strings.ContainsAny(body.Code, "abcdefghijklmnopqrstuvwxyz") {
				t.Errorf("code %q should be an upper-case gRPC code name", body.Code)
			}
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	err := Status(context.Background(), discard, "/m", &crm.ProviderError{Provider: "ghl", Status: 429, Message: "slow down", RetryAfter: 1500 * time.Millisecond})
	rec := &recorder{h: http.Header{}}
	WriteHTTP(rec, err)
	if rec.code != 429 || rec.h.Get("Retry-After") != "2" {
		t.Fatalf("got %d Retry-After=%q, want 429 and 2", rec.code, rec.h.Get("Retry-After"))
	}
	if !strings.Contains(rec.body.String(), `"retry_after_ms":1500`) {
		t.Fatalf("body %s lacks retry_after_ms", rec.body.String())
	}
}

type recorder struct {
	h    http.Header
	code int
	body strings.Builder
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(c int)           { r.code = c }
