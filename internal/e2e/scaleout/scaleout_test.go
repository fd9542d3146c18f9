// Package scaleout runs crmgate as it is deployed when one replica is not
// enough: three gateway processes (the real binary, built once) on their
// own ports, sharing one PostgreSQL schema and one Redis, in front of the
// GHL fake, with a client spreading calls across them. It checks that
// every replica serves every connection, that a schema write through one
// replica is seen by the others on their next call (schema caches
// invalidated through Redis), and that SIGKILLing a replica under load
// loses no acknowledged write.
//
// Needs PostgreSQL (testenv) and the redis-server binary; skipped without
// them, failed under CI=true.
package scaleout

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crmgate/crmgate/client"
	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/testenv"
)

const replicas = 3

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// buildGateway builds cmd/gateway into a temporary directory.
func buildGateway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gateway")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/crmgate/crmgate/cmd/gateway")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/gateway: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// replica is one gateway process.
type replica struct {
	n        int
	cmd      *exec.Cmd
	grpcAddr string
	httpAddr string
	logs     *testenv.LogBuffer
	done     chan struct{} // closed when the process exited
	killed   bool
	c        *client.Client
}

// startReplica starts the gateway binary with env plus its own ports.
func startReplica(t *testing.T, bin string, n int, env map[string]string) *replica {
	t.Helper()
	r := &replica{n: n, grpcAddr: freeAddr(t), httpAddr: freeAddr(t), logs: &testenv.LogBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(bin) //nolint:gosec // the binary this test built
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEWAY_") {
			r.cmd.Env = append(r.cmd.Env, kv)
		}
	}
	for k, v := range env {
		r.cmd.Env = append(r.cmd.Env, k+"="+v)
	}
	r.cmd.Env = append(r.cmd.Env, "GATEWAY_GRPC_ADDR="+r.grpcAddr, "GATEWAY_HTTP_ADDR="+r.httpAddr, "GATEWAY_DATA_DIR="+t.TempDir())
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start replica %d: %v", n, err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// waitReady polls /healthz until the replica answers 200.
func (r *replica) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + r.httpAddr + "/healthz") //nolint:noctx // short poll
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-r.done:
			t.Fatalf("replica %d exited during start-up:\n%s", r.n, r.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %d not ready after 20s (last: %v):\n%s", r.n, err, r.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill SIGKILLs the replica.
func (r *replica) kill() {
	r.killed = true
	_ = r.cmd.Process.Kill()
	<-r.done
}

// stop SIGTERMs a live replica and expects a clean exit.
func (r *replica) stop(t *testing.T) {
	if r.c != nil {
		_ = r.c.Close()
	}
	if r.killed {
		return
	}
	select {
	case <-r.done:
		t.Errorf("replica %d had exited on its own:\n%s", r.n, tail(r.logs.String(), 30))
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
		if code := r.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("replica %d exited %d after SIGTERM", r.n, code)
		}
	case <-time.After(15 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
		t.Errorf("replica %d did not stop within 15s of SIGTERM", r.n)
	}
	if t.Failed() {
		t.Logf("replica %d log (tail):\n%s", r.n, tail(r.logs.String(), 40))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// conn is a connection to one fake location.
type conn struct {
	id, location, token string
}

func callCtx(connID string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	return client.WithConnection(ctx, connID), cancel
}

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScaleOut(t *testing.T) {
	dbURL, _ := testenv.PostgresSchemaURL(t, "scaleout_")
	redis := testenv.StartRedis(t, 0)
	bin := buildGateway(t)

	fake := ghlfake.New(ghlfake.Options{BurstLimit: -1, DailyLimit: -1})
	fakeSrv := httptest.NewServer(fake)
	t.Cleanup(fakeSrv.Close)

	apiKey := "cgk_scaleout_" + randHex(24)
	env := map[string]string{
		"GATEWAY_DATABASE_URL":      dbURL,
		"GATEWAY_REDIS_URL":         redis.URL(),
		"GATEWAY_ENCRYPTION_KEY":    secrets.GenerateKey(),
		"GATEWAY_BOOTSTRAP_API_KEY": apiKey,
		"GATEWAY_RATE_LIMIT_BURST":  "1000000", // this test is not about pacing
		"GATEWAY_SHUTDOWN_GRACE":    "5s",
	}
	// All three start at once, as a Deployment's pods do (migrations and
	// the bootstrap key race on the shared database).
	reps := make([]*replica, replicas)
	for i := range reps {
		reps[i] = startReplica(t, bin, i, env)
	}
	for _, r := range reps {
		r.waitReady(t)
		c, err := client.Dial(r.grpcAddr, client.Options{APIKey: apiKey, Insecure: true,
			// One attempt: the test's client moves to the next replica itself.
			Retry: client.RetryPolicy{MaxAttempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		r.c = c
	}
	secretsToHide := []string{apiKey}

	// Set-up through replica 0: a connector config and two connections,
	// each to a fake location with 20 pets.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cfg, err := reps[0].c.Core.CreateConnectorConfig(ctx, &corev1.CreateConnectorConfigRequest{
		ConnectorName: "ghl", Config: mustStruct(t, map[string]any{"base_url": fakeSrv.URL}),
	})
	if err != nil {
		t.Fatalf("CreateConnectorConfig: %v", err)
	}
	var conns []conn
	for i := range 2 {
		cn := conn{location: "loc" + randHex(16), token: "pit-" + randHex(32)}
		fake.AddToken(cn.token, cn.location)
		fake.SeedDemo(cn.location, 20)
		secretsToHide = append(secretsToHide, cn.token)
		resp, err := reps[i%replicas].c.Core.CreateConnection(ctx, &corev1.CreateConnectionRequest{
			ConnectorConfigId: cfg.GetConnectorConfig().GetId(), CustomerId: fmt.Sprintf("customer-%d", i),
			Settings: mustStruct(t, map[string]any{"location_id": cn.location, "private_integration_token": cn.token}),
		})
		if err != nil {
			t.Fatalf("CreateConnection: %v", err)
		}
		cn.id = resp.GetConnection().GetId()
		conns = append(conns, cn)
	}
	t.Cleanup(func() {
		for _, r := range reps {
			for _, s := range secretsToHide {
				if strings.Contains(r.logs.String(), s) {
					t.Errorf("SECRET LEAK: replica %d logged a key or token", r.n)
				}
			}
		}
	})

	t.Run("every replica serves every connection", func(t *testing.T) {
		for _, r := range reps {
			for _, cn := range conns {
				ctx, cancel := callCtx(cn.id)
				pg, err := r.c.CRM.ListRecords(ctx, &crmv1.ListRecordsRequest{ObjectName: "pet"})
				if err != nil || len(pg.GetItems()) != 20 {
					t.Errorf("replica %d, %s: ListRecords %d items, %v", r.n, cn.id, len(pg.GetItems()), err)
				}
				// Warms the replica's schema cache for the next subtest.
				if _, err := r.c.CRM.ListProperties(ctx, &crmv1.ListPropertiesRequest{ObjectName: "pet"}); err != nil {
					t.Errorf("replica %d, %s: ListProperties: %v", r.n, cn.id, err)
				}
				cancel()
			}
		}
		// A record written through one replica is read through the others.
		ctx, cancel := callCtx(conns[1].id)
		defer cancel()
		rec, err := reps[2].c.CRM.CreateRecord(ctx, &crmv1.CreateRecordRequest{ObjectName: "pet",
			Record: &crmv1.RecordInput{Properties: mustStruct(t, map[string]any{"name": "Shared"})}})
		if err != nil {
			t.Fatalf("CreateRecord through replica 2: %v", err)
		}
		for _, r := range reps[:2] {
			if _, err := r.c.CRM.GetRecord(ctx, &crmv1.GetRecordRequest{ObjectName: "pet", Id: rec.GetRecord().GetId()}); err != nil {
				t.Errorf("replica %d: GetRecord of a record created through replica 2: %v", r.n, err)
			}
		}
	})

	t.Run("schema write seen by the other replicas on their next call", func(t *testing.T) {
		cn := conns[0]
		for w, writer := range reps {
			prop := fmt.Sprintf("color_%d", w)
			ctx, cancel := callCtx(cn.id)
			if _, err := writer.c.CRM.CreateProperty(ctx, &crmv1.CreatePropertyRequest{ObjectName: "pet",
				Property: &crmv1.Property{Id: prop, Label: "Color", Type: "text"}}); err != nil {
				cancel()
				t.Fatalf("CreateProperty through replica %d: %v", w, err)
			}
			for _, r := range reps {
				if r == writer {
					continue
				}
				// The first call after the write: a record using the new
				// property is validated against the replica's cached schema.
				_, err := r.c.CRM.CreateRecord(ctx, &crmv1.CreateRecordRequest{ObjectName: "pet",
					Record: &crmv1.RecordInput{Properties: mustStruct(t, map[string]any{"name": "Painted", prop: "red"})}})
				if err != nil {
					t.Errorf("replica %d, first call after replica %d created property %s: %v%s", r.n, w, prop, err, staleFor(r, cn.id, prop))
				}
				props, err := r.c.CRM.ListProperties(ctx, &crmv1.ListPropertiesRequest{ObjectName: "pet"})
				if err != nil || !hasProperty(props, prop) {
					t.Errorf("replica %d: ListProperties lacks %s created through replica %d (%v)", r.n, prop, w, err)
				}
			}
			cancel()
		}
	})

	t.Run("SIGKILL under load loses no acknowledged write", func(t *testing.T) {
		const workers, perWorker, killAfter = 6, 30, 60
		type ack struct{ conn, id string }
		var (
			mu       sync.Mutex
			acked    []ack
			attempts int
			failed   = map[int]int{} // replica -> failed calls
			badErrs  []string
			killOnce sync.Once
			wg       sync.WaitGroup
		)
		victim := reps[2]
		for w := range workers {
			wg.Go(func() {
				for i := range perWorker {
					mu.Lock()
					attempts++
					if attempts == killAfter {
						killOnce.Do(func() { go victim.kill() })
					}
					mu.Unlock()
					cn := conns[(w+i)%len(conns)]
					// The client spreads calls across the replicas; a call
					// to the dead one fails and the next goes elsewhere.
					r := reps[(w+i)%replicas]
					ctx, cancel := callCtx(cn.id)
					resp, err := r.c.CRM.CreateRecord(ctx, &crmv1.CreateRecordRequest{ObjectName: "pet",
						Record: &crmv1.RecordInput{Properties: mustStruct(t, map[string]any{"name": fmt.Sprintf("load %d-%d", w, i)})}})
					cancel()
					mu.Lock()
					if err == nil {
						acked = append(acked, ack{cn.location, resp.GetRecord().GetId()})
					} else {
						failed[r.n]++
						if r != victim || status.Code(err) != codes.Unavailable {
							badErrs = append(badErrs, fmt.Sprintf("replica %d: %v", r.n, err))
						}
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		<-victim.done
		if len(badErrs) > 0 {
			t.Errorf("%d calls failed other than UNAVAILABLE from the killed replica: %v", len(badErrs), badErrs)
		}
		if failed[victim.n] == 0 {
			t.Errorf("no call reached the killed replica after the kill: the kill was not mid-load")
		}
		t.Logf("%d creates acknowledged, %d failed on the killed replica", len(acked), failed[victim.n])
		if len(acked) < workers*perWorker*2/3-1 {
			t.Errorf("only %d of %d creates acknowledged", len(acked), workers*perWorker)
		}

		// Every acknowledged create is in the provider.
		tokens := map[string]string{}
		for _, cn := range conns {
			tokens[cn.location] = cn.token
		}
		missing := 0
		for _, a := range acked {
			if !fakeHasRecord(t, fakeSrv.URL, tokens[a.conn], a.conn, a.id) {
				missing++
				t.Errorf("acknowledged record %s (location %s) is not in GHL", a.id, a.conn)
			}
		}
		if missing == 0 {
			t.Logf("all %d acknowledged records found in the fake", len(acked))
		}
		// The survivors still serve both connections.
		for _, r := range reps[:2] {
			for _, cn := range conns {
				ctx, cancel := callCtx(cn.id)
				if _, err := r.c.CRM.ListRecords(ctx, &crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 1}); err != nil {
					t.Errorf("replica %d after the kill, %s: %v", r.n, cn.id, err)
				}
				cancel()
			}
		}
	})
}

func hasProperty(props *crmv1.ListPropertiesResponse, id string) bool {
	for _, p := range props.GetItems() {
		if p.GetId() == id {
			return true
		}
	}
	return false
}

// staleFor measures, for the failure message, how long replica r kept the
// stale schema (polling GetProperty for up to 5s).
func staleFor(r *replica, connID, prop string) string {
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		ctx, cancel := callCtx(connID)
		_, err := r.c.CRM.GetProperty(ctx, &crmv1.GetPropertyRequest{ObjectName: "pet", PropertyId: prop})
		cancel()
		if err == nil {
			return fmt.Sprintf(" (the property became visible on replica %d after a further %s)", r.n, time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Sprintf(" (still not visible on replica %d 5s later)", r.n)
}

// fakeHasRecord asks the GHL fake itself for a record.
func fakeHasRecord(t *testing.T, baseURL, token, location, id string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		baseURL+"/objects/custom_objects.pet/records/"+id+"?locationId="+location, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Version", "2021-07-28")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ask the fake for %s: %v", id, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		t.Fatalf("fake answered %d for record %s: %s", resp.StatusCode, id, body.String())
	}
	return resp.StatusCode == http.StatusOK && bytes.Contains(body.Bytes(), []byte(id))
}
