package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	adminv1 "github.com/crmgate/crmgate/gen/crmgate/admin/v1"
	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/server/restrules"
	"github.com/crmgate/crmgate/internal/testenv"
)

const adminBase = "/v0/admin"

// adminGateway is a gateway with the Admin API enabled, and its admin key.
type adminGateway struct {
	*gateway
	adminKey string
	router   routers.Router // the served OpenAPI document's
}

func newAdminGateway(t *testing.T, o gwOptions) *adminGateway {
	t.Helper()
	key, hash, err := auth.NewAdminKey()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GATEWAY_ADMIN_KEY_HASH": hash}
	for k, v := range o.env {
		env[k] = v
	}
	o.env = env
	g := newGateway(t, o)
	g.addSecret(key, "the admin key") // never in an answer nor in the log
	_, router := servedDocument(t, g)
	return &adminGateway{gateway: g, adminKey: key, router: router}
}

func adminHdr(key string) map[string]string {
	return map[string]string{auth.HeaderAdminKey: key}
}

// admin sends an Admin API call with the admin key and checks the answer
// against the served OpenAPI document.
func (a *adminGateway) admin(t *testing.T, method, path string, body any) response {
	t.Helper()
	return a.checked(t, method, path, adminHdr(a.adminKey), body)
}

// checked sends a REST call and checks request and answer against the
// served document (as TestOpenAPIDescribesAnswers does).
func (a *adminGateway) checked(t *testing.T, method, path string, headers map[string]string, body any) response {
	t.Helper()
	r := a.do(t, method, path, headers, body)
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, a.httpURL+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	route, params, err := a.router.FindRoute(req)
	if err != nil {
		t.Errorf("%s %s: not in the document: %v", method, path, err)
		return r
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.raw)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: the %d answer does not fit the document: %v\n%.600s", method, path, r.status, err, r.raw)
	}
	return r
}

func wantStatus(t *testing.T, what string, r response, status int, reason string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.status, r.raw, status)
	}
	if reason != "" && at(r.body, "details", "reason") != reason {
		t.Fatalf("%s: %s, want reason %s", what, r.raw, reason)
	}
}

// createOrg creates an organisation through the Admin API.
func (a *adminGateway) createOrg(t *testing.T, name string) string {
	t.Helper()
	r := a.admin(t, "POST", adminBase+"/organisations", map[string]any{"name": name})
	wantStatus(t, "create organisation", r, http.StatusOK, "")
	if id := str(r.body["id"]); !strings.HasPrefix(id, "org_") || r.body["name"] != name || r.body["created_at"] == nil {
		t.Fatalf("created organisation %s", r.raw)
	}
	return str(r.body["id"])
}

// createKey creates an API key through the Admin API; it returns the key
// and its description.
func (a *adminGateway) createKey(t *testing.T, org, name string) (string, map[string]any) {
	t.Helper()
	r := a.admin(t, "POST", adminBase+"/organisations/"+org+"/api_keys", map[string]any{"name": name})
	wantStatus(t, "create api key", r, http.StatusOK, "")
	key := str(r.body["key"])
	k := obj(r.body["api_key"])
	if !strings.HasPrefix(key, auth.KeyPrefix) || k["prefix"] != key[:8] || k["status"] != "active" || k["organisation_id"] != org || k["name"] != name {
		t.Fatalf("created api key %s", r.raw)
	}
	a.addSecret(key, "API key "+name) // from now on, in no answer
	return key, k
}

// coreStatus calls a Core list with key and returns the answer.
func (a *adminGateway) coreStatus(t *testing.T, key string) response {
	t.Helper()
	return a.do(t, "GET", coreBase+"/connector_configs", hdr(key, ""), nil)
}

// onBothStores runs fn on a gateway storing in SQLite and in PostgreSQL
// (skipped without PostgreSQL, failed under CI).
func onBothStores(t *testing.T, fn func(t *testing.T, o gwOptions)) {
	t.Run("SQLite", func(t *testing.T) { t.Parallel(); fn(t, gwOptions{}) })
	t.Run("PostgreSQL", func(t *testing.T) {
		t.Parallel()
		testenv.PostgresURL(t)
		fn(t, gwOptions{postgres: true})
	})
}

