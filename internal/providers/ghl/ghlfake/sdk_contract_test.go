package ghlfake

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// sdkDir holds the JS contract test and its package.json/package-lock.json.
const sdkDir = "sdktest"

// requireSDK skips the test when the official SDK is not installed (or node
// is missing), and fails it under CI=true, where .ci/run installs it.
func requireSDK(t *testing.T) string {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	if _, err := os.Stat(filepath.Join(sdkDir, "node_modules", "@gohighlevel", "api-client", "package.json")); err != nil {
		fail("HighLevel's SDK is not installed: run `npm ci` in internal/providers/ghl/ghlfake/sdktest (%v)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		fail("node is not on PATH: the SDK contract test needs Node.js >= 18 (%v)", err)
	}
	return node
}

// TestSDKContract drives the fake with HighLevel's official JavaScript SDK
// (@gohighlevel/api-client) through sdktest/contract.mjs.
func TestSDKContract(t *testing.T) {
	node := requireSDK(t)
	fake := New(Options{})
	const token, loc = "pit-sdk-contract", "sdkContractLoc01"
	fake.AddToken(token, loc)
	fake.SeedCRM(loc) // users, businesses, contacts, pipeline, opportunities
	srv := httptest.NewServer(fake)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "contract.mjs")
	cmd.Dir = sdkDir
	cmd.Env = append(os.Environ(),
		"GHL_FAKE_URL="+srv.URL,
		"GHL_FAKE_TOKEN="+token,
		"GHL_FAKE_LOCATION_ID="+loc,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node contract.mjs: %v\n%s", err, out)
	}
	t.Logf("node contract.mjs:\n%s", out)

	if n := fake.RequestCount("POST /objects/{schemaKey}/records/search"); n < 4 {
		t.Errorf("the SDK made %d searches, want at least 4", n)
	}
	for route, least := range map[string]int{
		"POST /contacts/search": 4, "GET /contacts/": 2, "GET /opportunities/search": 4,
		"POST /contacts/": 1, "GET /contacts/{contactId}": 1, "PUT /contacts/{contactId}": 1,
		"DELETE /contacts/{contactId}": 1, "POST /contacts/upsert": 2, "GET /contacts/{contactId}/notes": 1,
		"POST /contacts/{contactId}/notes": 1, "GET /contacts/{contactId}/notes/{id}": 1,
		"PUT /contacts/{contactId}/notes/{id}": 1, "DELETE /contacts/{contactId}/notes/{id}": 1,
		"POST /opportunities/": 1, "GET /opportunities/{id}": 1, "PUT /opportunities/{id}": 1,
		"PUT /opportunities/{id}/status": 1, "DELETE /opportunities/{id}": 1, "POST /opportunities/upsert": 2,
		"GET /opportunities/pipelines": 1, "POST /businesses/": 1, "GET /businesses/": 1,
		"GET /businesses/{businessId}": 1, "PUT /businesses/{businessId}": 1, "DELETE /businesses/{businessId}": 1,
		"GET /users/": 1, "GET /users/{userId}": 1,
	} {
		if n := fake.RequestCount(route); n < least {
			t.Errorf("the SDK called %s %d times, want at least %d", route, n, least)
		}
	}
	if n := fake.TotalRequests(); n < 80 {
		t.Errorf("the SDK made %d requests, want at least 80", n)
	}
}
