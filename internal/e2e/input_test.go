package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/server/restrules"
)

// httpRoute is one REST route, read from the protos' google.api.http
// options (by restrules, as the server does; streams have none).
type httpRoute struct {
	rpc      string
	crm      bool
	method   string
	template string // e.g. /v0/core/connections/{id}
	body     string // "", "*" or a field name
}

func (r httpRoute) String() string { return r.method + " " + r.template }

// httpRoutes returns every REST route of both organisation services
// (CrmService, CoreService); the AdminService's, authenticated by
// x-admin-key instead, are checked by admin_test.go (adminRoutes).
func httpRoutes(t testing.TB) []httpRoute {
	t.Helper()
	routes, err := restrules.Routes(crmv1.File_crmgate_crm_v1_crm_proto, corev1.File_crmgate_core_v1_core_proto)
	if err != nil {
		t.Fatal(err)
	}
	var out []httpRoute
	for _, r := range routes {
		i := strings.LastIndexByte(r.RPC, '.')
		out = append(out, httpRoute{rpc: r.RPC[i+1:], crm: strings.HasPrefix(r.RPC, "crmgate.crm.v1.CrmService."), method: r.Method, template: r.Template, body: r.Body})
	}
	return out
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// path fills the route's parameters with valid values (vals overrides).
func (r httpRoute) path(vals map[string]string) string {
	def := map[string]string{
		"object_name": "pet", "property_id": "name", "id": "abc123", "record_id": "abc123",
		"relation_id": "abc123", "connector_name": "ghl",
	}
	return pathParam.ReplaceAllStringFunc(r.template, func(m string) string {
		name := m[1 : len(m)-1]
		if v, ok := vals[name]; ok {
			return v
		}
		if v, ok := def[name]; ok {
			return v
		}
		return "x"
	})
}

func bodyRoutes(t testing.TB) []httpRoute {
	var out []httpRoute
	for _, r := range httpRoutes(t) {
		if r.body != "" {
			out = append(out, r)
		}
	}
	return out
}

func TestRESTEveryRouteRequiresKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	for _, r := range httpRoutes(t) {
		t.Run(r.rpc, func(t *testing.T) {
			var body any
			if r.body != "" {
				body = rawBody("{}")
			}
			for _, key := range []string{"", "cgk_wrong"} {
				resp := e.g.do(t, r.method, r.path(nil), hdr(key, e.tn.connID), body)
				if resp.status != http.StatusUnauthorized || resp.body["code"] != "UNAUTHENTICATED" {
					t.Errorf("%s with key %q: %d %s, want 401 UNAUTHENTICATED", r, key, resp.status, resp.raw)
				}
			}
		})
	}
}

func TestMalformedJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 1)
	before := e.f.TotalRequests()
	for _, r := range bodyRoutes(t) {
		t.Run(r.rpc, func(t *testing.T) {
			h := hdr(e.tn.key, e.tn.connID)
			for _, tc := range []struct{ name, body string }{
				{"truncated", `{`},
				{"not json", `hello`},
				{"unknown field", `{"bogus_field": 1}`},
				{"array", `[1, 2]`},
				{"string", `"x"`},
				{"wrong type", `{"` + firstField(r) + `": 12345}`},
			} {
				resp := e.g.do(t, r.method, r.path(nil), h, rawBody(tc.body))
				if resp.status != http.StatusBadRequest || resp.body["code"] != "INVALID_ARGUMENT" || at(resp.body, "details", "origin") != "gateway" {
					t.Errorf("%s body %s: %d %s, want 400 INVALID_ARGUMENT from the gateway", r, tc.body, resp.status, resp.raw)
				}
			}
		})
	}
	if n := e.f.TotalRequests() - before; n != 0 {
		t.Errorf("malformed bodies made %d GHL requests", n)
	}
}