// TestAdminAPIKeyLifecycle: an operator creates an organisation and an API
// key through the Admin API; the key works on /v0/core, the key lists show
// it without its secret (with its last use), and once revoked it is a 401.
func TestAdminAPIKeyLifecycle(t *testing.T) {
	t.Parallel()
	onBothStores(t, testAdminAPIKeyLifecycle)
}

func testAdminAPIKeyLifecycle(t *testing.T, o gwOptions) {
	a := newAdminGateway(t, o)
	f := newFake(t)
	org := a.createOrg(t, "Acme "+randHex(6))

	got := a.admin(t, "GET", adminBase+"/organisations/"+org, nil)
	wantStatus(t, "get organisation", got, http.StatusOK, "")
	if got.body["id"] != org {
		t.Errorf("get organisation = %s", got.raw)
	}
	dup := a.admin(t, "POST", adminBase+"/organisations", map[string]any{"name": got.body["name"]})
	wantStatus(t, "duplicate organisation name", dup, http.StatusConflict, "ORGANISATION_EXISTS")
	wantStatus(t, "unknown organisation", a.admin(t, "GET", adminBase+"/organisations/org_nosuch", nil), http.StatusNotFound, "ORGANISATION_NOT_FOUND")
	wantStatus(t, "blank name", a.admin(t, "POST", adminBase+"/organisations", map[string]any{"name": " "}), http.StatusBadRequest, "")

	key, k := a.createKey(t, org, "ci")
	id := str(k["id"])

	// The key works on /v0/core, for its organisation.
	cfg := a.createConfig(t, key, f.URL, "")
	if r := a.coreStatus(t, key); r.status != http.StatusOK || len(arr(r.body["items"])) != 1 || str(obj(arr(r.body["items"])[0])["id"]) != cfg {
		t.Fatalf("core list with the new key: %d %s", r.status, r.raw)
	}

	// Listed without its secret, with its last use.
	list := a.admin(t, "GET", adminBase+"/organisations/"+org+"/api_keys", nil)
	wantStatus(t, "list api keys", list, http.StatusOK, "")
	items := arr(list.body["items"])
	if len(items) != 1 || list.body["next_cursor"] != "" || list.body["has_next_page"] != false {
		t.Fatalf("api keys = %s", list.raw)
	}
	listed := obj(items[0])
	if listed["id"] != id || listed["prefix"] != key[:8] || listed["status"] != "active" || listed["last_used_at"] == nil ||
		listed["revoked_at"] != nil || listed["expires_at"] != nil || listed["created_at"] == nil {
		t.Errorf("listed key = %v", listed)
	}
	for field := range listed {
		if strings.Contains(field, "hash") || field == "key" || field == "secret" {
			t.Errorf("listed key has field %q", field)
		}
	}
	one := a.admin(t, "GET", adminBase+"/organisations/"+org+"/api_keys/"+id, nil)
	wantStatus(t, "get api key", one, http.StatusOK, "")
	if one.body["id"] != id || one.body["key"] != nil {
		t.Errorf("get api key = %s", one.raw)
	}

	// Another organisation does not see it.
	other := a.createOrg(t, "Other "+randHex(6))
	wantStatus(t, "key through another organisation", a.admin(t, "GET", adminBase+"/organisations/"+other+"/api_keys/"+id, nil), http.StatusNotFound, "API_KEY_NOT_FOUND")
	if r := a.admin(t, "GET", adminBase+"/organisations/"+other+"/api_keys", nil); len(arr(r.body["items"])) != 0 {
		t.Errorf("other organisation's keys = %s", r.raw)
	}

	// Revoked: refused at once (this replica forgets it), shown revoked.
	rev := a.admin(t, "POST", adminBase+"/organisations/"+org+"/api_keys/"+id+"/revoke", map[string]any{})
	wantStatus(t, "revoke", rev, http.StatusOK, "")
	if rev.body["status"] != "revoked" || rev.body["revoked_at"] == nil {
		t.Errorf("revoked key = %s", rev.raw)
	}
	wantStatus(t, "core call with a revoked key", a.coreStatus(t, key), http.StatusUnauthorized, "API_KEY_REVOKED")
	again := a.admin(t, "POST", adminBase+"/organisations/"+org+"/api_keys/"+id+"/revoke", nil) // no body: as {}
	wantStatus(t, "revoke again", again, http.StatusOK, "")
	if again.body["revoked_at"] != rev.body["revoked_at"] {
		t.Errorf("revoking again moved revoked_at: %v -> %v", rev.body["revoked_at"], again.body["revoked_at"])
	}
	wantStatus(t, "rotate a revoked key", a.admin(t, "POST", adminBase+"/organisations/"+org+"/api_keys/"+id+"/rotate", map[string]any{}), http.StatusBadRequest, "API_KEY_REVOKED")

	// A second key of the organisation still works; the list shows both.
	key2, _ := a.createKey(t, org, "second")
	if r := a.coreStatus(t, key2); r.status != http.StatusOK || len(arr(r.body["items"])) != 1 {
		t.Fatalf("core list with the second key: %d %s", r.status, r.raw)
	}
	list = a.admin(t, "GET", adminBase+"/organisations/"+org+"/api_keys?page_size=1", nil)
	if len(arr(list.body["items"])) != 1 || list.body["has_next_page"] != true || str(list.body["next_cursor"]) == "" {
		t.Fatalf("first page of keys = %s", list.raw)
	}
	next := a.admin(t, "GET", adminBase+"/organisations/"+org+"/api_keys?page_size=1&cursor="+url.QueryEscape(str(list.body["next_cursor"])), nil)
	if items := arr(next.body["items"]); len(items) != 1 || obj(items[0])["name"] != "second" || next.body["has_next_page"] != false {
		t.Fatalf("second page of keys = %s", next.raw)
	}

	// Over gRPC too.
	ctx := metadata.AppendToOutgoingContext(t.Context(), auth.HeaderAdminKey, a.adminKey)
	gk, err := adminv1.NewAdminServiceClient(a.conn).ListApiKeys(ctx, &adminv1.ListApiKeysRequest{OrganisationId: org})
	if err != nil || len(gk.GetItems()) != 2 || gk.GetItems()[0].GetStatus() != "revoked" || gk.GetItems()[1].GetStatus() != "active" {
		t.Fatalf("gRPC ListApiKeys = %v, %v", gk, err)
	}
}

