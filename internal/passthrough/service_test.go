package passthrough

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	passthroughv1 "github.com/crmgate/crmgate/gen/crmgate/passthrough/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/crm"
)

type conns struct {
	p    crm.Provider
	name string
}

func (c conns) Open(context.Context, string, string) (crm.Provider, error) { return c.p, nil }
func (c conns) ConnectorName(context.Context, string, string) (string, error) {
	return c.name, nil
}

// bare has no passthrough.
type bare struct{}

func (bare) Check(context.Context) error { return nil }

// echo passes through, answering what it got.
type echo struct {
	bare
	got crm.PassthroughRequest
	err error
}

func (e *echo) Passthrough(_ context.Context, req crm.PassthroughRequest) (crm.PassthroughResponse, error) {
	e.got = req
	h := http.Header{"Content-Type": {"text/plain"}, "Set-Cookie": {"a=b"}, "X-Ratelimit-Remaining": {"7"}}
	return crm.PassthroughResponse{Status: http.StatusTeapot, Header: h, Body: []byte("body")}, e.err
}

func callCtx() context.Context {
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(auth.HeaderConnectionID, "conn_1"))
	return auth.WithPrincipal(ctx, auth.Principal{OrganisationID: "org_1"})
}

func mapped(err error) error {
	return apierr.Status(context.Background(), slog.New(slog.DiscardHandler), "/x", err)
}

func TestServiceUnsupportedNamesProvider(t *testing.T) {
	for name, p := range map[string]crm.Provider{"no capability": bare{}, "ErrUnsupported": &echo{err: crm.ErrUnsupported}} {
		s := New(conns{p: p, name: "hubspot"}, slog.New(slog.DiscardHandler))
		_, err := s.Passthrough(callCtx(), &passthroughv1.PassthroughRequest{Method: "GET", Path: "contacts"})
		st := status.Convert(mapped(err))
		if st.Code() != codes.Unimplemented || !strings.Contains(st.Message(), "hubspot") {
			t.Errorf("%s: %v; want UNIMPLEMENTED naming hubspot", name, st)
		}
	}
}

func TestServicePassesThrough(t *testing.T) {
	e := &echo{}
	s := New(conns{p: e, name: "ghl"}, slog.New(slog.DiscardHandler))
	resp, err := s.Passthrough(callCtx(), &passthroughv1.PassthroughRequest{
		Method: "patch", Path: "/a/b%20c", Query: "?x=1",
		Headers: []*passthroughv1.Header{{Name: "authorization", Value: "Bearer caller"}, {Name: "x-custom", Value: "1"}},
		Body:    []byte("{}"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.got.Method != "PATCH" || e.got.Path != "/a/b%20c" || e.got.RawQuery != "x=1" || string(e.got.Body) != "{}" ||
		e.got.Header.Get("Authorization") != "" || e.got.Header.Get("X-Custom") != "1" {
		t.Errorf("provider got %+v", e.got)
	}
	if resp.GetStatus() != http.StatusTeapot || string(resp.GetBody()) != "body" || len(resp.GetHeaders()) != 2 ||
		resp.GetHeaders()[0].GetName() != "Content-Type" || resp.GetHeaders()[1].GetName() != "X-Ratelimit-Remaining" {
		t.Errorf("answer %v", resp)
	}
}

func TestServiceNamesEveryBadField(t *testing.T) {
	s := New(conns{p: &echo{}, name: "ghl"}, slog.New(slog.DiscardHandler))
	_, err := s.Passthrough(callCtx(), &passthroughv1.PassthroughRequest{
		Method: "TRACE", Path: "../x", Query: "a=%zz", Headers: []*passthroughv1.Header{{Name: "bad name", Value: "v"}},
	})
	var ve *crm.ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) != 4 {
		t.Fatalf("err %v; want 4 violations", err)
	}
	for i, f := range []string{"method", "path", "query", "headers"} {
		if ve.Violations[i].Field != f {
			t.Errorf("violation %d: %+v, want field %s", i, ve.Violations[i], f)
		}
	}
	// No connection id: refused before any provider call.
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{OrganisationID: "org_1"})
	if _, err := s.Passthrough(ctx, &passthroughv1.PassthroughRequest{Method: "GET", Path: "x"}); status.Code(mapped(err)) != codes.InvalidArgument {
		t.Errorf("no x-connection-id: %v", err)
	}
}
