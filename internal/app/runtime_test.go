package app

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"
)

func TestCgroupMemoryLimit(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"cgroup v2 limit", map[string]string{"/sys/fs/cgroup/memory.max": "536870912\n"}, 536870912},
		{"cgroup v2 unlimited", map[string]string{"/sys/fs/cgroup/memory.max": "max\n"}, 0},
		{"cgroup v1 limit", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "268435456"}, 268435456},
		{"cgroup v1 unlimited", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712"}, 0},
		{"garbage", map[string]string{"/sys/fs/cgroup/memory.max": "lots"}, 0},
		{"no cgroup files", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			read := func(name string) ([]byte, error) {
				if v, ok := c.files[name]; ok {
					return []byte(v), nil
				}
				return nil, errors.New("no such file")
			}
			if got := cgroupMemoryLimit(read); got != c.want {
				t.Fatalf("got %d, want %d", got, c.want)
			}
		})
	}
}

func TestTuneRuntime(t *testing.T) {
	prevLimit, prevGC := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetMemoryLimit(prevLimit); debug.SetGCPercent(prevGC) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cgroup := func(string) ([]byte, error) { return []byte("1000000000"), nil }

	debug.SetMemoryLimit(math.MaxInt64)
	TuneRuntime(env(nil), cgroup, log)
	if got := debug.SetMemoryLimit(-1); got != 900_000_000 {
		t.Fatalf("memory limit %d, want 90%% of the cgroup's", got)
	}
	if got := debug.SetGCPercent(100); got != gcPercentUnderLimit {
		t.Fatalf("GOGC %d, want %d under a limit", got, gcPercentUnderLimit)
	}

	// Explicit GOGC wins; no limit leaves the defaults alone.
	debug.SetMemoryLimit(math.MaxInt64)
	TuneRuntime(env(map[string]string{"GOGC": "150"}), cgroup, log)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC changed to %d although GOGC is set", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	TuneRuntime(env(nil), func(string) ([]byte, error) { return nil, errors.New("none") }, log)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("memory limit set to %d without a container limit", got)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC changed to %d without a memory limit", got)
	}
}