// firstField names a string- or message-typed field the route's body
// decodes, to send a number for it.
func firstField(r httpRoute) string {
	switch r.rpc {
	case "CreateObject":
		return "labels"
	case "UpdateObject":
		return "labels"
	case "CreateProperty", "UpdateProperty":
		return "label"
	case "CreateAssociationSchema":
		return "source_object"
	case "CreateRecord", "UpdateRecord":
		return "record"
	case "SearchRecords":
		return "query"
	case "CreateRelation":
		return "association_id"
	case "CreateConnectorConfig", "UpdateConnectorConfig":
		return "config"
	case "CreateConnection", "UpdateConnection":
		return "settings"
	case "CheckConnection":
		return "id"
	case "CreateAuthorizationUrl":
		return "customer_id"
	case "CreateLocationConnection":
		return "location_id"
	}
	return "bogus"
}

// TestTrailingJSON: a body with data after the JSON value is malformed.
func TestTrailingJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	h := hdr(e.tn.key, e.tn.connID)
	for _, tc := range []struct{ method, path, body string }{
		{"PATCH", crmBase + "/metadata/objects/pet", `{"description":"x"} trailing garbage`},
		{"POST", coreBase + "/connections/" + e.tn.connID + "/check", `{} {"id":"other"}`},
	} {
		resp := e.g.do(t, tc.method, tc.path, h, rawBody(tc.body))
		if resp.status != http.StatusBadRequest {
			t.Errorf("%s %s with body %q: %d %s, want 400", tc.method, tc.path, tc.body, resp.status, resp.raw)
		}
	}
}

func TestBadQueryParams(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	h := hdr(e.tn.key, e.tn.connID)
	for _, q := range []string{"page_size=abc", "page_size=-1", "page_size=99999999999", "include_raw_data=maybe"} {
		resp := e.g.do(t, "GET", crmBase+"/custom_objects/pet?"+q, h, nil)
		if resp.status != http.StatusBadRequest {
			t.Errorf("?%s: %d %s, want 400", q, resp.status, resp.raw)
		}
	}
	resp := e.g.do(t, "GET", crmBase+"/metadata/objects?type=bad", h, nil)
	if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.raw), `"field":"type"`) {
		t.Errorf("?type=bad: %d %s", resp.status, resp.raw)
	}
}

// bigJSON returns a JSON object of exactly n bytes.
func bigJSON(n int) []byte {
	const head, tail = `{"bogus":"`, `"}`
	return []byte(head + strings.Repeat("a", n-len(head)-len(tail)) + tail)
}

func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	e := newEnv(t, gwOptions{maxBodyBytes: limit}, 0)
	h := hdr(e.tn.key, e.tn.connID)
	for _, r := range bodyRoutes(t) {
		t.Run(r.rpc, func(t *testing.T) {
			for _, body := range []any{rawBody(bigJSON(limit + 1)), chunked(bigJSON(limit + 1)), rawBody(bigJSON(3 * limit))} {
				resp := e.g.do(t, r.method, r.path(nil), h, body)
				if resp.status != http.StatusRequestEntityTooLarge || resp.body["code"] != "RESOURCE_EXHAUSTED" || at(resp.body, "details", "reason") != "BODY_TOO_LARGE" {
					t.Errorf("%s with %T body over the limit: %d %.300s, want 413", r, body, resp.status, resp.raw)
				}
			}
			// At the limit the body is read (and refused for its content).
			resp := e.g.do(t, r.method, r.path(nil), h, rawBody(bigJSON(limit)))
			if resp.status == http.StatusRequestEntityTooLarge {
				t.Errorf("%s with a body of exactly the limit: 413", r)
			}
		})
	}
	t.Run("valid record just under the limit", func(t *testing.T) {
		notes := strings.Repeat("n", limit-200)
		body, _ := json.Marshal(map[string]any{"record": map[string]any{"properties": map[string]any{"name": "Big", "notes": notes}}})
		resp := e.g.do(t, "POST", crmBase+"/custom_objects/pet", h, rawBody(body))
		if resp.status != 200 || at(resp.body, "record", "properties", "notes") != notes {
			t.Errorf("record of %d bytes: %d %.300s", len(body), resp.status, resp.raw)
		}
	})
	t.Run("compact JSON that grows as protobuf", func(t *testing.T) {
		// 60 KiB of small numbers is well under the limit as JSON; the
		// gateway must answer it for its content (400), not as if the
		// provider rate-limited it (429).
		nums := strings.TrimSuffix(strings.Repeat("1,", 30000), ",")
		body := []byte(`{"record":{"properties":{"name":"x","tags":[` + nums + `]}}}`)
		if len(body) > limit {
			t.Fatalf("body of %d bytes", len(body))
		}
		resp := e.g.do(t, "POST", crmBase+"/custom_objects/pet", h, rawBody(body))
		if resp.status != http.StatusBadRequest && resp.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%d-byte body under the %d-byte limit: %d %.300s, want 400 (or 413)", len(body), limit, resp.status, resp.raw)
		}
	})
	t.Run("gRPC message over the limit", func(t *testing.T) {
		c := e.client(t, GRPC)
		_, err := c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
			Properties: st(t, map[string]any{"name": "Big", "notes": strings.Repeat("n", 2*limit)}),
		}})
		wantCode(t, err, codes.ResourceExhausted)
	})
	if n := e.f.RequestCount(routeCreateRecord); n != 1 {
		t.Errorf("%d record creates reached GHL, want 1", n)
	}
}

func TestBodyTooLargeDefaultLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	h := hdr(e.tn.key, e.tn.connID)
	for _, body := range []any{rawBody(bigJSON(5 << 20)), chunked(bigJSON(5 << 20))} {
		resp := e.g.do(t, "POST", crmBase+"/custom_objects/pet", h, body)
		if resp.status != http.StatusRequestEntityTooLarge || !strings.Contains(str(resp.body["message"]), fmt.Sprint(4<<20)) {
			t.Errorf("5 MiB %T body: %d %.300s, want 413 naming the 4 MiB limit", body, resp.status, resp.raw)
		}
	}
}

func TestBadPathParams(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 1)
	h := hdr(e.tn.key, e.tn.connID)
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		method, path, field string
	}{
		{"GET", crmBase + "/metadata/objects/My%20Pet", "object_name"},
		{"GET", crmBase + "/metadata/objects/Pet", "object_name"},
		{"GET", crmBase + "/metadata/objects/" + long, "object_name"},
		{"GET", crmBase + "/metadata/objects/p%C3%A9t", "object_name"},
		{"GET", crmBase + "/metadata/objects/pet%2Fproperties", "object_name"},
		{"GET", crmBase + "/metadata/objects/a%2Fb", "object_name"},
		{"PATCH", crmBase + "/metadata/objects/PET", "object_name"},
		{"GET", crmBase + "/metadata/objects/pet/properties/bad-prop", "property_id"},
		{"GET", crmBase + "/metadata/objects/pet/properties/a%2Fb", "property_id"},
		{"DELETE", crmBase + "/metadata/objects/pet/properties/9lives", "property_id"},
		{"GET", crmBase + "/custom_objects/Pet", "object_name"},
		{"GET", crmBase + "/custom_objects/pet/bad%20id", "id"},
		{"GET", crmBase + "/custom_objects/pet/a%2Fb", "id"},
		{"DELETE", crmBase + "/custom_objects/pet/bad%20id", "id"},
		{"GET", crmBase + "/custom_objects/pet/bad%20id/relations", "record_id"},
		{"DELETE", crmBase + "/relations/bad%20id", "relation_id"},
		{"GET", coreBase + "/connections/bad%20id", "id"},
		{"GET", coreBase + "/connections/a%2Fb", "id"},
		{"DELETE", coreBase + "/connector_configs/bad%20id", "id"},
	} {
		var body any
		if tc.method == "PATCH" {
			body = map[string]any{"description": "x"}
		}
		resp := e.g.do(t, tc.method, tc.path, h, body)
		if resp.status != http.StatusBadRequest || resp.body["code"] != "INVALID_ARGUMENT" {
			t.Errorf("%s %s: %d %s, want 400 INVALID_ARGUMENT", tc.method, tc.path, resp.status, resp.raw)
			continue
		}
		if !strings.Contains(string(resp.raw), `"field":"`+tc.field+`"`) {
			t.Errorf("%s %s: %s, want a violation of %s", tc.method, tc.path, resp.raw, tc.field)
		}
	}
	if n := e.f.TotalRequests(); n != 0 {
		t.Errorf("bad path parameters made %d GHL requests", n)
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	g := newGateway(t, gwOptions{})
	resp := g.do(t, "GET", "/healthz", nil, nil)
	if resp.status != 200 || resp.body["status"] != "SERVING" {
		t.Errorf("/healthz: %d %s", resp.status, resp.raw)
	}
	// gRPC health needs no key either.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hr, err := healthpb.NewHealthClient(g.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("grpc.health.v1.Health/Check: %v %v", hr, err)
	}
}

