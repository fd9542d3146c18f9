package testenv

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// RedisServer is a redis-server of the test's own, on its own port, that the
// test can kill and restart (outage tests). It keeps nothing on disk.
type RedisServer struct {
	t    testing.TB
	Port int
	cmd  *exec.Cmd
}

// StartRedis starts redis-server on port (0: a free one). Without the
// redis-server binary the test is skipped, or fails under CI=true. The
// server is killed when the test ends.
func StartRedis(t testing.TB, port int) *RedisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if InCI() {
			t.Fatalf("redis-server is required under CI=true: %v", err)
		}
		t.Skipf("skipping: redis-server not installed (%v)", err)
	}
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
	}
	s := &RedisServer{t: t, Port: port}
	s.start()
	t.Cleanup(s.Kill)
	return s
}

func (s *RedisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", //nolint:gosec // fixed test binary
		"--save", "", "--appendonly", "no", "--dir", s.t.TempDir())
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not start: %v", s.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addr is host:port.
func (s *RedisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is the redis:// URL of database 0.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

// Kill stops the server abruptly (an outage).
func (s *RedisServer) Kill() {
	if s.cmd != nil && s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

// Restart starts the server again on the same port, empty.
func (s *RedisServer) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}