// TestAdminRotateGrace: a rotated key keeps working for the grace period
// the request gives, then stops; the new key works from the start.
func TestAdminRotateGrace(t *testing.T) {
	t.Parallel()
	onBothStores(t, testAdminRotateGrace)
}

func testAdminRotateGrace(t *testing.T, o gwOptions) {
	a := newAdminGateway(t, o)
	org := a.createOrg(t, "Rotating "+randHex(6))
	oldKey, k := a.createKey(t, org, "service")
	id := str(k["id"])
	wantStatus(t, "old key before rotation", a.coreStatus(t, oldKey), http.StatusOK, "")

	const grace = 3 * time.Second
	before := time.Now()
	r := a.admin(t, "POST", adminBase+"/organisations/"+org+"/api_keys/"+id+"/rotate", map[string]any{"grace_period": "3s"})
	wantStatus(t, "rotate", r, http.StatusOK, "")
	newKey := str(r.body["key"])
	if !strings.HasPrefix(newKey, auth.KeyPrefix) || newKey == oldKey {
		t.Fatalf("rotated key %q", newKey)
	}
	a.addSecret(newKey, "the rotated API key")
	created, prev := obj(r.body["api_key"]), obj(r.body["previous"])
	if created["name"] != "service" || created["status"] != "active" || prev["id"] != id || prev["replaced_by"] != created["id"] || prev["status"] != "active" {
		t.Fatalf("rotation answer = %s", r.raw)
	}
	expires, err := time.Parse(time.RFC3339Nano, str(prev["expires_at"]))
	if err != nil || expires.Before(before.Add(grace-time.Second)) || expires.After(time.Now().Add(grace+time.Second)) {
		t.Fatalf("old key expires at %v (%v), want about %v from now", prev["expires_at"], err, grace)
	}

	// Within the grace period both keys work.
	wantStatus(t, "old key within the grace period", a.coreStatus(t, oldKey), http.StatusOK, "")
	wantStatus(t, "new key", a.coreStatus(t, newKey), http.StatusOK, "")
	wantStatus(t, "rotate the rotated key", a.admin(t, "POST", adminBase+"/organisations/"+org+"/api_keys/"+id+"/rotate", map[string]any{}), http.StatusBadRequest, "API_KEY_ROTATED")

	// After it, only the new one.
	time.Sleep(time.Until(expires) + 200*time.Millisecond)
	wantStatus(t, "old key after the grace period", a.coreStatus(t, oldKey), http.StatusUnauthorized, "API_KEY_EXPIRED")
	wantStatus(t, "new key after the grace period", a.coreStatus(t, newKey), http.StatusOK, "")
	if g := a.admin(t, "GET", adminBase+"/organisations/"+org+"/api_keys/"+id, nil); g.body["status"] != "expired" {
		t.Errorf("old key after the grace period = %s", g.raw)
	}

	// Without grace_period: 24 hours. Out of range: a 400 naming it.
	newID := str(created["id"])
	for _, bad := range []string{"-1s", "2592001s"} {
		b := a.admin(t, "POST", adminBase+"/organisations/"+org+"/api_keys/"+newID+"/rotate", map[string]any{"grace_period": bad})
		wantStatus(t, "grace_period "+bad, b, http.StatusBadRequest, "")
		if !strings.Contains(string(b.raw), "grace_period") {
			t.Errorf("grace_period %s: %s does not name the field", bad, b.raw)
		}
	}
	d := a.admin(t, "POST", adminBase+"/organisations/"+org+"/api_keys/"+newID+"/rotate", map[string]any{"name": "service v3"})
	wantStatus(t, "rotate with the default grace", d, http.StatusOK, "")
	a.addSecret(str(d.body["key"]), "the twice rotated API key")
	if e, err := time.Parse(time.RFC3339Nano, str(obj(d.body["previous"])["expires_at"])); err != nil || time.Until(e) < 23*time.Hour || time.Until(e) > 25*time.Hour {
		t.Errorf("default grace: old key expires at %v (%v), want in 24h", e, err)
	}
	if obj(d.body["api_key"])["name"] != "service v3" {
		t.Errorf("renamed rotation = %s", d.raw)
	}
	wantStatus(t, "the previous key within its default grace", a.coreStatus(t, newKey), http.StatusOK, "")
	wantStatus(t, "the newest key", a.coreStatus(t, str(d.body["key"])), http.StatusOK, "")
}

