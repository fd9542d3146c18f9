package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	adminv1 "github.com/crmgate/crmgate/gen/crmgate/admin/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
)

func serve(t *testing.T, h http.Handler, method, target string, header map[string]string) (*httptest.ResponseRecorder, apierr.Body) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	h.ServeHTTP(rec, req)
	var b apierr.Body
	if method != http.MethodHead {
		if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
			t.Fatalf("%s %s: %d %q is not an error body: %v", method, target, rec.Code, rec.Body, err)
		}
	}
	return rec, b
}

var templateVar = regexp.MustCompile(`\{[a-z_.]+\}`)

// TestUnknownQueryEveryRoute: every REST route refuses a query parameter
// it does not read with 400 INVALID_ARGUMENT naming it (so every route is
// found in the table by grpc-gateway's pattern), and lets the ones it reads
// through.
func TestUnknownQueryEveryRoute(t *testing.T) {
	s := newTestServer(t, Config{Admin: &Admin{Service: adminv1.UnimplementedAdminServiceServer{}, Auth: auth.NewAdminAuthenticator(nil)}}, nil)
	table, err := restRoutes(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Routes()) < 38 {
		t.Fatalf("only %d routes", len(table.Routes()))
	}
	for _, r := range table.Routes() {
		path := templateVar.ReplaceAllString(r.Template, "abc")
		rec, b := serve(t, s.Handler(), r.Method, path+"?page_sise=1&zz=2", nil)
		if rec.Code != http.StatusBadRequest || b.Code != "INVALID_ARGUMENT" || b.Details.Reason != apierr.ReasonUnknownQueryParameter ||
			len(b.Details.FieldViolations) != 2 || b.Details.FieldViolations[0].Field != "page_sise" || b.Details.FieldViolations[1].Field != "zz" ||
			!strings.Contains(b.Message, "page_sise, zz") {
			t.Errorf("%s %s with unknown parameters: %d %+v", r.Method, r.Template, rec.Code, b)
		}
		for _, q := range r.Query {
			if _, b := serve(t, s.Handler(), r.Method, path+"?"+q+"=1", nil); b.Details.Reason == apierr.ReasonUnknownQueryParameter {
				t.Errorf("%s %s?%s=1 refused: %+v", r.Method, r.Template, q, b)
			}
		}
	}
}

// TestRoutingErrors: a path no route has is 404; a method a path does not
// serve is 405 with Allow listing the methods it does; neither is
// UNIMPLEMENTED.
func TestRoutingErrors(t *testing.T) {
	s := newTestServer(t, Config{}, nil)
	for _, tc := range []struct {
		method, path string
		header       map[string]string
		status       int
		allow        string
	}{
		{"PUT", "/v0/core/connections/abc", nil, 405, "DELETE, GET, PATCH"},
		{"DELETE", "/v0/core/connections", nil, 405, "GET, POST"},
		{"POST", "/v0/core/connections/abc/rate_limit", nil, 405, "GET"},
		{"GET", "/v0/core/connections/abc/check", nil, 405, "POST"},
		{"PUT", "/v0/unified/crm/custom_objects/pet/abc", nil, 405, "DELETE, GET, PATCH"},
		{"GET", "/v0/unified/crm/custom_objects/pet/_search", nil, 0, ""}, // GetRecord of id "_search"
		{"PATCH", "/v0/unified/crm/relations/r1", nil, 405, "DELETE"},
		{"HEAD", "/v0/core/connections", nil, 405, "GET, POST"},
		// A form POST to a GET route is not served as the GET.
		{"POST", "/v0/core/connections/abc/rate_limit", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 405, "GET"},
		{"POST", "/v0/core/connections/abc/rate_limit", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-HTTP-Method-Override": "GET"}, 405, "GET"},
		{"GET", "/v0/nope", nil, 404, ""},
		{"PUT", "/v0/nope", nil, 404, ""},
		{"GET", "/v0/core/connections/abc/def/ghi", nil, 404, ""},
	} {
		rec, b := serve(t, s.Handler(), tc.method, tc.path, tc.header)
		if tc.status == 0 {
			if rec.Code == 404 || rec.Code == 405 {
				t.Errorf("%s %s: %d %+v, want it routed", tc.method, tc.path, rec.Code, b)
			}
			continue
		}
		if rec.Code != tc.status || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.status, tc.allow)
		}
		if tc.method == http.MethodHead {
			continue
		}
		wantCode, wantReason := "NOT_FOUND", apierr.ReasonRouteNotFound
		if tc.status == 405 {
			wantCode, wantReason = "INVALID_ARGUMENT", apierr.ReasonMethodNotAllowed
		}
		if b.Code != wantCode || b.Details.Reason != wantReason || b.Details.Origin != apierr.OriginGateway || !strings.Contains(b.Message, tc.path) {
			t.Errorf("%s %s: body %+v, want code %s reason %s naming the path", tc.method, tc.path, b, wantCode, wantReason)
		}
		if tc.status == 405 && !strings.Contains(b.Message, "allowed: "+tc.allow) {
			t.Errorf("%s %s: message %q does not list the allowed methods", tc.method, tc.path, b.Message)
		}
	}
}
