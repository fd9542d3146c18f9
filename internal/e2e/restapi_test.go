package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/apierr"
)

// TestUnknownQueryParameters: a query parameter the route does not read
// is a 400 INVALID_ARGUMENT naming it, on a unified CRM route and a Core
// route alike, before any provider call; the parameters it reads work.
func TestUnknownQueryParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 2)
	h := hdr(e.tn.key, e.tn.connID)
	before := e.f.TotalRequests()
	for _, tc := range []struct {
		method, path string
		body         any
		unknown      []string
	}{
		{"GET", crmBase + "/custom_objects/pet?page_sise=5", nil, []string{"page_sise"}},
		{"GET", crmBase + "/custom_objects/pet/abc123?include_raw_data=true&cursor=x", nil, []string{"cursor"}},
		{"POST", crmBase + "/custom_objects/pet/_search?page_size=5&zz=1", map[string]any{"query": "x"}, []string{"page_size", "zz"}},
		{"GET", coreBase + "/connections?customer=abc", nil, []string{"customer"}},
		{"GET", coreBase + "/connections/" + e.tn.connID + "?id=other", nil, []string{"id"}},
	} {
		r := e.g.do(t, tc.method, tc.path, h, tc.body)
		d := obj(r.body["details"])
		if r.status != http.StatusBadRequest || r.body["code"] != "INVALID_ARGUMENT" || d["reason"] != apierr.ReasonUnknownQueryParameter || d["origin"] != "gateway" {
			t.Errorf("%s %s: %d %s, want 400 INVALID_ARGUMENT UNKNOWN_QUERY_PARAMETER", tc.method, tc.path, r.status, r.raw)
			continue
		}
		var fields []string
		for _, v := range arr(d["field_violations"]) {
			fields = append(fields, str(obj(v)["field"]))
		}
		if !reflect.DeepEqual(fields, tc.unknown) || !strings.Contains(str(r.body["message"]), strings.Join(tc.unknown, ", ")) {
			t.Errorf("%s %s: %s, want %v named", tc.method, tc.path, r.raw, tc.unknown)
		}
	}
	if n := e.f.TotalRequests() - before; n != 0 {
		t.Errorf("refused calls made %d GHL requests", n)
	}
	if r := e.g.do(t, "GET", crmBase+"/custom_objects/pet?page_size=1&include_raw_data=false", h, nil); r.status != http.StatusOK || len(arr(r.body["items"])) != 1 {
		t.Errorf("known parameters: %d %s", r.status, r.raw)
	}
	if r := e.g.do(t, "GET", coreBase+"/connections?customer_id="+e.tn.customerID, h, nil); r.status != http.StatusOK {
		t.Errorf("known Core parameter: %d %s", r.status, r.raw)
	}
}

