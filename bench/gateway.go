package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles a main package of the module rooted at moduleDir (the
// gateway, the bench's pprof-enabled twin of it, or the bare proxy) into
// dir/name, and returns the binary's path.
func Build(ctx context.Context, moduleDir, pkg, dir, name string, flags ...string) (string, error) {
	out := filepath.Join(dir, name)
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...) //nolint:gosec // go build of this module
	cmd.Dir = moduleDir
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// GatewayOptions configures one gateway process.
type GatewayOptions struct {
	Binary   string
	DataDir  string // GATEWAY_DATA_DIR (SQLite and the key file live here)
	APIKey   string // GATEWAY_BOOTSTRAP_API_KEY
	RedisURL string // GATEWAY_REDIS_URL; empty: the in-process cache
	LogLevel string // GATEWAY_LOG_LEVEL
	LogFile  string // where its stderr goes
	Env      []string
}

// Gateway is a running crmgate process.
type Gateway struct {
	cmd      *exec.Cmd
	log      *os.File
	exited   chan struct{} // closed when the process has exited
	exitErr  error         // its exit status, once exited is closed
	stopOnce sync.Once
	HTTPURL  string
	GRPCAddr string
	PprofURL string // set when the binary serves pprof (BENCH_PPROF_ADDR)
	APIKey   string
}

// Pid is the process id.
func (g *Gateway) Pid() int { return g.cmd.Process.Pid }

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String(), nil
}

// errPortTaken: the gateway could not bind a port picked for it.
var errPortTaken = errors.New("a port picked for the gateway was taken before it bound it")

// StartGateway starts the gateway and waits until /healthz answers. Its
// ports are picked free just before it starts, so another process can
// take one in between (parallel tests do): a start that fails to bind is
// retried on new ports.
func StartGateway(ctx context.Context, o GatewayOptions) (*Gateway, error) {
	for attempt := 1; ; attempt++ {
		g, err := startGateway(ctx, o)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == 5 {
			return g, err
		}
	}
}

// startGateway is one attempt of StartGateway.
func startGateway(ctx context.Context, o GatewayOptions) (*Gateway, error) {
	httpAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	grpcAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	pprofAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(o.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	level := o.LogLevel
	if level == "" {
		level = "info"
	}
	cmd := exec.Command(o.Binary) //nolint:gosec // the binary this harness just built
	cmd.Env = append(os.Environ(),
		"GATEWAY_HTTP_ADDR="+httpAddr,
		"GATEWAY_GRPC_ADDR="+grpcAddr,
		"GATEWAY_DATA_DIR="+o.DataDir,
		"GATEWAY_BOOTSTRAP_API_KEY="+o.APIKey,
		"GATEWAY_REDIS_URL="+o.RedisURL,
		"GATEWAY_LOG_LEVEL="+level,
		"BENCH_PPROF_ADDR="+pprofAddr,
	)
	cmd.Env = append(cmd.Env, o.Env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	g := &Gateway{cmd: cmd, log: logf, exited: make(chan struct{}), HTTPURL: "http://" + httpAddr, GRPCAddr: grpcAddr, APIKey: o.APIKey}
	go func() { g.exitErr = cmd.Wait(); close(g.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-g.exited:
			err := g.exitErr
			logf.Close()
			tail, _ := os.ReadFile(o.LogFile)
			last := lastLines(tail, 20)
			if strings.Contains(last, "address already in use") {
				return nil, fmt.Errorf("%w: gateway exited during start-up: %w\n%s", errPortTaken, err, last)
			}
			return nil, fmt.Errorf("gateway exited during start-up: %w\n%s", err, last)
		case <-ctx.Done():
			g.Stop()
			return nil, ctx.Err()
		default:
		}
		resp, err := http.Get(g.HTTPURL + "/healthz") //nolint:gosec,noctx // loopback, short poll
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			g.Stop()
			return nil, errors.New("gateway did not become healthy within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The pprof twin serves pprof on BENCH_PPROF_ADDR; the real gateway ignores it.
	if resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/"); err == nil { //nolint:gosec,noctx // loopback
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		g.PprofURL = "http://" + pprofAddr
	}
	return g, nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Stop ends the gateway (SIGTERM, then SIGKILL after 10s) and waits for
// it. Stopping a stopped gateway does nothing.
func (g *Gateway) Stop() {
	if g == nil || g.cmd.Process == nil {
		return
	}
	g.stopOnce.Do(func() {
		terminate(g.cmd, g.exited, 10*time.Second)
		g.log.Close()
	})
}

// terminate sends cmd's process SIGTERM and waits until exited is closed,
// killing the process if it is still running after grace.
func terminate(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// randomKey returns a random API key for GATEWAY_BOOTSTRAP_API_KEY.
func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "cgk_bench_" + hex.EncodeToString(b)
}

// admin calls the gateway's REST API with the API key.
type admin struct {
	base, key string
	hc        *http.Client
}

func (a *admin) do(ctx context.Context, method, path, connID string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("x-apikey", a.key)
	if connID != "" {
		req.Header.Set("x-connection-id", connID)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// createConnectorConfig makes the organisation's GHL connector config with
// base_url pointing at the lean upstream.
func (a *admin) createConnectorConfig(ctx context.Context, baseURL string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := a.do(ctx, http.MethodPost, "/v0/core/connector_configs", "", map[string]any{
		"connector_name": "ghl", "config": map[string]string{"base_url": baseURL},
	}, &out)
	return out.ID, err
}

// connLocation and connToken are connection i's GHL location and token.
func connLocation(i int) string { return fmt.Sprintf("benchLoc%012d", i) }
func connToken(i int) string    { return fmt.Sprintf("pit-bench-%08d", i) }

// createConnection makes connection i.
func (a *admin) createConnection(ctx context.Context, cfgID string, i int) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := a.do(ctx, http.MethodPost, "/v0/core/connections", "", map[string]any{
		"connector_config_id": cfgID,
		"customer_id":         fmt.Sprintf("customer-%d", i),
		"settings":            map[string]string{"location_id": connLocation(i), "private_integration_token": connToken(i)},
	}, &out)
	return out.ID, err
}

// MetricSum returns the sum over labels of one metric of the gateway's
// /metrics (e.g. go_memstats_mallocs_total: heap allocations so far).
func MetricSum(ctx context.Context, httpURL, name string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, httpURL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var n float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("metrics line %q: %w", line, err)
		}
		n += v
	}
	return int64(n), nil
}