// adminRoutes are the AdminService's REST routes.
func adminRoutes(t *testing.T) []httpRoute {
	t.Helper()
	routes, err := restrules.Routes(adminv1.File_crmgate_admin_v1_admin_proto)
	if err != nil {
		t.Fatal(err)
	}
	var out []httpRoute
	for _, r := range routes {
		i := strings.LastIndexByte(r.RPC, '.')
		out = append(out, httpRoute{rpc: r.RPC[i+1:], method: r.Method, template: r.Template, body: r.Body})
	}
	if len(out) != 8 {
		t.Fatalf("%d admin routes", len(out))
	}
	return out
}

// TestAdminAuth: every admin route wants the admin key — none, a wrong one
// or an organisation's API key is a 401, and the admin key opens no
// organisation's API; without GATEWAY_ADMIN_KEY_HASH the Admin API says it
// is disabled and how to enable it.
func TestAdminAuth(t *testing.T) {
	t.Parallel()
	a := newAdminGateway(t, gwOptions{})
	org := a.createOrg(t, "Auth "+randHex(6))
	apiKey, _ := a.createKey(t, org, "org key")
	for _, r := range adminRoutes(t) {
		var body any
		if r.body != "" {
			body = map[string]any{}
		}
		for _, tc := range []struct {
			name    string
			headers map[string]string
			reason  string
		}{
			{"no key", nil, "ADMIN_KEY_MISSING"},
			{"a wrong key", adminHdr(auth.AdminKeyPrefix + "wrong" + randHex(20)), "ADMIN_KEY_INVALID"},
			{"the admin key in x-apikey", hdr(a.adminKey, ""), "ADMIN_KEY_MISSING"},
			{"an organisation's API key", hdr(apiKey, ""), "ADMIN_KEY_MISSING"},
		} {
			resp := a.checked(t, r.method, r.path(nil), tc.headers, body)
			if resp.status != http.StatusUnauthorized || resp.body["code"] != "UNAUTHENTICATED" || at(resp.body, "details", "reason") != tc.reason {
				t.Errorf("%s with %s: %d %s, want 401 %s", r, tc.name, resp.status, resp.raw, tc.reason)
			}
		}
	}
	// The admin key is no API key.
	wantStatus(t, "core call with the admin key", a.do(t, "GET", coreBase+"/connections", adminHdr(a.adminKey), nil), http.StatusUnauthorized, "API_KEY_MISSING")
	wantStatus(t, "core call with the admin key as x-apikey", a.do(t, "GET", coreBase+"/connections", hdr(a.adminKey, ""), nil), http.StatusUnauthorized, "API_KEY_INVALID")
	// gRPC: the same check.
	_, err := adminv1.NewAdminServiceClient(a.conn).ListOrganisations(metadata.AppendToOutgoingContext(t.Context(), auth.HeaderAdminKey, "cga_wrong"), &adminv1.ListOrganisationsRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC with a wrong admin key: %v", err)
	}

	// Disabled: a clear 403 on every route, whatever key is sent.
	off := newGateway(t, gwOptions{})
	off.addSecret(a.adminKey, "the admin key")
	for _, r := range adminRoutes(t) {
		var body any
		if r.body != "" {
			body = map[string]any{}
		}
		for _, h := range []map[string]string{nil, adminHdr(a.adminKey)} {
			resp := off.do(t, r.method, r.path(nil), h, body)
			if resp.status != http.StatusForbidden || resp.body["code"] != "PERMISSION_DENIED" || at(resp.body, "details", "reason") != "ADMIN_API_DISABLED" ||
				resp.body["message"] != "admin API disabled: set GATEWAY_ADMIN_KEY_HASH" {
				t.Errorf("%s on a gateway without an admin key: %d %s, want 403 ADMIN_API_DISABLED", r, resp.status, resp.raw)
			}
		}
	}
	_, err = adminv1.NewAdminServiceClient(off.conn).ListOrganisations(metadata.AppendToOutgoingContext(t.Context(), auth.HeaderAdminKey, a.adminKey), &adminv1.ListOrganisationsRequest{})
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(status.Convert(err).Message(), "GATEWAY_ADMIN_KEY_HASH") {
		t.Errorf("gRPC on a gateway without an admin key: %v", err)
	}
}

