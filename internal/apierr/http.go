package apierr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

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

// WriteBody writes a REST error body with an HTTP status: compact JSON,
// as every other answer (no trailing newline either).
func WriteBody(w http.ResponseWriter, httpStatus int, body Body) {
	b, err := json.Marshal(body)
	if err != nil { // a Body is strings and numbers: cannot happen
		b = []byte(`{"code":"INTERNAL","message":"internal error","details":{"origin":"gateway","reason":"INTERNAL"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(httpStatus)
	_, _ = w.Write(b)
}

// GatewayErrorHandler is the grpc-gateway error handler: every REST error,
// including the gateway's own decoding errors, gets crmgate's body.
//
// grpc-gateway's own errors (a body, path or query value it cannot decode)
// carry no ErrorInfo; they get origin gateway and reason MALFORMED_REQUEST,
// and an *runtime.HTTPStatusError keeps its HTTP status.
func GatewayErrorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, err error) {
	var hse *runtime.HTTPStatusError
	if errors.As(err, &hse) {
		WriteBody(w, hse.HTTPStatus, Body{Code: code.Code_INVALID_ARGUMENT.String(), Message: hse.Err.Error(), Details: Details{Origin: OriginGateway, Reason: ReasonMalformedRequest}})
		return
	}
	st := status.Convert(err)
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			WriteHTTP(w, err)
			return
		}
	}
	if st.Code() == codes.InvalidArgument {
		err = build(codes.InvalidArgument, st.Message(), info(ReasonMalformedRequest, OriginGateway, nil))
	}
	WriteHTTP(w, err)
}

// ReasonMalformedRequest is the reason of a request grpc-gateway could not
// decode into the RPC's message.
const ReasonMalformedRequest = "MALFORMED_REQUEST"

// BodyTooLarge is the body of a 413: a REST request body over maxBytes.
func BodyTooLarge(maxBytes int64) Body {
	return Body{
		Code:    code.Code_RESOURCE_EXHAUSTED.String(),
		Message: fmt.Sprintf("request body is larger than the limit of %d bytes", maxBytes),
		Details: Details{Origin: OriginGateway, Reason: "BODY_TOO_LARGE"},
	}
}

// Reasons of the REST facade's routing and query errors.
const (
	ReasonRouteNotFound         = "ROUTE_NOT_FOUND"
	ReasonMethodNotAllowed      = "METHOD_NOT_ALLOWED"
	ReasonUnknownQueryParameter = "UNKNOWN_QUERY_PARAMETER"
	ReasonMalformedRequestPath  = "MALFORMED_PATH"
)

// RoutingErrorHandler answers unknown paths (404), methods a path does not
// serve (405, with an Allow header of allow's methods for the escaped
// path) and malformed paths (400) in the one error shape. There is no gRPC
// code for 405: its code is INVALID_ARGUMENT (a client error not worth
// retrying), its reason METHOD_NOT_ALLOWED.
func RoutingErrorHandler(allow func(escapedPath string) []string) runtime.RoutingErrorHandlerFunc {
	return func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
		c, reason, msg := codes.NotFound, ReasonRouteNotFound, "no route "+r.Method+" "+r.URL.Path
		switch httpStatus {
		case http.StatusMethodNotAllowed:
			methods := allow(r.URL.EscapedPath())
			c, reason = codes.InvalidArgument, ReasonMethodNotAllowed
			msg = "method " + r.Method + " not allowed on " + r.URL.Path
			if len(methods) > 0 {
				w.Header().Set("Allow", strings.Join(methods, ", "))
				msg += "; allowed: " + strings.Join(methods, ", ")
			}
		case http.StatusBadRequest:
			c, reason, msg = codes.InvalidArgument, ReasonMalformedRequestPath, "bad request path "+r.URL.Path
		default:
			httpStatus = http.StatusNotFound
		}
		WriteBody(w, httpStatus, Body{Code: code.Code(c).String(), Message: msg, Details: Details{Origin: OriginGateway, Reason: reason}}) //nolint:gosec // small code
	}
}

// UnknownQueryParameters is the error of a REST call with query parameters
// its route does not read (grpc-gateway would silently ignore them): one
// field violation per name. accepted lists the route's parameters.
func UnknownQueryParameters(names, accepted []string) error {
	br := &errdetails.BadRequest{}
	desc := "unknown query parameter; this route accepts none"
	if len(accepted) > 0 {
		desc = "unknown query parameter; this route accepts " + strings.Join(accepted, ", ")
	}
	for _, n := range names {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: n, Description: desc})
	}
	word := "parameter"
	if len(names) > 1 {
		word = "parameters"
	}
	return build(codes.InvalidArgument, "unknown query "+word+" "+strings.Join(names, ", "), info(ReasonUnknownQueryParameter, OriginGateway, nil), br)
}
