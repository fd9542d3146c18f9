package bench

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Redis server the benchmark counts commands on: a private
// redis-server it started (so no one else's commands are counted), or one
// given by URL.
type Redis struct {
	URL    string
	cmd    *exec.Cmd
	client *redis.Client
}

// StartRedis starts a private redis-server (no persistence) on a free
// loopback port, or, if url is not empty, uses that server.
func StartRedis(ctx context.Context, url, dir string) (*Redis, error) {
	r := &Redis{URL: url}
	if url == "" {
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			return nil, errors.New("redis-server not found on PATH (install it, or pass -redis-url)")
		}
		addr, err := freePort()
		if err != nil {
			return nil, err
		}
		_, port, _ := strings.Cut(addr, ":")
		r.cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir) //nolint:gosec // redis-server from PATH
		r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		r.cmd.Stdout, r.cmd.Stderr = nil, nil
		if err := r.cmd.Start(); err != nil {
			return nil, err
		}
		r.URL = "redis://" + addr + "/0"
	}
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.client = redis.NewClient(opt)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := r.client.Ping(ctx).Err(); err == nil {
			return r, nil
		} else if time.Now().After(deadline) {
			r.Close()
			return nil, fmt.Errorf("redis at %s did not answer: %w", r.URL, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Close stops a private server.
func (r *Redis) Close() {
	if r.client != nil {
		_ = r.client.Close()
	}
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// Private reports whether this harness started the server (counts are
// exact) rather than sharing one (counts include other clients).
func (r *Redis) Private() bool { return r.cmd != nil }

// CommandCalls returns the calls per command from INFO commandstats.
func (r *Redis) CommandCalls(ctx context.Context) (map[string]int64, error) {
	s, err := r.client.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				out[strings.TrimPrefix(name, "cmdstat_")] = n
			}
		}
	}
	return out, nil
}

// FlushDB empties the database (a private server only).
func (r *Redis) FlushDB(ctx context.Context) error { return r.client.FlushDB(ctx).Err() }

// diffCommands returns after-before per command, leaving out the
// harness's own INFO calls.
func diffCommands(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if k == "info" {
			continue
		}
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// RoundTrips returns the gateway's count of Redis round trips (the sum of
// crmgate_redis_round_trips_total over commands, from its /metrics):
// commands a Lua script runs inside Redis are counted by INFO commandstats
// but are not round trips.
func RoundTrips(ctx context.Context, httpURL string) (int64, error) {
	return MetricSum(ctx, httpURL, "crmgate_redis_round_trips_total")
}