func TestOpenAPI(t *testing.T) {
	t.Parallel()
	g := newGateway(t, gwOptions{})
	resp := g.do(t, "GET", "/openapi.json", nil, nil)
	if resp.status != 200 || !strings.HasPrefix(resp.header.Get("Content-Type"), "application/json") {
		t.Fatalf("/openapi.json: %d %s", resp.status, resp.header.Get("Content-Type"))
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(resp.raw, &doc); err != nil {
		t.Fatalf("/openapi.json is not JSON: %v", err)
	}
	for _, r := range httpRoutes(t) {
		ops, ok := doc.Paths[r.template]
		if !ok {
			t.Errorf("/openapi.json lacks path %s", r.template)
			continue
		}
		if _, ok := ops[strings.ToLower(r.method)]; !ok {
			t.Errorf("/openapi.json lacks %s", r)
		}
	}
	var v0 []string
	for p := range doc.Paths {
		if strings.HasPrefix(p, "/v0/") {
			v0 = append(v0, p)
		}
	}
	if len(v0) < 15 {
		t.Errorf("/openapi.json has %d /v0 paths", len(v0))
	}
}

// TestUnknownRoutes: a path no route has is a 404 ROUTE_NOT_FOUND; a
// method a path does not serve is a 405 with Allow listing the methods it
// does (INVALID_ARGUMENT / METHOD_NOT_ALLOWED, never UNIMPLEMENTED / 501).
func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	h := hdr(e.tn.key, e.tn.connID)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/v0/nope", 404, ""},
		{"GET", "/v0/unified/crm/metadata", 404, ""},
		{"GET", "/v0/unified/crm/custom_objects/pet/x/y/z", 404, ""},
		{"GET", crmBase + "/custom_objects/pet/abc123/relations/x", 404, ""},
		{"GET", "/nope", 404, ""},
		{"GET", "/", 404, ""},
		{"POST", "/v1/core/connections", 404, ""},
		{"PUT", coreBase + "/connections/abc", 405, "DELETE, GET, PATCH"},
		{"DELETE", coreBase + "/connections", 405, "GET, POST"},
		{"POST", coreBase + "/connections/abc/rate_limit", 405, "GET"},
		{"PUT", crmBase + "/custom_objects/pet/abc123", 405, "DELETE, GET, PATCH"},
		{"DELETE", crmBase + "/custom_objects/pet", 405, "GET, POST"},
	} {
		resp := e.g.do(t, tc.method, tc.path, h, nil)
		if resp.status != tc.status || resp.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q %s, want %d Allow %q", tc.method, tc.path, resp.status, resp.header.Get("Allow"), resp.raw, tc.status, tc.allow)
		}
		if resp.body == nil || str(resp.body["code"]) == "" || !strings.HasPrefix(resp.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: not a JSON error body: %q (%s)", tc.method, tc.path, resp.raw, resp.header.Get("Content-Type"))
			continue
		}
		code, reason := "NOT_FOUND", apierr.ReasonRouteNotFound
		if tc.status == 405 {
			code, reason = "INVALID_ARGUMENT", apierr.ReasonMethodNotAllowed
		}
		if resp.body["code"] != code || at(resp.body, "details", "reason") != reason {
			t.Errorf("%s %s: %s, want code %s reason %s", tc.method, tc.path, resp.raw, code, reason)
		}
	}
}

// TestRouteTableMatchesClient checks the REST client covers every route.
func TestRouteTableMatchesClient(t *testing.T) {
	t.Parallel()
	var rpcs []string
	for _, r := range httpRoutes(t) {
		rpcs = append(rpcs, r.rpc)
	}
	var table []string
	for _, r := range allRPCs(t, rpcIDs{}) {
		table = append(table, r.name)
	}
	slices.Sort(rpcs)
	slices.Sort(table)
	if !slices.Equal(rpcs, table) {
		t.Errorf("routes %v\nvs allRPCs %v", rpcs, table)
	}
}
