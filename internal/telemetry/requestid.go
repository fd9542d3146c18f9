package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// HeaderRequestID is the request id header (gRPC metadata key), accepted
// from callers and returned on every answer.
const HeaderRequestID = "x-request-id"

// MaxRequestIDLen bounds an accepted request id.
const MaxRequestIDLen = 128

// ValidRequestID tells whether a caller's request id may be used as is:
// 1 to MaxRequestIDLen characters among letters, digits and "-_.:/+=@"
// (UUIDs, ULIDs, AWS and Cloudflare ids, base64 fit; spaces, quotes and
// control characters do not).
func ValidRequestID(s string) bool {
	if s == "" || len(s) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '/', c == '+', c == '=', c == '@':
		default:
			return false
		}
	}
	return true
}

// NewRequestID returns a random request id (32 hex characters).
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// RequestID returns in if it is a valid request id, else a new one.
func RequestID(in string) string {
	if ValidRequestID(in) {
		return in
	}
	return NewRequestID()
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id of ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type transportKey struct{}

// Transports, the values of the "transport" label.
const (
	TransportGRPC = "grpc"
	TransportREST = "rest"
)

// WithTransport marks ctx as serving a call that came over transport.
func WithTransport(ctx context.Context, transport string) context.Context {
	return context.WithValue(ctx, transportKey{}, transport)
}

// TransportFrom returns the transport ctx was marked with, or def.
func TransportFrom(ctx context.Context, def string) string {
	if t, ok := ctx.Value(transportKey{}).(string); ok {
		return t
	}
	return def
}
