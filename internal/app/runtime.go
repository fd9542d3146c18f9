package app

import (
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
)

// gcPercentUnderLimit is the GC target used when a memory limit is in
// effect and GOGC is not set: the collector then runs rarely while the heap
// is far from the limit (less CPU per call: the gateway allocates per call
// and keeps little) and as often as needed near it.
const gcPercentUnderLimit = 400

// memoryLimitShare is the part of a container's memory limit given to the
// Go heap when GOMEMLIMIT is not set (the rest: stacks, runtime, buffers).
const memoryLimitShare = 0.9

// TuneRuntime sets the garbage collector for a server process: with no
// GOMEMLIMIT it uses 90% of the container's memory limit (cgroup v2
// memory.max or v1 memory.limit_in_bytes) as the soft memory limit; with a
// limit in effect and no GOGC it sets GOGC=400. With no limit at all and no
// GOGC, it keeps the collector's heap goal at least heapFloor bytes (see
// startHeapFloor; 0 leaves Go's default). Explicit GOGC / GOMEMLIMIT always
// win. readFile is os.ReadFile (tests pass their own). The returned stop
// ends the heap floor (a no-op when none was started).
func TuneRuntime(getenv func(string) string, readFile func(string) ([]byte, error), heapFloor int64, log *slog.Logger) (stop func()) {
	limit := int64(math.MaxInt64)
	source := ""
	switch {
	case getenv("GOMEMLIMIT") != "":
		limit, source = debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	default:
		if c := cgroupMemoryLimit(readFile); c > 0 {
			limit, source = int64(float64(c)*memoryLimitShare), "90% of the container memory limit"
			debug.SetMemoryLimit(limit)
		}
	}
	gogc := getenv("GOGC")
	if limit == math.MaxInt64 {
		if gogc != "" || heapFloor <= 0 {
			log.Info("runtime: no memory limit (set GOMEMLIMIT or run in a container with one)", "gogc", cmpOr(gogc, "100"))
			return func() {}
		}
		log.Info("runtime: no memory limit (set GOMEMLIMIT or run in a container with one); GC heap floor", "heap_floor_bytes", heapFloor)
		return startHeapFloor(uint64(heapFloor))
	}
	if gogc == "" {
		debug.SetGCPercent(gcPercentUnderLimit)
		gogc = strconv.Itoa(gcPercentUnderLimit)
	}
	log.Info("runtime: soft memory limit", "bytes", limit, "source", source, "gogc", gogc)
	return func() {}
}

// maxFloorGCPercent bounds the GOGC the heap floor sets (a nearly empty
// heap would otherwise ask for an unbounded percentage).
const maxFloorGCPercent = 1000

// gcPercentForFloor is the GOGC that puts the heap goal (about live ×
// (1 + GOGC/100)) at floor bytes: never below Go's default 100 (a large
// live heap keeps the usual doubling), never above maxFloorGCPercent.
func gcPercentForFloor(live, floor uint64) int {
	if live == 0 || floor/live >= maxFloorGCPercent/100+1 {
		return maxFloorGCPercent
	}
	// floor/live < 11 here: the float product cannot overflow an int.
	p := int(float64(floor)/float64(live)*100) - 100
	return min(max(p, 100), maxFloorGCPercent)
}

// heapFloor re-tunes GOGC after every collection from the live heap it
// measured, so the next goal is max(2 × live, floor). A gateway's live heap
// is small (tens of MB) while it allocates per call at a high rate; with
// Go's default the collector then runs many times a second for little
// memory saved. The floor bounds the memory this costs and, unlike a
// memory limit, never makes the collector run harder as the live heap
// grows: above floor/2 it is Go's default.
type heapFloor struct {
	floor uint64
	prev  int // GOGC before the floor started, restored by stop

	mu      sync.Mutex
	percent int // last set
	stopped bool
	live    []metrics.Sample
}

// gcSentinel is garbage as soon as it is made; its finalizer runs once
// after each collection and re-arms itself.
type gcSentinel struct{ h *heapFloor }

func startHeapFloor(floor uint64) (stop func()) {
	h := &heapFloor{floor: floor, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	h.prev = debug.SetGCPercent(100)
	h.percent = 100
	h.retune()
	runtime.SetFinalizer(&gcSentinel{h: h}, (*gcSentinel).collected)
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if !h.stopped {
			h.stopped = true
			debug.SetGCPercent(h.prev)
		}
	}
}

func (s *gcSentinel) collected() {
	if s.h.retune() {
		runtime.SetFinalizer(s, (*gcSentinel).collected)
	}
}

// retune sets GOGC from the live heap; false once stopped.
func (h *heapFloor) retune() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	metrics.Read(h.live)
	if h.live[0].Value.Kind() != metrics.KindUint64 {
		return true
	}
	if p := gcPercentForFloor(h.live[0].Value.Uint64(), h.floor); p != h.percent {
		debug.SetGCPercent(p)
		h.percent = p
	}
	return true
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cgroupMemoryLimit returns the process's cgroup memory limit in bytes, or
// 0 when there is none (or it cannot be read).
func cgroupMemoryLimit(readFile func(string) ([]byte, error)) int64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := readFile(f)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(b))
		if v == "max" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		// cgroup v1 reports "no limit" as a huge number (page-rounded MaxInt64).
		if err != nil || n <= 0 || n >= 1<<60 {
			return 0
		}
		return n
	}
	return 0
}
