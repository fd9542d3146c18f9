package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	passthroughv1 "github.com/crmgate/crmgate/gen/crmgate/passthrough/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/idempotency"
	"github.com/crmgate/crmgate/internal/passthrough"
	"github.com/crmgate/crmgate/internal/telemetry"
)

// PassthroughPrefix is where the REST passthrough route is served:
// /v0/passthrough/{path...}.
const PassthroughPrefix = "/v0/passthrough/"

// passthroughRoute is the route's label (metrics, span names).
const passthroughRoute = PassthroughPrefix + "{path...}"

// HeaderOrigin marks a passthrough answer that is the provider's own
// (status, headers, body): "provider". A gateway error (bad path, auth,
// rate limited locally, breaker open) carries crmgate's error body
// instead, without this header.
const HeaderOrigin = "X-Crmgate-Origin"

// passthroughHandler serves /v0/passthrough/{path...}: the HTTP request
// becomes a PassthroughService call, made in process through the same
// interceptor chain as every REST call (authentication, error mapping,
// in-flight limit, the log line), and the provider's answer is written as
// it came.
//
// It is served ahead of the ServeMux, which would answer a path with dot
// segments or "//" with a redirect to its cleaned form: here such a path
// is a 400 naming the problem, as the same path sent over gRPC.
func passthroughHandler(client passthroughv1.PassthroughServiceClient, maxBody int64) http.Handler {
	allow := strings.Join(passthrough.Methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.MarkRoute(r, passthroughRoute)
		method, err := passthrough.CheckMethod(r.Method)
		if err != nil || method != r.Method {
			w.Header().Set("Allow", allow)
			apierr.WriteBody(w, http.StatusMethodNotAllowed, apierr.Body{
				Code:    code.Code_INVALID_ARGUMENT.String(),
				Message: "method " + r.Method + " not allowed on " + passthroughRoute + "; allowed: " + allow,
				Details: apierr.Details{Origin: apierr.OriginGateway, Reason: apierr.ReasonMethodNotAllowed},
			})
			return
		}
		escaped := r.URL.EscapedPath()
		if !strings.HasPrefix(escaped, PassthroughPrefix) {
			// The prefix itself was percent-encoded ("/v0/pass%74hrough/").
			apierr.WriteBody(w, http.StatusBadRequest, apierr.Body{
				Code:    code.Code_INVALID_ARGUMENT.String(),
				Message: "bad request path: " + PassthroughPrefix + " must not be percent-encoded",
				Details: apierr.Details{Origin: apierr.OriginGateway, Reason: apierr.ReasonMalformedRequestPath},
			})
			return
		}
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			if r.ContentLength > maxBody {
				tooLarge(w, maxBody)
				return
			}
			body, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err != nil {
				apierr.WriteBody(w, http.StatusBadRequest, apierr.Body{Code: code.Code_INVALID_ARGUMENT.String(), Message: "could not read request body", Details: apierr.Details{Origin: apierr.OriginGateway, Reason: "BODY_UNREADABLE"}})
				return
			}
			if int64(len(body)) > maxBody {
				tooLarge(w, maxBody)
				return
			}
			if len(body) == 0 {
				body = nil
			}
		}
		req := &passthroughv1.PassthroughRequest{
			Method: method,
			Path:   strings.TrimPrefix(escaped, PassthroughPrefix[:len(PassthroughPrefix)-1]),
			Query:  r.URL.RawQuery,
			Body:   body,
		}
		// Only what may reach the provider goes into the message: the
		// caller's credentials and the gateway's headers never do. Names
		// in order, so a repeat with an Idempotency-Key is the same
		// request.
		sent := passthrough.FilterRequest(r.Header)
		names := make([]string, 0, len(sent))
		for k := range sent {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, v := range sent[k] {
				req.Headers = append(req.Headers, &passthroughv1.Header{Name: k, Value: v})
			}
		}
		// The gateway's own headers become the call's metadata, as the
		// REST facade forwards them; the service never sends them on.
		md := metadata.MD{}
		for k := range forwarded {
			if v := r.Header.Values(k); len(v) > 0 {
				md[k] = v
			}
		}
		ctx := metadata.NewOutgoingContext(r.Context(), md)
		if v := r.Header.Get("Grpc-Timeout"); v != "" {
			// The whole call's deadline, as the REST facade honours it.
			d, ok := grpcTimeout(v)
			if !ok {
				apierr.WriteBody(w, http.StatusBadRequest, apierr.Body{
					Code:    code.Code_INVALID_ARGUMENT.String(),
					Message: "invalid Grpc-Timeout " + strconv.Quote(clipHeader(v)) + ": want a number and a unit (H, M, S, m, u, n), e.g. 5S",
					Details: apierr.Details{Origin: apierr.OriginGateway, Reason: apierr.ReasonMalformedRequest},
				})
				return
			}
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		var header metadata.MD
		resp, err := client.Passthrough(ctx, req, grpc.Header(&header))
		for _, v := range header.Get(idempotency.ReplayedKey) {
			// As the REST facade says it (outgoingHeaderMatcher).
			w.Header().Add(runtime.MetadataHeaderPrefix+idempotency.ReplayedKey, v)
		}
		if err != nil {
			apierr.WriteHTTP(w, err)
			return
		}
		status := int(resp.GetStatus())
		if status < 200 || status > 599 { // the service checked it
			apierr.WriteHTTP(w, errors.New("provider answered an invalid status"))
			return
		}
		h := w.Header()
		for _, kv := range resp.GetHeaders() {
			h.Add(kv.GetName(), kv.GetValue())
		}
		h.Set(HeaderOrigin, apierr.OriginProvider)
		bodyless := status == http.StatusNoContent || status == http.StatusNotModified
		if !bodyless {
			h.Set("Content-Length", strconv.Itoa(len(resp.GetBody())))
		}
		w.WriteHeader(status)
		if !bodyless {
			_, _ = w.Write(resp.GetBody())
		}
	})
}

// servePassthrough routes the paths below PassthroughPrefix (as the
// caller sent them: a dot segment decoded from %2e%2e included) to
// passthrough, everything else to next.
func servePassthrough(passthrough, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, PassthroughPrefix) {
			passthrough.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// grpcTimeout parses a Grpc-Timeout value: up to 8 digits and a unit.
func grpcTimeout(v string) (time.Duration, bool) {
	if len(v) < 2 || len(v) > 9 {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second, 'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}[v[len(v)-1]]
	if unit == 0 {
		return 0, false
	}
	return time.Duration(n) * unit, true
}
