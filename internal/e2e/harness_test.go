// Package e2e holds crmgate's end-to-end tests: a whole gateway (store,
// cache, gRPC server and REST facade) runs in-process on loopback ports and
// talks to the GHL fake over HTTP, and the tests drive it through both its
// REST and its gRPC API (client_test.go: one client, two transports).
//
//	go test -race ./internal/e2e/                      everything
//	go test -race -short ./internal/e2e/               without the 10,000-record listing
//	go test ./internal/e2e/ -run TestGolden -args -update   rewrite testdata/*.golden.json
//
// PostgreSQL and Redis tests use the servers of internal/testenv (skipped
// when absent, failed under CI=true). Every REST and gRPC answer is checked
// for 5xx codes and for the secrets the test registered (API keys, tokens,
// client secrets), and the gateway's log is checked for them when it stops;
// TestMain fails the run if a gateway, fake or client goroutine outlives
// the tests.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestMain(m *testing.M) {
	code := m.Run()
	if err := checkLeaks(10 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// leakMarkers pick the goroutines a finished gateway, fake or client must
// not leave behind.
var leakMarkers = []string{
	"crmgate/crmgate/internal/",
	"google.golang.org/grpc",
	"net/http.(*Server)",
	"net/http.(*conn)",
	"net/http.(*persistConn)",
	"net/http/httptest",
	"database/sql.(*DB)",
	"github.com/redis/go-redis",
	"github.com/jackc/pgx",
}

// checkLeaks waits up to d for the goroutines of gateways and fakes to end.
func checkLeaks(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		leaked := leakedGoroutines()
		if len(leaked) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("e2e: %d goroutine(s) left running after the tests:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func leakedGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "e2e.leakedGoroutines") || strings.Contains(g, "testing.(*M)") {
			continue
		}
		for _, m := range leakMarkers {
			if strings.Contains(g, m) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Random values

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)[:n]
}

// ---------------------------------------------------------------------------
// GHL fake

// fakeGHL is a GHL fake served on a loopback port.
type fakeGHL struct {
	*ghlfake.Server
	URL string
}

// newFake starts a GHL fake without rate limits (opts may set them).
func newFake(t testing.TB, opts ...ghlfake.Options) *fakeGHL {
	t.Helper()
	o := ghlfake.Options{BurstLimit: -1, DailyLimit: -1}
	if len(opts) > 0 {
		o = opts[0]
	}
	f := ghlfake.New(o)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &fakeGHL{Server: f, URL: srv.URL}
}

// Route names of the fake (ghlfake.Server.RequestCount).
const (
	routeListObjects  = "GET /objects/"
	routeGetObject    = "GET /objects/{key}"
	routeListFields   = "GET /custom-fields/object-key/{objectKey}"
	routeCreateRecord = "POST /objects/{schemaKey}/records"
	routeUpdateRecord = "PUT /objects/{schemaKey}/records/{id}"
	routeSearch       = "POST /objects/{schemaKey}/records/search"
)

// schemaRoutes are the fake's routes that read object schemas.
var schemaRoutes = []string{routeListObjects, routeGetObject, routeListFields, "GET /custom-fields/{id}"}

func (f *fakeGHL) schemaCalls() int {
	n := 0
	for _, r := range schemaRoutes {
		n += f.RequestCount(r)
	}
	return n
}

// ---------------------------------------------------------------------------
// Gateway

// gwOptions configures newGateway.
type gwOptions struct {
	// postgres stores in a fresh schema of the test PostgreSQL database
	// instead of SQLite.
	postgres bool
	// redis caches schemas in the test Redis (with the in-process fallback).
	redis bool
	// maxBodyBytes is GATEWAY_MAX_BODY_BYTES; 0 means the default (4 MiB).
	maxBodyBytes int64
	// databaseURL and encryptionKey, when set, make the gateway share the
	// store of another one (a second replica).
	databaseURL   string
	encryptionKey string
	// env sets further GATEWAY_* variables (e.g. rate limits).
	env map[string]string
	// build adds app.Build options (e.g. a tracing span recorder).
	build []app.Option
}

// gateway is a running gateway with REST and gRPC clients.
type gateway struct {
	app      *app.App
	cfg      app.Config
	httpURL  string
	grpcAddr string
	conn     *grpc.ClientConn
	crm      crmv1.CrmServiceClient
	core     corev1.CoreServiceClient
	hc       *http.Client
	logs     *syncBuffer
	pgSchema string // the PostgreSQL schema, when postgres

	mu      sync.Mutex
	secrets map[string]string // secret value -> what it is
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer = testenv.LogBuffer

// newGateway builds and starts a gateway on 127.0.0.1:0 ports; it stops
// when the test ends. Its log (JSON, debug level) is kept in g.logs and
// printed if the test fails.
func newGateway(t testing.TB, o gwOptions) *gateway {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	// The configuration comes from ConfigFromEnv, as in production, so
	// every setting the tests do not name keeps its production default.
	env := map[string]string{
		"GATEWAY_GRPC_ADDR":      "127.0.0.1:0",
		"GATEWAY_HTTP_ADDR":      "127.0.0.1:0",
		"GATEWAY_DATA_DIR":       dir,
		"GATEWAY_DATABASE_URL":   o.databaseURL,
		"GATEWAY_ENCRYPTION_KEY": o.encryptionKey,
		"GATEWAY_LOG_LEVEL":      "debug",
	}
	if env["GATEWAY_ENCRYPTION_KEY"] == "" {
		env["GATEWAY_ENCRYPTION_KEY"] = secrets.GenerateKey()
	}
	if o.maxBodyBytes > 0 {
		env["GATEWAY_MAX_BODY_BYTES"] = strconv.FormatInt(o.maxBodyBytes, 10)
	}
	pgSchema := ""
	if env["GATEWAY_DATABASE_URL"] == "" && o.postgres {
		env["GATEWAY_DATABASE_URL"], pgSchema = postgresSchemaURL(t)
	}
	if o.redis {
		env["GATEWAY_REDIS_URL"] = testenv.RedisURL(t)
	}
	for k, v := range o.env {
		env[k] = v
	}
	cfg, err := app.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("gateway config: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Build(ctx, cfg, log, o.build...)
	if err != nil {
		cancel()
		t.Fatalf("app.Build: %v\n%s", err, logs)
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		a.Close()
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		_ = gl.Close()
		a.Close()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Server.Serve(ctx, gl, hl) }()

	conn, err := grpc.NewClient(gl.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		cancel()
		if serr := <-served; serr != nil {
			t.Logf("gateway Serve: %v", serr)
		}
		a.Close()
		t.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}
	g := &gateway{
		app:      a,
		cfg:      cfg,
		httpURL:  "http://" + hl.Addr().String(),
		grpcAddr: gl.Addr().String(),
		conn:     conn,
		crm:      crmv1.NewCrmServiceClient(conn),
		core:     corev1.NewCoreServiceClient(conn),
		hc:       &http.Client{Transport: tr, Timeout: 60 * time.Second},
		logs:     logs,
		pgSchema: pgSchema,
		secrets:  map[string]string{},
	}
	t.Cleanup(func() {
		_ = conn.Close()
		tr.CloseIdleConnections()
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("gateway Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("gateway did not stop within 30s")
		}
		a.Close()
		g.assertLogsClean(t)
		if t.Failed() {
			t.Logf("gateway log (tail):\n%s", tail(logs.String(), 60))
		}
	})
	return g
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// postgresSchemaURL creates a fresh schema e2e_<random> in the test
// database and returns a URL whose connections use it (search_path is sent
// by pgx as a startup parameter); the schema is dropped when the test ends.
func postgresSchemaURL(t testing.TB) (dbURL, schema string) {
	t.Helper()
	return testenv.PostgresSchemaURL(t, "e2e_")
}

// addSecret registers a value that must never appear in a response or in
// the gateway's log.
func (g *gateway) addSecret(value, what string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.secrets[value] = what
}

// leaks returns the secrets found in b.
func (g *gateway) leaks(b []byte) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for v, what := range g.secrets {
		if bytes.Contains(b, []byte(v)) {
			out = append(out, what)
		}
	}
	return out
}

func (g *gateway) assertLogsClean(t testing.TB) {
	t.Helper()
	if l := g.leaks([]byte(g.logs.String())); len(l) > 0 {
		t.Errorf("SECRET LEAK: the gateway log contains %v", l)
	}
}

// apiKey makes an API key for organisation org (created if new).
func (g *gateway) apiKey(t testing.TB, org string) string {
	t.Helper()
	key, _, err := auth.CreateKey(context.Background(), g.app.Store, org, "e2e")
	if err != nil {
		t.Fatalf("create api key: %v", err)
	}
	g.addSecret(key, "API key of "+org)
	return key
}

// ---------------------------------------------------------------------------
// Tenants: an organisation's key, connector config and connection

// tenant is an organisation with one GHL connection to a fake location.
type tenant struct {
	org          string
	key          string
	configID     string
	connID       string
	customerID   string
	location     string
	token        string
	clientSecret string
	fake         *fakeGHL
}

// newTenant makes an API key for org, a token for a new fake location
// seeded with the demo object pet and seed records (no pet when seed < 0),
// and, through the REST API, a ghl connector config pointing at the fake
// and a connection.
func (g *gateway) newTenant(t testing.TB, f *fakeGHL, org string, seed int) *tenant {
	t.Helper()
	tn := &tenant{
		org:          org,
		key:          g.apiKey(t, org),
		location:     "loc" + randHex(16),
		token:        "pit-" + randHex(32),
		clientSecret: "csecret-" + randHex(24),
		customerID:   "cust-" + randHex(6),
		fake:         f,
	}
	g.addSecret(tn.token, "private integration token of "+org)
	g.addSecret(tn.clientSecret, "client_secret of "+org)
	f.AddToken(tn.token, tn.location)
	if seed >= 0 {
		f.SeedDemo(tn.location, seed)
	}
	tn.configID = g.createConfig(t, tn.key, f.URL, tn.clientSecret)
	tn.connID = g.createConnection(t, tn.key, tn.configID, tn.customerID, tn.location, tn.token)
	return tn
}

// createConfig creates a ghl connector config through REST.
func (g *gateway) createConfig(t testing.TB, key, baseURL, clientSecret string) string {
	t.Helper()
	cfg := map[string]any{"base_url": baseURL}
	if clientSecret != "" {
		cfg["client_id"] = "client-" + randHex(6)
		cfg["client_secret"] = clientSecret
		g.addSecret(clientSecret, "client_secret")
	}
	r := g.do(t, "POST", "/v0/core/connector_configs", hdr(key, ""), map[string]any{"connector_name": "ghl", "config": cfg})
	if r.status != http.StatusOK {
		t.Fatalf("create connector config: %d %s", r.status, r.raw)
	}
	return str(r.body["id"])
}

// createConnection creates a ghl connection through REST.
func (g *gateway) createConnection(t testing.TB, key, configID, customer, location, token string) string {
	t.Helper()
	g.addSecret(token, "private integration token")
	r := g.do(t, "POST", "/v0/core/connections", hdr(key, ""), map[string]any{
		"connector_config_id": configID,
		"customer_id":         customer,
		"settings":            map[string]any{"location_id": location, "private_integration_token": token},
	})
	if r.status != http.StatusOK {
		t.Fatalf("create connection: %d %s", r.status, r.raw)
	}
	return str(r.body["id"])
}

// env is the common fixture: a gateway, a fake and one tenant whose
// location has the pet object with seed records.
type env struct {
	g  *gateway
	f  *fakeGHL
	tn *tenant
}

func newEnv(t testing.TB, o gwOptions, seed int) *env {
	t.Helper()
	f := newFake(t)
	g := newGateway(t, o)
	tn := g.newTenant(t, f, "org-"+randHex(6), seed)
	return &env{g: g, f: f, tn: tn}
}

// ---------------------------------------------------------------------------
// Raw REST

// response is one REST answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any // the decoded JSON object, nil if not an object
}

func hdr(key, conn string) map[string]string {
	h := map[string]string{}
	if key != "" {
		h["x-apikey"] = key
	}
	if conn != "" {
		h["x-connection-id"] = conn
	}
	return h
}

// rawBody is a request body sent as it is.
type rawBody []byte

// chunked is a request body sent without Content-Length.
type chunked []byte

// do sends a REST request and fails the test on any 5xx answer, on an
// error answer that is not crmgate's JSON error body, and on a secret in
// the answer. body is nil (none), rawBody, chunked, or a value sent as JSON.
func (g *gateway) do(t testing.TB, method, path string, headers map[string]string, body any) response {
	t.Helper()
	r := g.doAllow5xx(t, method, path, headers, body)
	if r.status >= 500 {
		t.Errorf("%s %s answered %d (no 5xx is acceptable): %s", method, path, r.status, r.raw)
	}
	return r
}

// doAllow5xx is do without the 5xx check.
func (g *gateway) doAllow5xx(t testing.TB, method, path string, headers map[string]string, body any) response {
	t.Helper()
	var rd io.Reader
	length := int64(-1)
	switch b := body.(type) {
	case nil:
	case rawBody:
		rd, length = bytes.NewReader(b), int64(len(b))
	case chunked:
		rd = io.MultiReader(bytes.NewReader(b)) // hides the length: sent chunked
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal request body: %v", err)
		}
		rd, length = bytes.NewReader(j), int64(len(j))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, g.httpURL+path, rd)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if length >= 0 {
		req.ContentLength = length
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := g.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	if l := g.leaks(raw); len(l) > 0 {
		t.Errorf("SECRET LEAK: %s %s answered a body containing %v", method, path, l)
	}
	// A passthrough answer marked as the provider's is the provider's own
	// body, whatever its status; every other error is crmgate's.
	if resp.StatusCode >= 400 && strings.HasPrefix(path, "/v0/") && resp.Header.Get("X-Crmgate-Origin") != "provider" {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: error answer has Content-Type %q, want application/json", method, path, ct)
		}
		checkErrorBody(t, method+" "+path, out)
	}
	return out
}

// checkErrorBody checks an error answer is crmgate's error body.
func checkErrorBody(t testing.TB, what string, r response) {
	t.Helper()
	if r.body == nil {
		t.Errorf("%s: error answer %d is not a JSON object: %q", what, r.status, r.raw)
		return
	}
	if str(r.body["code"]) == "" || str(r.body["message"]) == "" {
		t.Errorf("%s: error body lacks code or message: %s", what, r.raw)
	}
	d, ok := r.body["details"].(map[string]any)
	if !ok {
		t.Errorf("%s: error body lacks details: %s", what, r.raw)
		return
	}
	if o := str(d["origin"]); o != "gateway" && o != "provider" {
		t.Errorf("%s: details.origin = %q, want gateway or provider: %s", what, o, r.raw)
	}
}

// ---------------------------------------------------------------------------
// Small JSON helpers

func str(v any) string {
	s, _ := v.(string)
	return s
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func arr(v any) []any {
	a, _ := v.([]any)
	return a
}

// at follows a path of object keys.
func at(v any, path ...string) any {
	for _, p := range path {
		v = obj(v)[p]
	}
	return v
}
