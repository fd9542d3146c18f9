package apierr

// Micro-benchmarks of the error mapping (go test -bench . -benchmem
// ./internal/apierr): every failed call goes through Status once, and
// every failed REST call through WriteHTTP.

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/crmgate/crmgate/internal/crm"
)

type benchWriter struct{ h http.Header }

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(int)             {}

func BenchmarkStatus(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil)) // a real handler: the provider paths log at info
	cases := []struct {
		name string
		err  error
	}{
		{"nil", nil},
		{"validation_2_fields", &crm.ValidationError{Violations: []crm.FieldViolation{
			{Field: "record.properties.age", Description: "must be a number, got a string"},
			{Field: "record.properties.colour", Description: `unknown property of object "pet"`},
		}}},
		{"gateway_not_found", New(codes.NotFound, "CONNECTION_NOT_FOUND", "connection %q not found", "conn_ghl_x")},
		{"provider_404", &crm.ProviderError{Provider: "ghl", Status: http.StatusNotFound, Message: "Record not found"}},
		{"provider_429_retry", &crm.ProviderError{Provider: "ghl", Status: http.StatusTooManyRequests, Message: "Too many requests", RetryAfter: 2 * time.Second}},
		{"not_found_sentinel", crm.ErrNotFound},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Status(ctx, log, "/crmgate.crm.v1.CrmService/GetRecord", tc.err)
			}
		})
	}
}

// BenchmarkWriteHTTP renders a mapped status as the REST error body.
func BenchmarkWriteHTTP(b *testing.B) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"validation", Status(ctx, log, "m", &crm.ValidationError{Violations: []crm.FieldViolation{{Field: "record.properties.age", Description: "must be a number, got a string"}}})},
		{"provider_429_retry", Status(ctx, log, "m", &crm.ProviderError{Provider: "ghl", Status: http.StatusTooManyRequests, Message: "Too many requests", RetryAfter: 2 * time.Second})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				WriteHTTP(w, tc.err)
			}
		})
	}
}
