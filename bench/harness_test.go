package bench

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// raceEnabled is set by race_test.go under -race: the gateway is then built
// with -race too, so it reuses the packages the e2e tests compiled.
var raceEnabled bool

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestQuick runs the whole harness with tiny loads, so CI proves it still
// works: build, lean upstream, proxy, gateway process, REST set-up, every
// phase, and the report.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway; skipped with -short")
	}
	o := QuickOptions()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	o.ModuleDir = root
	o.Log = testLog{t}
	if raceEnabled {
		o.BuildFlags = []string{"-race"}
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH (CI must run the Redis phase)")
		}
		t.Log("redis-server not on PATH: skipping the Redis phase")
		o.SkipRedis = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("quick run took %v (build %v)", time.Since(start).Round(time.Millisecond), res.BuildTook.Round(time.Millisecond))

	for k, c := range res.Cells {
		if c.Issued+c.Unsent == 0 {
			t.Errorf("%v via %v at %v: no calls made", k.Op, k.Target, k.Mode)
		}
		if c.Errors > 0 {
			t.Errorf("%v via %v at %v: %d errors, first: %s", k.Op, k.Target, k.Mode, c.Errors, c.FirstErr)
		}
	}
	for _, e := range res.Economy {
		want := map[Op]string{OpGetRecord: RouteGet, OpCreateRecord: RouteCreate, OpList100: RouteSearch}[e.Op]
		if want != "" && math.Abs(e.PerRoute[want]-1) > 0.01 {
			t.Errorf("%v via %v: %v GHL calls per call to %s, want 1", e.Op, e.Target, e.PerRoute[want], want)
		}
		if e.SchemaFetch != 0 && e.Target != TProxy {
			t.Errorf("%v via %v: %d schema calls with a warm cache", e.Op, e.Target, e.SchemaFetch)
		}
	}
	if len(res.Walks) != 3 {
		t.Errorf("want 3 walks (REST and gRPC pages, gRPC stream), got %d", len(res.Walks))
	}
	for _, w := range res.Walks {
		if !w.OK {
			t.Errorf("walk via %s: %s", w.Via(), w.Problem)
		}
	}
	if m := res.Memory; m == nil || len(m.Rows) != 6 {
		t.Errorf("memory phase: %+v", m)
	}
	if !o.SkipRedis && len(res.Redis) != 2*len(Ops) {
		t.Errorf("redis phase: %d rows (%s)", len(res.Redis), res.RedisNote)
	}
	if g := res.Growth; g == nil || g.Connections != o.Connections || g.SchemaFetch != int64(o.Connections) || len(g.Cells) == 0 {
		t.Errorf("growth phase: %+v", g)
	}
	var md bytes.Buffer
	res.Markdown(&md, "go test ./bench")
	res.Summary(&md)
	for _, want := range []string{"Throughput at saturation", "Upstream economy", "Listing 1000 records", "Growth: 20 connections"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md.String())
	}
}

// TestCellDuration: fixed-rate cells last long enough for MinCalls calls;
// saturation cells and fast rates keep Duration.
func TestCellDuration(t *testing.T) {
	o := DefaultOptions()
	for _, tc := range []struct {
		mode     Mode
		minCalls int
		want     time.Duration
	}{
		{Mode{}, 4000, 5 * time.Second},
		{Mode{Rate: 200}, 4000, 20 * time.Second},
		{Mode{Rate: 1000}, 4000, 5 * time.Second},
		{Mode{Rate: 200}, 0, 5 * time.Second},
		{Mode{Rate: 100}, 4000, 40 * time.Second},
	} {
		o.MinCalls = tc.minCalls
		if got := o.CellDuration(tc.mode); got != tc.want {
			t.Errorf("CellDuration(%v) with MinCalls %d = %v, want %v", tc.mode, tc.minCalls, got, tc.want)
		}
	}
}
