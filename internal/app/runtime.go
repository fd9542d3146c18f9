package app

import (
	"log/slog"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
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
// limit in effect and no GOGC it sets GOGC=400. Explicit GOGC / GOMEMLIMIT
// always win. readFile is os.ReadFile (tests pass their own).
func TuneRuntime(getenv func(string) string, readFile func(string) ([]byte, error), log *slog.Logger) {
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
		log.Info("runtime: no memory limit (set GOMEMLIMIT or run in a container with one)", "gogc", cmpOr(gogc, "100"))
		return
	}
	if gogc == "" {
		debug.SetGCPercent(gcPercentUnderLimit)
		gogc = strconv.Itoa(gcPercentUnderLimit)
	}
	log.Info("runtime: soft memory limit", "bytes", limit, "source", source, "gogc", gogc)
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
