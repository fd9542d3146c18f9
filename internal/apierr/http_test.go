package apierr

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestGatewayErrorHandler: every error grpc-gateway hands over gets the one
// body; its own decoding errors (no ErrorInfo) are gateway errors with
// reason MALFORMED_REQUEST, and an HTTPStatusError keeps its status.
func TestGatewayErrorHandler(t *testing.T) {
	for _, tc := range []struct {
		name           string
		err            error
		status         int
		code, reason   string
		origin, detail string
	}{
		{"decoding", status.Error(codes.InvalidArgument, `proto: (line 1:2): unknown field "x"`), 400, "INVALID_ARGUMENT", ReasonMalformedRequest, OriginGateway, ""},
		{"mapped", build(codes.NotFound, "gone", info("NOT_FOUND", OriginProvider, map[string]string{"provider": "ghl"})), 404, "NOT_FOUND", "NOT_FOUND", OriginProvider, "ghl"},
		{"http status", &runtime.HTTPStatusError{HTTPStatus: http.StatusBadRequest, Err: errors.New("malformed escape")}, 400, "INVALID_ARGUMENT", ReasonMalformedRequest, OriginGateway, ""},
		{"other", errors.New("boom"), 500, "UNKNOWN", "", OriginGateway, ""},
	} {
		rec := httptest.NewRecorder()
		GatewayErrorHandler(context.Background(), nil, nil, rec, httptest.NewRequest("GET", "/v0/x", nil), tc.err)
		var b Body
		if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if rec.Code != tc.status || b.Code != tc.code || b.Details.Reason != tc.reason || b.Details.Origin != tc.origin || b.Details.Provider != tc.detail {
			t.Errorf("%s: %d %+v, want %d %s %s %s", tc.name, rec.Code, b, tc.status, tc.code, tc.reason, tc.origin)
		}
	}
}