// TestCoreListsPaginated: Core's lists page the way the CRM record lists
// do — page_size and cursor in, next_cursor and has_next_page out, oldest
// first, every row once — over REST and gRPC; a cursor of another filter,
// a broken one and a negative page_size are 400s; the admin organisation
// list too.
func TestCoreListsPaginated(t *testing.T) {
	t.Parallel()
	a := newAdminGateway(t, gwOptions{})
	f := newFake(t)
	tn := a.newTenant(t, f, "org-pages-"+randHex(6), -1)
	h := hdr(tn.key, "")
	configs := []string{tn.configID}
	conns := []string{tn.connID}
	var custB []string
	for i := range 4 {
		cfg := a.createConfig(t, tn.key, f.URL, "")
		configs = append(configs, cfg)
		customer := tn.customerID
		if i%2 == 1 {
			customer = "cust-b"
		}
		c := a.createConnection(t, tn.key, cfg, customer, tn.location, tn.token)
		conns = append(conns, c)
		if customer == "cust-b" {
			custB = append(custB, c)
		}
	}

	pageREST := func(path string, size int) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for range 20 {
			q := url.Values{"page_size": {strconv.Itoa(size)}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			r := a.checked(t, "GET", path+sep+q.Encode(), h, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, r.status, r.raw)
			}
			items := arr(r.body["items"])
			if len(items) > size {
				t.Fatalf("page of %d items for page_size %d", len(items), size)
			}
			for _, it := range items {
				ids = append(ids, str(obj(it)["id"]))
			}
			cursor = str(r.body["next_cursor"])
			if (cursor != "") != (r.body["has_next_page"] == true) {
				t.Fatalf("next_cursor %q with has_next_page %v", cursor, r.body["has_next_page"])
			}
			if cursor == "" {
				return ids
			}
		}
		t.Fatal("the list does not end")
		return nil
	}
	for _, size := range []int{1, 2, 5, 100} {
		if got := pageREST(coreBase+"/connector_configs", size); !slices.Equal(got, configs) {
			t.Errorf("page_size %d: configs %v, want %v", size, got, configs)
		}
		if got := pageREST(coreBase+"/connections", size); !slices.Equal(got, conns) {
			t.Errorf("page_size %d: connections %v, want %v", size, got, conns)
		}
		if got := pageREST(coreBase+"/connections?customer_id=cust-b", size); !slices.Equal(got, custB) {
			t.Errorf("page_size %d: cust-b's connections %v, want %v", size, got, custB)
		}
	}
	// Without page_size: everything (up to 100) on one page.
	all := a.do(t, "GET", coreBase+"/connections", h, nil)
	if len(arr(all.body["items"])) != len(conns) || all.body["next_cursor"] != "" || all.body["has_next_page"] != false {
		t.Errorf("unpaged call = %s", all.raw)
	}

	// Bad input: 400s naming the field.
	first := a.do(t, "GET", coreBase+"/connections?page_size=1", h, nil)
	cursor := url.QueryEscape(str(first.body["next_cursor"]))
	for _, tc := range []struct{ path, field string }{
		{coreBase + "/connections?customer_id=cust-b&cursor=" + cursor, "cursor"},
		{coreBase + "/connector_configs?cursor=" + cursor, "cursor"},
		{coreBase + "/connections?cursor=not-a-cursor", "cursor"},
		{coreBase + "/connections?page_size=-1", "page_size"},
	} {
		r := a.do(t, "GET", tc.path, h, nil)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), `"field":"`+tc.field+`"`) {
			t.Errorf("GET %s: %d %s, want 400 naming %s", tc.path, r.status, r.raw, tc.field)
		}
	}

	// gRPC: the same pages.
	ctx := metadata.AppendToOutgoingContext(t.Context(), auth.HeaderAPIKey, tn.key)
	var ids []string
	req := &corev1.ListConnectionsRequest{PageSize: 2}
	for range 10 {
		resp, err := a.core.ListConnections(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range resp.GetItems() {
			ids = append(ids, c.GetId())
		}
		if resp.GetNextCursor() == "" {
			break
		}
		req.Cursor = resp.GetNextCursor()
	}
	if !slices.Equal(ids, conns) {
		t.Errorf("gRPC pages: %v, want %v", ids, conns)
	}

	// The admin organisation list pages the same way.
	var orgs []string
	for i := range 3 {
		orgs = append(orgs, a.createOrg(t, "paged org "+strconv.Itoa(i)+" "+randHex(4)))
	}
	var listed []string
	cur := ""
	for range 20 {
		r := a.admin(t, "GET", adminBase+"/organisations?page_size=2&cursor="+url.QueryEscape(cur), nil)
		for _, it := range arr(r.body["items"]) {
			listed = append(listed, str(obj(it)["id"]))
		}
		if cur = str(r.body["next_cursor"]); cur == "" {
			break
		}
	}
	// tn's organisation first (created by the test's API key), then these.
	if len(listed) != 4 || !slices.Equal(listed[1:], orgs) {
		t.Errorf("organisations %v, want one then %v", listed, orgs)
	}
}
