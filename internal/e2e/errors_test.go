package e2e

import (
	"context"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

// TestProviderErrorsDistinguishable: an error of GHL is reported as the
// provider's (origin, provider, provider_status, provider_message), never
// as the gateway's, and the gateway's own errors say origin=gateway.
func TestProviderErrorsDistinguishable(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 1)
		c := e.client(t, tr)

		// GHL 404: a record that does not exist.
		err := wantCode(t, second(c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: "000000000000000000000000"})), codes.NotFound)
		if err.origin != "provider" || err.provider != "ghl" || err.providerStatus != 404 || err.providerMessage == "" {
			t.Errorf("GHL 404: %v", err)
		}
		// Gateway 404: a connection that does not exist.
		err = wantCode(t, second(c.as(e.tn.key, "conn_ghl_nosuch").GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: "000000000000000000000000"})), codes.NotFound)
		if err.origin != "gateway" || err.providerStatus != 0 || err.provider != "" || err.reason != "CONNECTION_NOT_FOUND" {
			t.Errorf("gateway 404: %v", err)
		}
		// GHL 400: the primary display property is missing (GHL's rule).
		err = wantCode(t, second(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"age": 1})}})), codes.InvalidArgument)
		if err.origin != "provider" || err.providerStatus != 400 || !strings.Contains(err.providerMessage, "name") {
			t.Errorf("GHL 400: %v", err)
		}
		// Gateway 400: validation.
		err = wantCode(t, second(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"name": "x", "age": "x"})}})), codes.InvalidArgument)
		if err.origin != "gateway" || err.providerStatus != 0 || len(err.violations) == 0 {
			t.Errorf("gateway 400: %v", err)
		}
		// Gateway 401.
		err = wantCode(t, second(c.as("", e.tn.connID).ListObjects(&crmv1.ListObjectsRequest{})), codes.Unauthenticated)
		if err.origin != "gateway" || err.reason != "API_KEY_MISSING" {
			t.Errorf("gateway 401: %v", err)
		}

		// GHL 401: a revoked token.
		e.f.RevokeToken(e.tn.token)
		for name, call := range map[string]func() error{
			"ListRecords": func() error { return second(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"})) },
			"GetObject": func() error {
				return second(c.GetObject(&crmv1.GetObjectRequest{ObjectName: "account"})) // not cached yet
			},
			"SearchRecords": func() error {
				return second(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "x"}))
			},
		} {
			err := wantCode(t, call(), codes.PermissionDenied)
			if err.origin != "provider" || err.provider != "ghl" || err.providerStatus != 401 || err.reason != "PROVIDER_ERROR" ||
				!strings.Contains(err.providerMessage, "Invalid token") {
				t.Errorf("%s with a revoked token: %v", name, err)
			}
			if tr == REST && err.httpStatus != http.StatusForbidden {
				t.Errorf("%s with a revoked token: HTTP %d, want 403 (the caller's own key is valid)", name, err.httpStatus)
			}
			if l := e.g.leaks([]byte(err.raw)); len(l) > 0 {
				t.Errorf("the provider error leaks %v", l)
			}
		}
	})
}

