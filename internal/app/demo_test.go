package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/secrets"
)

// runDemo builds the demo gateway on dir as `gateway --demo` does (its
// own database under the data dir), checks that it serves the demo's pets
// with the printed key and connection, and closes it.
func runDemo(t *testing.T, env map[string]string, opts DemoOptions) Demo {
	t.Helper()
	cfg, err := ConfigFromEnv(mapEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.OwnDatabase = true
	a, d, err := BuildDemo(ctx, cfg, slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if want := "sqlite://" + filepath.Join(env["GATEWAY_DATA_DIR"], DemoDatabaseFile); a.Config.DatabaseURL != want {
		t.Errorf("database %s, want %s", a.Config.DatabaseURL, want)
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Server.Serve(ctx, gl, hl) }()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hl.Addr().String()+"/v0/unified/crm/custom_objects/pet?page_size=3", nil)
	req.Header.Set("x-apikey", d.APIKey)
	req.Header.Set("x-connection-id", d.ConnectionID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var page struct{ Items []json.RawMessage }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Items) != 3 {
		t.Errorf("list pets with the demo key and connection: %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	return d
}

// TestDemoPersists: a second --demo run on the same data dir prints the
// same API key and connection; --demo-reset, an unreadable database and a
// changed encryption key each start afresh and say so.
func TestDemoPersists(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GATEWAY_DATA_DIR": dir}

	first := runDemo(t, env, DemoOptions{})
	if first.Reused || first.Reset != "" || !strings.HasPrefix(first.APIKey, "cgk_") || first.ConnectionID == "" {
		t.Fatalf("first run: %+v", first)
	}
	second := runDemo(t, env, DemoOptions{})
	if !second.Reused || second.Reset != "" || second.APIKey != first.APIKey || second.ConnectionID != first.ConnectionID {
		t.Fatalf("second run: %+v, want the key and connection of %+v", second, first)
	}

	// The key file is the owner's alone and holds no plaintext key.
	keyFile := filepath.Join(dir, DemoKeyFile)
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", keyFile, fi.Mode().Perm())
	}
	if data, _ := os.ReadFile(keyFile); strings.Contains(string(data), first.APIKey) || strings.Contains(string(data), first.APIKey[4:]) {
		t.Errorf("%s holds the plaintext key", keyFile)
	}

	// The key file lost: the connection is kept, a new key is made, and
	// the output says why.
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	third := runDemo(t, env, DemoOptions{})
	if third.ConnectionID != first.ConnectionID || third.APIKey == first.APIKey || !strings.Contains(third.Reset, "a new demo API key was made") {
		t.Errorf("without the key file: %+v", third)
	}
	fourth := runDemo(t, env, DemoOptions{})
	if !fourth.Reused || fourth.APIKey != third.APIKey {
		t.Errorf("after a new key: %+v, want key %s reused", fourth, third.APIKey)
	}

	// --demo-reset.
	reset := runDemo(t, env, DemoOptions{Reset: true})
	if reset.Reused || !strings.Contains(reset.Reset, "--demo-reset") || reset.APIKey == third.APIKey || reset.ConnectionID == first.ConnectionID {
		t.Errorf("--demo-reset: %+v", reset)
	}

	// A database that is not SQLite.
	db := filepath.Join(dir, DemoDatabaseFile)
	for _, suffix := range []string{"-wal", "-shm"} {
		_ = os.Remove(db + suffix)
	}
	if err := os.WriteFile(db, []byte("this is not a database, it is a demo.db overwritten by mistake........................................................"), 0o600); err != nil {
		t.Fatal(err)
	}
	corrupt := runDemo(t, env, DemoOptions{})
	if corrupt.Reused || !strings.Contains(corrupt.Reset, "could not be reused") || corrupt.ConnectionID == reset.ConnectionID {
		t.Errorf("unreadable database: %+v", corrupt)
	}

	// Another encryption key: the stored connection's token cannot be
	// decrypted, so the demo data is made anew.
	env["GATEWAY_ENCRYPTION_KEY"] = secrets.GenerateKey()
	rekeyed := runDemo(t, env, DemoOptions{})
	if rekeyed.Reused || !strings.Contains(rekeyed.Reset, "could not be reused") || rekeyed.APIKey == corrupt.APIKey {
		t.Errorf("another encryption key: %+v", rekeyed)
	}
	again := runDemo(t, env, DemoOptions{})
	if !again.Reused || again.APIKey != rekeyed.APIKey || again.ConnectionID != rekeyed.ConnectionID {
		t.Errorf("after the reset: %+v, want %+v reused", again, rekeyed)
	}
}
