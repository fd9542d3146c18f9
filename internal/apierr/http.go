package apierr

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Body is crmgate's REST error body.
type Body struct {
	// Code is the gRPC code name, e.g. "NOT_FOUND".
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Details Details `json:"details"`
}

// Details tell who failed and why.
type Details struct {
	// Origin is "gateway" or "provider".
	Origin string `json:"origin"`
	// Reason is a machine-readable cause, e.g. "PROVIDER_ERROR".
	Reason          string           `json:"reason,omitempty"`
	Provider        string           `json:"provider,omitempty"`
	ProviderStatus  int              `json:"provider_status,omitempty"`
	ProviderMessage string           `json:"provider_message,omitempty"`
	FieldViolations []FieldViolation `json:"field_violations,omitempty"`
	RetryAfterMS    int64            `json:"retry_after_ms,omitempty"`
}

// FieldViolation names one bad input field.
type FieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// BodyFromStatus renders a status as a REST error body, with the HTTP
// status it maps to.
func BodyFromStatus(st *status.Status) (int, Body) {
	b := Body{
		Code:    code.Code(st.Code()).String(), //nolint:gosec // gRPC codes are small non-negative numbers
		Message: st.Message(),
		Details: Details{Origin: OriginGateway},
	}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			b.Details.Reason = d.GetReason()
			if o := d.GetMetadata()["origin"]; o != "" {
				b.Details.Origin = o
			}
			b.Details.Provider = d.GetMetadata()["provider"]
			b.Details.ProviderMessage = d.GetMetadata()["provider_message"]
			if s, err := strconv.Atoi(d.GetMetadata()["provider_status"]); err == nil {
				b.Details.ProviderStatus = s
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				b.Details.FieldViolations = append(b.Details.FieldViolations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case *errdetails.RetryInfo:
			b.Details.RetryAfterMS = d.GetRetryDelay().AsDuration().Milliseconds()
		}
	}
	httpStatus := runtime.HTTPStatusFromCode(st.Code())
	if b.Details.Reason == ReasonIdempotencyKeyReused {
		httpStatus = http.StatusUnprocessableEntity
	}
	return httpStatus, b
}

// ReasonIdempotencyKeyReused is the ErrorInfo reason of an Idempotency-Key
// repeated with a different request; REST answers it 422.
const ReasonIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"

// WriteHTTP writes err (a status error, or anything else, which becomes
// Internal) as a REST error answer.
func WriteHTTP(w http.ResponseWriter, err error) {
	st := status.Convert(err)
	httpStatus, body := BodyFromStatus(st)
	if body.Details.RetryAfterMS > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt((body.Details.RetryAfterMS+999)/1000, 10))
	}
	WriteBody(w, httpStatus, body)
}

// WriteBody writes a REST error body with an HTTP status.
func WriteBody(w http.ResponseWriter, httpStatus int, body Body) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Del("Content-Length")
	w.WriteHeader(httpStatus)
	_ = json.NewEncoder(w).Encode(body)
}

// GatewayErrorHandler is the grpc-gateway error handler: every REST error,
// including the gateway's own decoding errors, gets crmgate's body.
func GatewayErrorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, err error) {
	WriteHTTP(w, err)
}

// RoutingErrorHandler answers unknown routes and methods in the same shape.
func RoutingErrorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	c := codes.NotFound
	msg := "no route " + r.Method + " " + r.URL.Path
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		c, msg = codes.Unimplemented, "method "+r.Method+" not allowed on "+r.URL.Path
	case http.StatusBadRequest:
		c, msg = codes.InvalidArgument, "bad request path "+r.URL.Path
	}
	WriteBody(w, httpStatus, Body{Code: code.Code(c).String(), Message: msg, Details: Details{Origin: OriginGateway, Reason: "ROUTE_NOT_FOUND"}}) //nolint:gosec // small code
}
