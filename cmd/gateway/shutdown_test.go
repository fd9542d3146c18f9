package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/testenv"
)

// runMainEnv makes the test binary run the gateway's main instead of the
// tests, so a test can start the real command as its own process.
const runMainEnv = "CRMGATE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main() // exits 1 on error
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// gatewayProcess is the gateway running as a child process.
type gatewayProcess struct {
	cmd      *exec.Cmd
	logs     *testenv.LogBuffer
	httpURL  string
	grpcAddr string
}

// startGatewayProcess starts `gateway serve` with env (plus loopback
// ports) and waits for its "serving" log line.
func startGatewayProcess(t *testing.T, env map[string]string) *gatewayProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve") //nolint:gosec // the test binary itself
	cmd.Env = []string{runMainEnv + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"GATEWAY_GRPC_ADDR=127.0.0.1:0", "GATEWAY_HTTP_ADDR=127.0.0.1:0"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g := &gatewayProcess{cmd: cmd, logs: &testenv.LogBuffer{}}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("gateway logs:\n%s", g.logs)
		}
	})
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = g.logs.Write(append(append([]byte{}, line...), '\n'))
			var l struct{ Msg, GRPC, HTTP string }
			if json.Unmarshal(line, &l) == nil && l.Msg == "serving" {
				addrs <- [2]string{l.GRPC, l.HTTP}
			}
		}
	}()
	select {
	case a := <-addrs:
		g.grpcAddr, g.httpURL = a[0], "http://"+a[1]
	case <-time.After(60 * time.Second):
		t.Fatalf("the gateway did not start serving:\n%s", g.logs)
	}
	return g
}

type restAnswer struct {
	status int
	body   map[string]any
	raw    string
}

func rest(t *testing.T, method, url, apiKey, connID, body string) restAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-apikey", apiKey)
	if connID != "" {
		req.Header.Set("x-connection-id", connID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return restAnswer{status: -1, raw: err.Error()}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := restAnswer{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// TestSIGTERMDrainsInFlightCalls runs the gateway as a real process: a
// call is in flight at a slow GHL when SIGTERM arrives; readiness goes
// false at once (/readyz 503, gRPC health NOT_SERVING) while the call is
// still running, the call completes successfully, and the process exits 0.
func TestSIGTERMDrainsInFlightCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a gateway process")
	}
	const loc, token = "shutdownLocation000001", "pit-shutdown-test-token"
	fake := ghlfake.New(ghlfake.Options{})
	fake.AddToken(token, loc)
	fake.SeedDemo(loc, 5)
	ghl := httptest.NewServer(fake)
	defer ghl.Close()

	apiKey := "shutdown-test-bootstrap-key-0123"
	g := startGatewayProcess(t, map[string]string{
		"GATEWAY_DATA_DIR":          t.TempDir(),
		"GATEWAY_ENCRYPTION_KEY":    secrets.GenerateKey(),
		"GATEWAY_BOOTSTRAP_API_KEY": apiKey,
		"GATEWAY_SHUTDOWN_DELAY":    "3s",
		"GATEWAY_SHUTDOWN_GRACE":    "30s",
	})
	if a := rest(t, "GET", g.httpURL+"/readyz", "", "", ""); a.status != 200 {
		t.Fatalf("/readyz before shutdown: %d %s", a.status, a.raw)
	}
	cc := rest(t, "POST", g.httpURL+"/v0/core/connector_configs", apiKey, "", fmt.Sprintf(`{"connector_name":"ghl","config":{"base_url":%q}}`, ghl.URL))
	if cc.status != 200 {
		t.Fatalf("create connector config: %d %s", cc.status, cc.raw)
	}
	conn := rest(t, "POST", g.httpURL+"/v0/core/connections", apiKey, "",
		fmt.Sprintf(`{"connector_config_id":%q,"customer_id":"c1","settings":{"location_id":%q,"private_integration_token":%q}}`, cc.body["id"], loc, token))
	if conn.status != 200 {
		t.Fatalf("create connection: %d %s", conn.status, conn.raw)
	}
	connID, _ := conn.body["id"].(string)
	listURL := g.httpURL + "/v0/unified/crm/custom_objects/pet?page_size=3"
	if a := rest(t, "GET", listURL, apiKey, connID, ""); a.status != 200 {
		t.Fatalf("warm-up list: %d %s", a.status, a.raw)
	}

	gc, err := grpc.NewClient(g.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = gc.Close() }()
	health := healthpb.NewHealthClient(gc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if hr, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("gRPC health before shutdown: %v %v", hr, err)
	}

	// Every GHL answer now takes 4s: the next call is in flight for that long.
	fake.SetFaults(ghlfake.FaultConfig{RateSlow: 1, SlowDelay: 4 * time.Second, Seed: 1})
	var slow restAnswer
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		slow = rest(t, "GET", listURL, apiKey, connID, "")
	}()
	for fake.FaultCounts().Slow == 0 {
		time.Sleep(10 * time.Millisecond)
	}

	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var readyz restAnswer
	for {
		readyz = rest(t, "GET", g.httpURL+"/readyz", "", "", "")
		if readyz.status != 200 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if readyz.status != http.StatusServiceUnavailable || !strings.Contains(readyz.raw, "shutting down") {
		t.Errorf("/readyz after SIGTERM: %d %s", readyz.status, readyz.raw)
	}
	if hr, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("gRPC health after SIGTERM: %v %v", hr, err)
	}
	if a := rest(t, "GET", g.httpURL+"/healthz", "", "", ""); a.status != 200 {
		t.Errorf("/healthz (liveness) while draining: %d %s", a.status, a.raw)
	}
	select {
	case <-slowDone:
		t.Error("the slow call ended before readiness was checked; the test proves nothing")
	default:
	}

	<-slowDone
	if items, _ := slow.body["items"].([]any); slow.status != 200 || len(items) != 3 {
		t.Errorf("in-flight call across SIGTERM: %d %s", slow.status, slow.raw)
	}
	err = g.cmd.Wait()
	if err != nil {
		t.Errorf("gateway exit: %v (want exit status 0)", err)
	}
	logs := g.logs.String()
	for _, want := range []string{`"msg":"shutting down: not ready; draining in-flight calls"`, `"msg":"shut down"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	if bytes.Contains([]byte(logs), []byte(token)) || strings.Contains(logs, apiKey) {
		t.Error("a secret reached the logs")
	}
}
