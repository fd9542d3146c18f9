// Command crmbench measures what crmgate costs on top of the provider: it
// builds ./cmd/gateway, runs it as a separate process in front of a lean
// GHL upstream, and measures the same calls made directly, through a bare
// Go reverse proxy, through crmgate REST and through crmgate gRPC,
// interleaved in one run. See docs/benchmarks.md.
//
//	go run ./bench/cmd/crmbench                 # the full run (about 13 minutes on 2 CPUs)
//	go run ./bench/cmd/crmbench -quick          # a smoke test of the harness (seconds)
//	go run ./bench/cmd/crmbench -md out.md      # also write the Markdown report
//	go run ./bench/cmd/crmbench -profile prof/  # CPU/heap profiles of the gateway under load
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/crmgate/crmgate/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "crmbench:", err)
		os.Exit(1)
	}
}

func run() error {
	o := bench.DefaultOptions()
	quick := flag.Bool("quick", false, "smoke-test the harness with tiny loads (seconds)")
	var (
		duration   = flag.Duration("duration", 0, "measured time per (operation, target, load) cell (default 5s; quick 100ms)")
		minCalls   = flag.Int("min-calls", -1, "a fixed-rate cell lasts at least this many calls' worth of time, for a stable p99 (default 4000: 20s at 200 req/s; 0: -duration only)")
		rounds     = flag.Int("rounds", 0, "interleaved rounds each cell's time is split over (default 5)")
		workers    = flag.Int("workers", 0, "closed-loop workers for saturation (default 32)")
		ops        = flag.String("ops", "", "operations to measure, comma separated: get,create,list,schema (default all)")
		rates      = flag.String("rates", "", "open-loop rates in req/s, comma separated (default 200,1000)")
		walk       = flag.Int("walk", 0, "records to list page by page (default 100000)")
		conns      = flag.Int("connections", 0, "connections of the growth phase (default 10000)")
		growthTime = flag.Duration("growth-duration", 0, "measured time per growth cell (default 5s)")
		redisTime  = flag.Duration("redis-duration", 0, "measured time per Redis cell (default 3s)")
		md         = flag.String("md", "", "also write the Markdown report to this file")
		profile    = flag.String("profile", "", "only profile: build bench/cmd/crmgate-pprof and write CPU/heap profiles under load here")
		profTime   = flag.Duration("profile-duration", 0, "CPU profile length per (operation, protocol) (default 10s)")
	)
	flag.StringVar(&o.RedisURL, "redis-url", "", "use this Redis for the Redis phase instead of a private redis-server (counts then include other clients)")
	flag.BoolVar(&o.SkipRedis, "skip-redis", false, "skip the Redis phase")
	flag.BoolVar(&o.SkipGrowth, "skip-growth", false, "skip the 10,000-connection phase")
	flag.BoolVar(&o.SkipWalk, "skip-walk", false, "skip the list walk")
	flag.StringVar(&o.LogLevel, "gateway-log-level", o.LogLevel, "GATEWAY_LOG_LEVEL of the gateway under test")
	flag.Func("gateway-env", "extra KEY=VALUE environment of the gateway under test, e.g. GOMAXPROCS=1 (repeatable)", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("want KEY=VALUE, got %q", v)
		}
		o.GatewayEnv = append(o.GatewayEnv, v)
		return nil
	})
	flag.BoolVar(&o.KeepDir, "keep", false, "keep the temporary directory (gateway logs and data)")
	flag.Parse()
	if *quick {
		q := bench.QuickOptions()
		q.Ops, q.RedisURL, q.SkipRedis, q.SkipGrowth, q.SkipWalk, q.LogLevel, q.KeepDir, q.GatewayEnv = o.Ops, o.RedisURL, o.SkipRedis, o.SkipGrowth, o.SkipWalk, o.LogLevel, o.KeepDir, o.GatewayEnv
		o = q
	}
	setDur := func(dst *time.Duration, v time.Duration) {
		if v > 0 {
			*dst = v
		}
	}
	setInt := func(dst *int, v int) {
		if v > 0 {
			*dst = v
		}
	}
	setDur(&o.Duration, *duration)
	if *minCalls >= 0 {
		o.MinCalls = *minCalls
	}
	setInt(&o.Rounds, *rounds)
	setInt(&o.Workers, *workers)
	setInt(&o.WalkRecords, *walk)
	setInt(&o.Connections, *conns)
	setDur(&o.GrowthTime, *growthTime)
	setDur(&o.RedisTime, *redisTime)
	setDur(&o.ProfileTime, *profTime)
	if *rates != "" {
		o.Rates = nil
		for _, s := range strings.Split(*rates, ",") {
			r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || r <= 0 {
				return fmt.Errorf("-rates: bad rate %q", s)
			}
			o.Rates = append(o.Rates, r)
		}
	}
	if *ops != "" {
		names := map[string]bench.Op{"get": bench.OpGetRecord, "create": bench.OpCreateRecord, "list": bench.OpList100, "schema": bench.OpGetSchema}
		o.Ops = nil
		for _, s := range strings.Split(*ops, ",") {
			op, ok := names[strings.TrimSpace(s)]
			if !ok {
				return fmt.Errorf("-ops: unknown operation %q (get, create, list, schema)", s)
			}
			o.Ops = append(o.Ops, op)
		}
	}
	if *profile != "" {
		abs, err := filepath.Abs(*profile)
		if err != nil {
			return err
		}
		o.ProfileDir = abs
	}
	mod, err := moduleRoot()
	if err != nil {
		return err
	}
	o.ModuleDir = mod
	o.Log = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if o.ProfileDir != "" {
		fmt.Printf("profiles written to %s:\n  %s\nread one with: go tool pprof -top %s/<file>\n", o.ProfileDir, strings.Join(res.ProfileDone, "\n  "), o.ProfileDir)
		return nil
	}
	command := "go run ./bench/cmd/crmbench " + strings.Join(os.Args[1:], " ")
	res.Markdown(os.Stdout, strings.TrimSpace(command))
	fmt.Println()
	res.Summary(os.Stdout)
	if *md != "" {
		f, err := os.Create(*md) //nolint:gosec // the user's chosen output file
		if err != nil {
			return err
		}
		res.Markdown(f, strings.TrimSpace(command))
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// moduleRoot finds the directory of go.mod from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory; run crmbench inside the crmgate module")
		}
		dir = parent
	}
}
