package passthrough

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"

	"google.golang.org/grpc/codes"

	passthroughv1 "github.com/crmgate/crmgate/gen/crmgate/passthrough/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/crm"
)

// Connections opens the provider of a caller's connection
// (connections.Resolver).
type Connections interface {
	Open(ctx context.Context, orgID, id string) (crm.Provider, error)
	// ConnectorName names the connection's connector ("ghl"), for the
	// answer to a provider without passthrough.
	ConnectorName(ctx context.Context, orgID, id string) (string, error)
}

// Service implements passthroughv1.PassthroughServiceServer.
type Service struct {
	passthroughv1.UnimplementedPassthroughServiceServer
	conns Connections
	log   *slog.Logger
}

var _ passthroughv1.PassthroughServiceServer = (*Service)(nil)

// New returns the service.
func New(conns Connections, log *slog.Logger) *Service {
	return &Service{conns: conns, log: log}
}

// ReasonNotImplemented is the ErrorInfo reason of a connection whose
// provider has no passthrough.
const ReasonNotImplemented = "NOT_IMPLEMENTED"

// Passthrough implements PassthroughService: the request is checked
// (every problem named, before the connection is opened), sent through
// the connection's provider (crm.Passthrough), and the provider's answer
// returned with its headers filtered (FilterResponse).
func (s *Service) Passthrough(ctx context.Context, req *passthroughv1.PassthroughRequest) (*passthroughv1.PassthroughResponse, error) {
	in, err := check(req)
	if err != nil {
		return nil, err
	}
	pr, ok := auth.FromContext(ctx)
	if !ok {
		return nil, apierr.ErrMissingAPIKey
	}
	id := auth.MetadataValue(ctx, auth.HeaderConnectionID)
	if id == "" {
		return nil, apierr.New(codes.InvalidArgument, "CONNECTION_ID_MISSING", "missing x-connection-id header")
	}
	if !validID(id) {
		return nil, apierr.New(codes.InvalidArgument, "CONNECTION_ID_INVALID", "x-connection-id %q is not a valid connection id", clip(id))
	}
	p, err := s.conns.Open(ctx, pr.OrganisationID, id)
	if err != nil {
		return nil, err
	}
	pt, ok := p.(crm.Passthrough)
	var resp crm.PassthroughResponse
	if ok {
		resp, err = pt.Passthrough(ctx, in)
	}
	if !ok || errors.Is(err, crm.ErrUnsupported) {
		name, nerr := s.conns.ConnectorName(ctx, pr.OrganisationID, id)
		if nerr != nil {
			s.log.WarnContext(ctx, "passthrough: naming the connection's connector", "err", nerr)
			name = "this connection's"
		}
		return nil, apierr.New(codes.Unimplemented, ReasonNotImplemented, "passthrough is not supported by provider %s", name)
	}
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 599 {
		return nil, &crm.ProviderError{Provider: "provider", Cause: errors.New("answered an invalid HTTP status")}
	}
	return &passthroughv1.PassthroughResponse{
		Status:  int32(resp.Status), //nolint:gosec // 200..599, checked above
		Headers: headerList(FilterResponse(resp.Header)),
		Body:    resp.Body,
	}, nil
}

// check validates a request, naming every bad field.
func check(req *passthroughv1.PassthroughRequest) (crm.PassthroughRequest, error) {
	var (
		out crm.PassthroughRequest
		v   []crm.FieldViolation
		err error
	)
	if out.Method, err = CheckMethod(req.GetMethod()); err != nil {
		v = append(v, crm.FieldViolation{Field: "method", Description: err.Error()})
	}
	if out.Path, err = CleanPath(req.GetPath()); err != nil {
		v = append(v, crm.FieldViolation{Field: "path", Description: err.Error()})
	}
	if out.RawQuery, err = CheckQuery(req.GetQuery()); err != nil {
		v = append(v, crm.FieldViolation{Field: "query", Description: err.Error()})
	}
	hs := make([]Header, len(req.GetHeaders()))
	for i, h := range req.GetHeaders() {
		hs[i] = Header{Name: h.GetName(), Value: h.GetValue()}
	}
	if out.Header, err = RequestHeaders(hs); err != nil {
		v = append(v, crm.FieldViolation{Field: "headers", Description: err.Error()})
	}
	if len(v) > 0 {
		return crm.PassthroughRequest{}, &crm.ValidationError{Violations: v}
	}
	if b := req.GetBody(); len(b) > 0 {
		out.Body = b
	}
	return out, nil
}

// headerList renders h as the proto's list, names sorted (values in
// their order).
func headerList(h http.Header) []*passthroughv1.Header {
	names := make([]string, 0, len(h))
	n := 0
	for k, vs := range h {
		names = append(names, k)
		n += len(vs)
	}
	sort.Strings(names)
	out := make([]*passthroughv1.Header, 0, n)
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, &passthroughv1.Header{Name: k, Value: v})
		}
	}
	return out
}

// validID tells a connection id: ^[A-Za-z0-9_-]{1,128}$.
func validID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
