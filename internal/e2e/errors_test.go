package e2e

import (
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
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t, ghlfake.Options{BurstLimit: 3, BurstWindow: 10 * time.Second, DailyLimit: -1})
		g := newGateway(t, gwOptions{})
		tn := g.newTenant(t, f, "org-429", 1)
		c := g.client(t, tr, tn.key, tn.connID)
		var err *apiError
		for i := 0; i < 6 && err == nil; i++ {
			err = asAPIError(second(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"})))
		}
		if err == nil {
			t.Fatal("no 429 after 6 calls with a burst limit of 3")
		}
		if err.code != codes.ResourceExhausted || err.origin != "provider" || err.providerStatus != 429 || err.retryAfterMS <= 0 {
			t.Errorf("GHL 429: %v (retry_after_ms %d)", err, err.retryAfterMS)
		}
		if tr == REST && err.httpStatus != http.StatusTooManyRequests {
			t.Errorf("GHL 429: HTTP %d", err.httpStatus)
		}
		if tr == REST {
			r := g.do(t, "GET", crmBase+"/custom_objects/pet", hdr(tn.key, tn.connID), nil)
			if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); r.status != 429 || ra <= 0 {
				t.Errorf("REST 429: status %d Retry-After %q", r.status, r.header.Get("Retry-After"))
			}
		}
	})
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