// TestErrorBodyShape: a gateway error and a provider error have the one
// documented body over REST, the provider's message without GHL's
// "custom_objects." prefix, and gRPC carries the same details (the REST
// body rebuilt from the gRPC status is identical).
func TestErrorBodyShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	grpcCall := func(key, conn string, call func(ctx context.Context) error) *status.Status {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return status.Convert(call(metadata.AppendToOutgoingContext(ctx, "x-apikey", key, "x-connection-id", conn)))
	}
	crm := crmv1.NewCrmServiceClient(e.g.conn)
	for _, tc := range []struct {
		name     string
		conn     string
		method   string
		path     string
		body     any
		grpc     func(ctx context.Context) error
		status   int
		want     apierr.Body
		keys     []string // of details
		noPrefix bool
	}{
		{
			name: "gateway: no such connection", conn: "conn_ghl_nosuch", method: "GET", path: crmBase + "/custom_objects/pet/abc123",
			grpc: func(ctx context.Context) error {
				_, err := crm.GetRecord(ctx, &crmv1.GetRecordRequest{ObjectName: "pet", Id: "abc123"})
				return err
			},
			status: 404,
			want:   apierr.Body{Code: "NOT_FOUND", Message: `connection "conn_ghl_nosuch" not found`, Details: apierr.Details{Origin: "gateway", Reason: "CONNECTION_NOT_FOUND"}},
			keys:   []string{"origin", "reason"},
		},
		{
			name: "provider: GHL refuses a record without its primary display property", conn: e.tn.connID, method: "POST", path: crmBase + "/custom_objects/pet",
			body: map[string]any{"record": map[string]any{"properties": map[string]any{"age": 3}}},
			grpc: func(ctx context.Context) error {
				_, err := crm.CreateRecord(ctx, &crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"age": 3})}})
				return err
			},
			status: 400,
			// The fake answers "... of custom_objects.pet", as GHL does.
			want: apierr.Body{Code: "INVALID_ARGUMENT", Message: "ghl answered 400: name is required: it is the primary display property of pet", Details: apierr.Details{
				Origin: "provider", Reason: "PROVIDER_ERROR", Provider: "ghl", ProviderStatus: 400, ProviderMessage: "name is required: it is the primary display property of pet",
			}},
			keys:     []string{"origin", "provider", "provider_message", "provider_status", "reason"},
			noPrefix: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.g.do(t, tc.method, tc.path, hdr(e.tn.key, tc.conn), tc.body)
			var got apierr.Body
			if err := json.Unmarshal(r.raw, &got); err != nil {
				t.Fatal(err)
			}
			if r.status != tc.status || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("REST: %d %s\nwant %d %+v", r.status, r.raw, tc.status, tc.want)
			}
			if keys := sortedKeys(r.body); !reflect.DeepEqual(keys, []string{"code", "details", "message"}) {
				t.Errorf("REST body keys %v", keys)
			}
			if keys := sortedKeys(obj(r.body["details"])); !reflect.DeepEqual(keys, tc.keys) {
				t.Errorf("REST details keys %v, want %v", keys, tc.keys)
			}
			if tc.noPrefix && strings.Contains(string(r.raw), "custom_objects.") {
				t.Errorf("the provider's internal names reach the caller: %s", r.raw)
			}
			st := grpcCall(e.tn.key, tc.conn, tc.grpc)
			httpStatus, fromGRPC := apierr.BodyFromStatus(st)
			if httpStatus != tc.status || !reflect.DeepEqual(fromGRPC, got) {
				t.Errorf("gRPC %v carries %d %+v, REST answered %d %+v", st.Code(), httpStatus, fromGRPC, r.status, got)
			}
		})
	}
}

func sortedKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// servedDocument loads the document the gateway serves, with the gateway
// as its server (the document's "/" server).
func servedDocument(t *testing.T, g *gateway) (*openapi3.T, routers.Router) {
	t.Helper()
	r := g.do(t, "GET", "/openapi.json", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("/openapi.json: %d", r.status)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served document is not valid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: g.httpURL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, router
}

// TestOpenAPIDescribesAnswers: real answers of the gateway, successes and
// errors of the gateway and of the provider, are what the served document
// says (kin-openapi's request and response validation).
func TestOpenAPIDescribesAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 3)
	_, router := servedDocument(t, e.g)
	h := hdr(e.tn.key, e.tn.connID)
	withHeaders := hdr(e.tn.key, e.tn.connID)
	withHeaders["Idempotency-Key"] = "create-" + randHex(8)
	withHeaders["x-crmgate-wait"] = "2.5"
	withHeaders["X-Request-Id"] = "req-" + randHex(8)
	list := e.g.do(t, "GET", crmBase+"/custom_objects/pet?page_size=2", h, nil)
	id := str(obj(arr(list.body["items"])[0])["id"])
	for _, tc := range []struct {
		method, path string
		header       map[string]string
		body         any
		status       int
	}{
		{"GET", crmBase + "/custom_objects/pet?page_size=2", h, nil, 200},
		{"GET", crmBase + "/custom_objects/pet/" + id + "?include_raw_data=true", h, nil, 200},
		{"POST", crmBase + "/custom_objects/pet", withHeaders, map[string]any{"record": map[string]any{"properties": map[string]any{"name": "Rex", "age": 4}}}, 200},
		{"POST", crmBase + "/custom_objects/pet/_search", h, map[string]any{"query": "a", "page_size": 2}, 200},
		{"GET", crmBase + "/metadata/objects", h, nil, 200},
		{"GET", crmBase + "/metadata/objects/pet/properties", h, nil, 200},
		{"GET", coreBase + "/connections", h, nil, 200},
		{"GET", coreBase + "/connections/" + e.tn.connID, h, nil, 200},
		{"GET", coreBase + "/connections/" + e.tn.connID + "/rate_limit", h, nil, 200},
		{"GET", crmBase + "/custom_objects/pet?page_sise=2", h, nil, 400},
		{"POST", crmBase + "/custom_objects/pet", h, map[string]any{"record": map[string]any{"properties": map[string]any{"age": 4}}}, 400},
		{"POST", crmBase + "/custom_objects/pet", h, map[string]any{"properties": map[string]any{"age": 4}}, 400}, // grpc-gateway's decoding error
		{"GET", crmBase + "/custom_objects/pet/000000000000000000000000", h, nil, 404},
		{"GET", coreBase + "/connections", hdr("", ""), nil, 401},
		{"GET", crmBase + "/custom_objects/pet", hdr(e.tn.key, "conn_ghl_nosuch"), nil, 404},
	} {
		r := e.g.do(t, tc.method, tc.path, tc.header, tc.body)
		if r.status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.raw, tc.status)
			continue
		}
		// One JSON style on every route: compact (no whitespace between
		// tokens), whichever message or error answers.
		var compact bytes.Buffer
		if err := json.Compact(&compact, r.raw); err != nil || !bytes.Equal(compact.Bytes(), r.raw) {
			t.Errorf("%s %s: answer is not compact JSON: %s", tc.method, tc.path, r.raw)
		}
		var reqBody []byte
		if tc.body != nil {
			reqBody, _ = json.Marshal(tc.body)
		}
		req, err := http.NewRequest(tc.method, e.g.httpURL+tc.path, bytes.NewReader(reqBody))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: not in the document: %v", tc.method, tc.path, err)
			continue
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
		if tc.status < 400 {
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				t.Errorf("%s %s: the request does not fit the document: %v", tc.method, tc.path, err)
			}
		}
		resp := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.raw)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
		if err := openapi3filter.ValidateResponse(context.Background(), resp); err != nil {
			t.Errorf("%s %s: the %d answer does not fit the document: %v\n%.600s", tc.method, tc.path, r.status, err, r.raw)
		}
	}
}

// outsideDocument are the HTTP routes deliberately not in the OpenAPI
// document, with the reason.
var outsideDocument = map[string]string{
	"GET /healthz":                       "liveness probe for orchestrators, not the client API (docs/api.md)",
	"GET /readyz":                        "readiness probe for orchestrators, not the client API (docs/api.md)",
	"GET /metrics":                       "Prometheus scrape endpoint, text format, not JSON",
	"GET /openapi.json":                  "the document itself",
	"GET /connect/{connector}":           "HTML page of the OAuth connect flow, for a browser",
	"POST /connect/{connector}/start":    "HTML form post of the OAuth connect flow, for a browser",
	"GET /connect/{connector}/callback":  "the provider's OAuth redirect, for a browser",
	"POST /connect/{connector}/callback": "answers 405 to a POSTed OAuth redirect",
	"/v0/passthrough/{path...}":          "any method, any provider path, raw bodies: no proto HTTP rule can say it (docs/api.md, Passthrough)",
}

// TestOpenAPICoversServer: every route the running gateway answers is in
// the served document — the REST routes of the protos (found by
// kin-openapi's router) — or listed in outsideDocument with a reason.
func TestOpenAPICoversServer(t *testing.T) {
	t.Parallel()
	g := newGateway(t, gwOptions{})
	_, router := servedDocument(t, g)
	for _, p := range g.app.Server.HTTPRoutes() {
		if _, ok := outsideDocument[p]; !ok {
			t.Errorf("HTTP route %q is neither in the OpenAPI document nor in outsideDocument with a reason", p)
		}
	}
	for _, r := range httpRoutes(t) {
		req, err := http.NewRequest(r.method, g.httpURL+r.path(nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		route, _, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s: not in the served document: %v", r, err)
			continue
		}
		if !strings.HasSuffix(route.Operation.OperationID, "_"+r.rpc) {
			t.Errorf("%s: operation %s", r, route.Operation.OperationID)
		}
	}
}