// TestProviderRateLimit: GHL's 429 is passed on with its retry hint.
func TestProviderRateLimit(t *testing.T) {
	t.Parallel()
	// The gateway paces calls under the budget (3 per 2 s here); the fake
	// itself does not limit, so any 429 comes from the gateway's pacing.
	f := newFake(t, ghlfake.Options{BurstLimit: -1, DailyLimit: -1})
	g := newGateway(t, gwOptions{env: map[string]string{"GATEWAY_RATE_LIMIT_BURST": "3", "GATEWAY_RATE_LIMIT_WINDOW": "2s"}})
	tn := g.newTenant(t, f, "org-429", 1)
	path := crmBase + "/custom_objects/pet?page_size=1"
	failFast := hdr(tn.key, tn.connID)
	failFast["x-crmgate-wait"] = "0"
	var got429 *response
	for i := 0; i < 6; i++ {
		r := g.do(t, "GET", path, failFast, nil)
		if r.status == http.StatusTooManyRequests {
			got429 = &r
			break
		}
		if r.status != http.StatusOK {
			t.Fatalf("call %d: %d %s", i, r.status, r.raw)
		}
	}
	if got429 == nil {
		t.Fatal("a fail-fast caller got no 429 after 6 calls with a budget of 3")
	}
	if ra, _ := strconv.Atoi(got429.header.Get("Retry-After")); ra <= 0 {
		t.Errorf("429 without Retry-After: %v", got429.header)
	}
	if got429.body["code"] != "RESOURCE_EXHAUSTED" || got429.body["details"].(map[string]any)["reason"] != "RATE_LIMITED" {
		t.Errorf("429 body: %s", got429.raw)
	}
	// gRPC: the same through metadata.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-apikey", tn.key, "x-connection-id", tn.connID, "x-crmgate-wait", "0")
	_, err := crmv1.NewCrmServiceClient(g.conn).ListRecords(ctx, &crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 1})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC fail-fast over budget: %v, want ResourceExhausted", err)
	}
	// Callers who wait are paced, never refused.
	start := time.Now()
	for i := 0; i < 4; i++ {
		if r := g.do(t, "GET", path, hdr(tn.key, tn.connID), nil); r.status != http.StatusOK {
			t.Fatalf("waiting caller %d got %d %s", i, r.status, r.raw)
		}
	}
	if time.Since(start) < time.Second {
		t.Errorf("4 calls over a spent budget of 3 per 2s took %s: not paced", time.Since(start))
	}
	// Bad header values are refused.
	bad := hdr(tn.key, tn.connID)
	bad["x-crmgate-wait"] = "soon"
	if r := g.do(t, "GET", path, bad, nil); r.status != http.StatusBadRequest {
		t.Errorf("x-crmgate-wait: soon answered %d", r.status)
	}
	// The budget GHL reported is visible on the connection.
	r := g.do(t, "GET", "/v0/core/connections/"+tn.connID+"/rate_limit", hdr(tn.key, ""), nil)
	if r.status != http.StatusOK || r.body["burst_limit"] != float64(ghlfake.UnlimitedBurst) || r.body["daily_limit"] == float64(-1) {
		t.Errorf("rate_limit view: %d %s", r.status, r.raw)
	}
}

// TestProviderUnreachable: a provider that cannot be reached is a 503 of
// origin provider (the one 5xx the suite accepts, as it is not the
// gateway's fault), and a provider answering garbage is not an internal
// error of the gateway.
func TestProviderUnreachable(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		g := newGateway(t, gwOptions{})
		key := g.apiKey(t, "org-down")

		// A closed port.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closedURL := "http://" + l.Addr().String()
		_ = l.Close()

		// A server answering 500, and one answering 200 with non-JSON.
		broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/objects/custom_objects.pet/records/search") {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte("<html>not json</html>"))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"statusCode":500,"message":"Internal server error"}`))
		}))
		t.Cleanup(broken.Close)

		for _, tc := range []struct {
			name, url      string
			call           func(c *client) error
			providerStatus int
		}{
			{"closed port", closedURL, func(c *client) error { return second(c.ListObjects(&crmv1.ListObjectsRequest{})) }, 0},
			{"GHL 500", broken.URL, func(c *client) error { return second(c.ListObjects(&crmv1.ListObjectsRequest{})) }, 500},
			{"GHL garbage", broken.URL, func(c *client) error { return second(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"})) }, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cfg := g.createConfig(t, key, tc.url, "")
				conn := g.createConnection(t, key, cfg, "cust", "locDown", "pit-"+randHex(16))
				c := g.client(t, tr, key, conn)
				c.allow5xx = true
				err := wantCode(t, tc.call(c), codes.Unavailable)
				if err.origin != "provider" || err.provider != "ghl" || err.providerStatus != tc.providerStatus {
					t.Errorf("%v, want origin provider with provider_status %d", err, tc.providerStatus)
				}
				if tr == REST && err.httpStatus != http.StatusServiceUnavailable {
					t.Errorf("HTTP %d, want 503", err.httpStatus)
				}
				if strings.Contains(err.message, "127.0.0.1") {
					t.Errorf("the error shows the provider's address: %q", err.message)
				}
				// Check answers for an unreachable provider too.
				if tc.name == "closed port" {
					err := asAPIError(second(c.CheckConnection(&corev1.CheckConnectionRequest{Id: conn})))
					if err == nil || err.code != codes.Unavailable {
						t.Errorf("check of an unreachable provider: %v", err)
					}
				}
			})
		}
	})
}
