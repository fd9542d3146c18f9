package app

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
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
	TuneRuntime(env(nil), cgroup, 64<<20, log)()
	if got := debug.SetMemoryLimit(-1); got != 900_000_000 {
		t.Fatalf("memory limit %d, want 90%% of the cgroup's", got)
	}
	if got := debug.SetGCPercent(100); got != gcPercentUnderLimit {
		t.Fatalf("GOGC %d, want %d under a limit", got, gcPercentUnderLimit)
	}

	// Explicit GOGC wins; no limit leaves the defaults alone.
	debug.SetMemoryLimit(math.MaxInt64)
	TuneRuntime(env(map[string]string{"GOGC": "150"}), cgroup, 64<<20, log)()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC changed to %d although GOGC is set", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	noCgroup := func(string) ([]byte, error) { return nil, errors.New("none") }
	TuneRuntime(env(nil), noCgroup, 0, log)()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("memory limit set to %d without a container limit", got)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC changed to %d without a memory limit and without a heap floor", got)
	}

	// No limit, no GOGC, a heap floor far above the live heap: the floor
	// raises GOGC after the next collection; stop restores it.
	debug.SetMemoryLimit(math.MaxInt64)
	stop := TuneRuntime(env(nil), noCgroup, 1<<40, log)
	waitGCPercent(t, maxFloorGCPercent)
	stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC %d after stop, want the previous 100", got)
	}
	// An explicit GOGC wins over the floor.
	TuneRuntime(env(map[string]string{"GOGC": "150"}), noCgroup, 1<<40, log)()
	runtime.GC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC changed to %d although GOGC is set", got)
	}
}

// waitGCPercent collects until the heap floor's finalizer (which runs
// after a collection, on the finalizer goroutine) has set GOGC to want.
func waitGCPercent(t *testing.T, want int) {
	t.Helper()
	got := 0
	for range 200 {
		runtime.GC()
		if got = debug.SetGCPercent(-1); got >= 0 {
			debug.SetGCPercent(got)
		}
		if got == want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("GOGC %d, want %d", got, want)
}

func TestGCPercentForFloor(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		name        string
		live, floor uint64
		want        int
	}{
		{"empty heap", 0, 64 * mib, maxFloorGCPercent},
		{"tiny heap: capped", 1 * mib, 64 * mib, maxFloorGCPercent},
		{"small heap: goal at the floor", 16 * mib, 64 * mib, 300},
		{"goal exactly the floor", 32 * mib, 64 * mib, 100},
		{"above half the floor: Go's default", 40 * mib, 64 * mib, 100},
		{"far above the floor", 1024 * mib, 64 * mib, 100},
		{"huge floor", 1, 1 << 62, maxFloorGCPercent},
		{"huge floor and heap", 1 << 60, 1 << 62, 300},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := gcPercentForFloor(c.live, c.floor); got != c.want {
				t.Fatalf("gcPercentForFloor(%d, %d) = %d, want %d", c.live, c.floor, got, c.want)
			}
		})
	}
}
