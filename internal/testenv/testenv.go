// Package testenv finds the real servers (Redis, PostgreSQL) that tests talk
// to. Under CI=true a missing server fails the test; elsewhere the test is
// skipped with a message saying how to provide the server.
package testenv

import (
	"context"
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// Defaults match the services .ci/run starts.
const (
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// InCI reports whether CI=true is set.
func InCI() bool { return os.Getenv("CI") == "true" }

// RedisURL returns the Redis URL to test against (TEST_REDIS_URL or the
// default), after checking the server answers a TCP dial.
func RedisURL(t testing.TB) string {
	t.Helper()
	return require(t, "TEST_REDIS_URL", DefaultRedisURL, "Redis")
}

// PostgresURL returns the PostgreSQL URL to test against (TEST_DATABASE_URL
// or the default), after checking the server answers a TCP dial.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return require(t, "TEST_DATABASE_URL", DefaultPostgresURL, "PostgreSQL")
}

func require(t testing.TB, env, def, what string) string {
	t.Helper()
	raw := os.Getenv(env)
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s=%q is not a URL: %v", env, raw, err)
	}
	host := u.Host
	if u.Port() == "" {
		switch u.Scheme {
		case "redis", "rediss":
			host = net.JoinHostPort(u.Hostname(), "6379")
		default:
			host = net.JoinHostPort(u.Hostname(), "5432")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", host)
	if err != nil {
		if InCI() {
			t.Fatalf("%s is required under CI=true but %s is unreachable: %v", what, host, err)
		}
		t.Skipf("skipping: %s not reachable at %s (%v); start it or set %s", what, host, err, env)
	}
	_ = conn.Close()
	return raw
}
