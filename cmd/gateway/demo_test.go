package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoKeepsKeyAndConnection runs `gateway --demo` twice as a real
// process on the same data dir: the second run prints the same API key and
// connection id, and says it reuses them.
func TestDemoKeepsKeyAndConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("starts gateway processes")
	}
	dir := t.TempDir()
	type out struct{ key, conn, status string }
	demo := func(args ...string) out {
		t.Helper()
		cmd := exec.Command(os.Args[0], append([]string{"--demo"}, args...)...) //nolint:gosec // the test binary itself
		cmd.Env = []string{runMainEnv + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
			"GATEWAY_DATA_DIR=" + dir, "GATEWAY_GRPC_ADDR=127.0.0.1:0", "GATEWAY_HTTP_ADDR=127.0.0.1:0", "GATEWAY_LOG_LEVEL=warn"}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan out, 1)
		go func() {
			var o out
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line := strings.TrimSpace(sc.Text())
				switch {
				case strings.HasPrefix(line, "API key:"):
					o.key = strings.TrimSpace(strings.TrimPrefix(line, "API key:"))
				case strings.HasPrefix(line, "Connection id:"):
					o.conn = strings.TrimSpace(strings.TrimPrefix(line, "Connection id:"))
				case strings.HasPrefix(line, "New demo data"), strings.HasPrefix(line, "Reusing"), strings.HasPrefix(line, "Demo data reset"):
					o.status = line
					lines <- o
					_, _ = io.Copy(io.Discard, stdout) // until the process exits
					return
				}
			}
			lines <- o
		}()
		var o out
		select {
		case o = <-lines:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("the demo printed nothing")
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("demo exited with %v", err)
		}
		return o
	}
	first := demo()
	if !strings.HasPrefix(first.key, "cgk_") || !strings.HasPrefix(first.conn, "conn_ghl_") || !strings.HasPrefix(first.status, "New demo data") {
		t.Fatalf("first run printed %+v", first)
	}
	second := demo()
	if second.key != first.key || second.conn != first.conn || !strings.HasPrefix(second.status, "Reusing") {
		t.Errorf("second run printed %+v, want the key and connection of %+v", second, first)
	}
	reset := demo("--demo-reset")
	if reset.key == first.key || reset.conn == first.conn || !strings.HasPrefix(reset.status, "Demo data reset: --demo-reset") {
		t.Errorf("--demo-reset printed %+v", reset)
	}
}
