package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Targets of issue 5.
const (
	TargetRESTThroughput = 0.80
	TargetGRPCThroughput = 0.90
	TargetAddedP50       = 500 * time.Microsecond
	TargetAddedP99       = 2 * time.Millisecond
	TargetRedisPerCall   = 1.0
	TargetRSS            = 150 << 20
	targetRate           = 200 // the rate the added-latency targets apply at
	targetRSSRate        = 1000
)

func mark(ok bool) string {
	if ok {
		return "PASS"
	}
	return "**FAIL**"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// signed milliseconds
func sms(d time.Duration) string { return fmt.Sprintf("%+.2f", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// perCall is CPU per issued call in microseconds.
func perCall(cpu time.Duration, n int64) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f µs", float64(cpu.Microseconds())/float64(n))
}

// cellDurations lists the measured time of each mode's cells.
func cellDurations(r *Results) string {
	var parts []string
	for _, m := range r.Modes {
		parts = append(parts, fmt.Sprintf("%v at %v", r.Options.CellDuration(m), m))
	}
	return strings.Join(parts, ", ")
}

// Markdown writes the results as Markdown.
func (r *Results) Markdown(w io.Writer, command string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	o := r.Options
	p("- date: %s", r.Started.UTC().Format("2006-01-02 15:04 MST"))
	p("- machine: %s, %d CPUs, %s RAM, Linux %s", r.Machine.CPUModel, r.Machine.CPUs, r.Machine.MemTotal, r.Machine.Kernel)
	p("- Go: %s; crmgate commit %s; command: `%s`", r.Machine.GoVersion, r.Commit, command)
	p("- load: %v measured per cell (a fixed-rate cell at least %d calls' worth: %s) in %d interleaved rounds (+%v warm-up per slice); saturation = closed loop with %d workers; fixed rates open loop (latency from each call's due time), at most %d in flight",
		o.Duration, o.MinCalls, cellDurations(r), o.Rounds, o.Warmup, o.Workers, o.MaxInFlight)
	p("- run time: %v (build %v, set-up %v, matrix %v)", r.Took.Round(time.Second), r.BuildTook.Round(100*time.Millisecond), r.SetupTook.Round(100*time.Millisecond), r.MatrixTook.Round(time.Second))
	if len(r.Cells) > 0 {
		var cpu, wall time.Duration
		worst := 0.0
		for _, c := range r.Cells {
			cpu += c.ForeignCPU
			wall += c.Wall
			if c.Wall > 0 {
				worst = max(worst, c.ForeignCPU.Seconds()/c.Wall.Seconds())
			}
		}
		if wall > 0 {
			p("- noise: other processes on the machine used %.2f CPUs on average during the matrix (%.2f in the worst cell), from /proc/stat", cpu.Seconds()/wall.Seconds(), worst)
		}
	}
	p("- gateway: `go build ./cmd/gateway`, separate process (a fresh one for each operation and load of the matrix), SQLite store, in-process schema cache (TTL %v), GATEWAY_LOG_LEVEL=%s%s, GHL quota pacing lifted (GATEWAY_RATE_LIMIT_BURST/DAILY=1e9)", o.SchemaTTL, o.LogLevel, envNote(o.GatewayEnv))
	p("- bare proxy: `go build ./bench/cmd/bareproxy` (net/http/httputil.ReverseProxy), a separate process like the gateway; the same proxy also runs inside the bench process (\"bare proxy in bench process\", for reference); load generator, lean upstream and that in-process proxy share the bench process; everything shares the same %d CPUs", r.Machine.CPUs)
	p("")

	if len(r.Cells) == 0 {
		return
	}
	sat := Mode{0}
	cell := func(op Op, t Target, m Mode) *Cell { return r.Cells[CellKey{op, t, m}] }

	p("### Throughput at saturation (req/s, closed loop, %d workers)", o.Workers)
	p("")
	p("Ratios are to the bare proxy process, the like-for-like floor (a separate process, as the gateway is); the last two are to the same proxy inside the bench process, which shares the load generator's Go runtime and so is never woken across a process boundary.")
	p("")
	p("| operation | direct | bare proxy | bare proxy in bench process | crmgate REST | crmgate gRPC | REST / proxy | gRPC / proxy | REST / in-process proxy | gRPC / in-process proxy | other processes' load (CPUs) |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, op := range r.Options.Ops {
		d, px, ip, re, gr := cell(op, TDirect, sat), cell(op, TProxy, sat), cell(op, TProxyInproc, sat), cell(op, TREST, sat), cell(op, TGRPC, sat)
		rr, gg := re.Throughput()/px.Throughput(), gr.Throughput()/px.Throughput()
		rs, gs := fmt.Sprintf("%.2f", rr), fmt.Sprintf("%.2f", gg)
		if op == OpGetRecord {
			rs += fmt.Sprintf(" (target ≥ %.2f: %s)", TargetRESTThroughput, mark(rr >= TargetRESTThroughput))
			gs += fmt.Sprintf(" (target ≥ %.2f: %s)", TargetGRPCThroughput, mark(gg >= TargetGRPCThroughput))
		}
		p("| %v | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %s | %.2f | %.2f | %s |", op, d.Throughput(), px.Throughput(), ip.Throughput(), re.Throughput(), gr.Throughput(), rs, gs,
			re.Throughput()/ip.Throughput(), gr.Throughput()/ip.Throughput(), foreign(d, px, ip, re, gr))
	}
	p("")

	for _, m := range r.Modes[1:] {
		p("### Latency at %v (ms; open loop, coordinated-omission-safe)", m)
		p("")
		p("| operation | target | achieved req/s | p50 | p90 | p99 | max | errors / late | other processes' load (CPUs) |")
		p("|---|---|---:|---:|---:|---:|---:|---:|---:|")
		for _, op := range r.Options.Ops {
			for _, t := range Targets {
				c := cell(op, t, m)
				p("| %v | %v | %.0f | %s | %s | %s | %s | %d / %d | %s |", op, t, c.Throughput(), ms(c.Percentile(.5)), ms(c.Percentile(.9)), ms(c.Percentile(.99)), ms(c.Percentile(1)), c.Errors, c.Unsent, foreign(c))
			}
		}
		p("")
		p("Added latency per call over the bare proxy at %v (ms); the last two columns are over the bare proxy in the bench process, for reference:", m)
		p("")
		p("| operation | REST +p50 | REST +p99 | gRPC +p50 | gRPC +p99 | REST +p50 / +p99 over in-process proxy | gRPC +p50 / +p99 over in-process proxy |")
		p("|---|---:|---:|---:|---:|---:|---:|")
		for _, op := range r.Options.Ops {
			px, ip := cell(op, TProxy, m), cell(op, TProxyInproc, m)
			var cols []string
			for _, t := range []Target{TREST, TGRPC} {
				c := cell(op, t, m)
				d50 := c.Percentile(.5) - px.Percentile(.5)
				d99 := c.Percentile(.99) - px.Percentile(.99)
				s50, s99 := sms(d50), sms(d99)
				if m.Rate == targetRate {
					s50 += " " + mark(d50 <= TargetAddedP50)
					s99 += " " + mark(d99 <= TargetAddedP99)
				}
				cols = append(cols, s50, s99)
			}
			for _, t := range []Target{TREST, TGRPC} {
				c := cell(op, t, m)
				cols = append(cols, sms(c.Percentile(.5)-ip.Percentile(.5))+" / "+sms(c.Percentile(.99)-ip.Percentile(.99)))
			}
			p("| %v | %s |", op, strings.Join(cols, " | "))
		}
		if m.Rate == targetRate {
			p("")
			p("Targets at %g req/s: added p50 ≤ %s ms, added p99 ≤ %s ms.", m.Rate, ms(TargetAddedP50), ms(TargetAddedP99))
		}
		p("")
	}

	p("### Gateway cost: CPU per call and memory")
	p("")
	p("CPU per call of the gateway process (from /proc/<pid>/stat, warm-up calls included), its heap allocations per call (`go_memstats_mallocs_total` from its /metrics, read around each slice; the scrape's own allocations taken off), the CPU per call of the bare proxy process (the floor of a hop, measured the same way) and, for the proxy in the bench process, the extra CPU of the bench process over a direct call. RSS is the largest VmRSS sampled every 50 ms during the REST and gRPC cells of the row, on the row's own gateway process (one per operation and load).")
	p("")
	p("| operation | load | gateway CPU / call, REST | gateway CPU / call, gRPC | bare proxy process CPU / call | in-process proxy hop CPU / call | gateway heap allocations / call, REST / gRPC | gateway RSS peak |")
	p("|---|---|---:|---:|---:|---:|---:|---:|")
	for _, m := range r.Modes {
		for _, op := range r.Options.Ops {
			d, px, ip, re, gr := cell(op, TDirect, m), cell(op, TProxy, m), cell(op, TProxyInproc, m), cell(op, TREST, m), cell(op, TGRPC, m)
			hop := "–"
			if d.Issued > 0 && ip.Issued > 0 {
				hop = fmt.Sprintf("%.0f µs", float64(ip.BenchCPU.Microseconds())/float64(ip.Issued)-float64(d.BenchCPU.Microseconds())/float64(d.Issued))
			}
			p("| %v | %v | %s | %s | %s | %s | %s / %s | %s |", op, m, perCall(re.GatewayCPU, re.Issued), perCall(gr.GatewayCPU, gr.Issued), perCall(px.ProxyCPU, px.Issued), hop, allocsPerCall(re), allocsPerCall(gr), mib(max(re.MaxRSS, gr.MaxRSS)))
		}
	}
	p("")
	p("Total CPU per call at saturation, by process (bench = load generator + lean upstream + in-process proxy; the machine has %d CPUs, so throughput ≈ %d CPU-seconds / total CPU per call, less idle time):", r.Machine.CPUs, r.Machine.CPUs)
	p("")
	p("| operation | direct: bench | bare proxy: bench + proxy | bare proxy in bench process: bench | crmgate REST: bench + gateway | crmgate gRPC: bench + gateway |")
	p("|---|---:|---:|---:|---:|---:|")
	for _, op := range r.Options.Ops {
		var cols []string
		for _, t := range Targets {
			c := cell(op, t, sat)
			switch t {
			case TDirect, TProxyInproc:
				cols = append(cols, perCall(c.BenchCPU, c.Issued))
			case TProxy:
				cols = append(cols, perCall(c.BenchCPU, c.Issued)+" + "+perCall(c.ProxyCPU, c.Issued))
			default:
				cols = append(cols, perCall(c.BenchCPU, c.Issued)+" + "+perCall(c.GatewayCPU, c.Issued))
			}
		}
		p("| %v | %s |", op, strings.Join(cols, " | "))
	}
	p("")
	p("Largest VmHWM (peak RSS) of the matrix's gateway processes (one per operation and load): %s.", mib(r.GatewayHWM))
	p("")

	if m := r.Memory; m != nil && len(m.Rows) > 0 {
		p("### Memory at %g req/s (fresh gateway process, one connection)", m.Rate)
		p("")
		reset := "VmHWM since the gateway started"
		if m.PeakReset {
			reset = "VmHWM, reset before each row (/proc/<pid>/clear_refs)"
		}
		p("RSS after start-up and warm-up: %s; CPU while idle: %.3f CPUs. Each row: open loop at %g req/s for %v; peak RSS is %s.", mib(m.RSSWarm), m.IdleCPU, m.Rate, o.GrowthTime, reset)
		p("")
		p("| operation | via | achieved req/s | p50 ms | p99 ms | peak RSS | target ≤ %s at %d req/s |", mib(TargetRSS), targetRSSRate)
		p("|---|---|---:|---:|---:|---:|---|")
		for _, row := range m.Rows {
			verdict := "–"
			if m.Rate == targetRSSRate {
				verdict = mark(row.HWM <= TargetRSS && row.HWM > 0)
			}
			p("| %v | %v | %.0f | %s | %s | %s | %s |", row.Op, row.Target, row.Cell.Throughput(), ms(row.Cell.Percentile(.5)), ms(row.Cell.Percentile(.99)), mib(row.HWM), verdict)
		}
		p("")
	}

	p("### Upstream economy (warm cache)")
	p("")
	allowed := int64(math.Ceil(float64(r.MatrixTook) / float64(o.SchemaTTL)))
	p("GHL calls per unified call, counted at the lean upstream over every matrix cell (warm-up included). A schema read is `%s`; the schema cache TTL is %v, so up to %d refresh(es) of the one connection's schema may fall in the %v matrix.", RouteSchema, o.SchemaTTL, allowed, r.MatrixTook.Round(time.Second))
	p("")
	p("| operation | via | unified calls | GHL calls / call | GHL schema calls | schema cache hit ratio | zero schema calls in steady state | new TCP connections to GHL / call |")
	p("|---|---|---:|---|---:|---:|---|---:|")
	for _, e := range r.Economy {
		var parts []string
		keys := make([]string, 0, len(e.PerRoute))
		for k, v := range e.PerRoute {
			if v > 0 {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%.4f × `%s`", e.PerRoute[k], k))
		}
		if len(parts) == 0 {
			parts = []string{"none (served from the schema cache)"}
		}
		hit := "n/a (no schema read)"
		if e.NeedsSchema {
			hit = fmt.Sprintf("%.4f%%", e.SchemaHitPct)
		}
		fetch, verdict := strconv.FormatInt(e.SchemaFetch, 10), mark(e.SchemaFetch <= allowed)
		if e.Target == TProxy {
			hit, verdict = "–", "– (for comparison)"
		}
		p("| %v | %v | %d | %s | %s | %s | %s | %.3f |", e.Op, e.Target, e.Calls, strings.Join(parts, ", "), fetch, hit, verdict, e.ConnsPerCall)
	}
	p("")

	p("### Redis round trips per unified call (GATEWAY_REDIS_URL set)")
	p("")
	if len(r.Redis) == 0 {
		p("Not measured: %s.", r.RedisNote)
	} else {
		if r.RedisNote != "" {
			p("Note: %s.", r.RedisNote)
			p("")
		}
		p("Round trips counted by the gateway itself (`crmgate_redis_round_trips_total` from its `/metrics`, before and after each row; warm-up calls included, so the ratio errs high) and divided by the unified calls made; commands executed counted with `INFO commandstats` deltas on a private redis-server — they include the commands Lua scripts run inside Redis, which are not round trips (closed loop, %d workers, %v per row, warm cache).", o.Workers, o.RedisTime)
		p("")
		p("| operation | via | unified calls | Redis round trips | round trips / call (target ≤ %.0f) | commands Redis executed (scripts' included) | GHL schema calls | req/s with Redis | p50 ms |", TargetRedisPerCall)
		p("|---|---|---:|---:|---|---|---:|---:|---:|")
		for _, row := range r.Redis {
			var parts []string
			keys := make([]string, 0, len(row.Commands))
			for k := range row.Commands {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s %d", strings.ToUpper(k), row.Commands[k]))
			}
			cmds := strings.Join(parts, ", ")
			if cmds == "" {
				cmds = "none"
			}
			p("| %v | %v | %d | %d | %.3f %s | %s | %d | %.0f | %s |", row.Op, row.Target, row.Calls, row.RoundTrips, row.PerCall, mark(redisWithinTarget(row.PerCall)), cmds, row.SchemaFetch, row.Throughput, ms(row.P50))
		}
	}
	p("")

	if len(r.Walks) > 0 {
		p("### Listing %d records page by page, and in one StreamRecords export (100 per page, one client, fresh gateway process)", o.WalkRecords)
		p("")
		p("| via | records | pages | total | records/s | time per %d records (first … last) | gateway RSS after each %d (MiB) | complete, in order, no repeats |", r.Walks[0].Chunk, r.Walks[0].Chunk)
		p("|---|---:|---:|---:|---:|---|---|---|")
		for _, w := range r.Walks {
			var per, rss []string
			for _, d := range w.PerChunk {
				per = append(per, ms(d))
			}
			for _, b := range w.RSS {
				rss = append(rss, fmt.Sprintf("%.0f", float64(b)/(1<<20)))
			}
			ok := mark(w.OK)
			if w.Problem != "" {
				ok += ": " + w.Problem
			}
			rate := 0.0
			if w.Took > 0 {
				rate = float64(w.Records) / w.Took.Seconds()
			}
			p("| %v | %d | %d | %v | %.0f | %s ms | %s | %s |", w.Via(), w.Records, w.Pages, w.Took.Round(time.Millisecond), rate, strings.Join(per, ", "), strings.Join(rss, ", "), ok)
		}
		p("")
	}

	if g := r.Growth; g != nil {
		p("### Growth: %d connections", g.Connections)
		p("")
		p("Connections created through `POST /v0/core/connections` (8 concurrent clients) in %v; then a fresh gateway process: RSS idle %s; one schema read per connection (cold: %d GHL schema calls) took %v; RSS after %s. Then calls spread uniformly at random over all %d connections:", g.CreateTook.Round(time.Millisecond), mib(g.RSSIdle), g.SchemaFetch, g.TouchTook.Round(time.Millisecond), mib(g.RSSTouched), g.Connections)
		p("")
		p("| operation | via | rate | achieved | p50 ms | p90 ms | p99 ms | same with 1 connection: p50 / p99 ms | gateway CPU / call | gateway RSS peak | GHL schema calls |")
		p("|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
		keys := make([]CellKey, 0, len(g.Cells))
		for k := range g.Cells {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b CellKey) int {
			if a.Mode.Rate != b.Mode.Rate {
				return int(a.Mode.Rate - b.Mode.Rate)
			}
			if a.Op != b.Op {
				return int(a.Op - b.Op)
			}
			return int(a.Target - b.Target)
		})
		for _, k := range keys {
			c := g.Cells[k]
			base := "–"
			if b := r.Cells[k]; b != nil {
				base = ms(b.Percentile(.5)) + " / " + ms(b.Percentile(.99))
			}
			p("| %v | %v | %v | %.0f | %s | %s | %s | %s | %s | %s | %d |", k.Op, k.Target, k.Mode, c.Throughput(), ms(c.Percentile(.5)), ms(c.Percentile(.9)), ms(c.Percentile(.99)), base, perCall(c.GatewayCPU, c.Issued), mib(c.MaxRSS), c.Upstream[RouteSchema])
		}
		peak := "VmHWM since start-up"
		if g.PeakReset {
			peak = "VmHWM since the connections were touched"
		}
		p("")
		p("Gateway peak RSS with %d connections (%s): %s (target ≤ %s: %s).", g.Connections, peak, mib(g.PeakRSS), mib(TargetRSS), mark(g.PeakRSS <= TargetRSS && g.PeakRSS > 0))
		p("")
	} else if r.GrowthNote != "" {
		p("Growth not measured: %s", r.GrowthNote)
	}
}

// Summary is the short list of key ratios and target verdicts.
func (r *Results) Summary(w io.Writer) {
	if len(r.Cells) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	sat := Mode{0}
	get := func(op Op, t Target, m Mode) *Cell { return r.Cells[CellKey{op, t, m}] }
	if c := get(OpGetRecord, TProxy, sat); c != nil {
		px := c.Throughput()
		rr := get(OpGetRecord, TREST, sat).Throughput() / px
		gg := get(OpGetRecord, TGRPC, sat).Throughput() / px
		p("get record throughput: REST/proxy %.2f (target ≥ %.2f %s), gRPC/proxy %.2f (target ≥ %.2f %s)", rr, TargetRESTThroughput, mark(rr >= TargetRESTThroughput), gg, TargetGRPCThroughput, mark(gg >= TargetGRPCThroughput))
		if ip := get(OpGetRecord, TProxyInproc, sat); ip != nil && ip.Throughput() > 0 {
			p("  over the proxy inside the bench process (reference): REST %.2f, gRPC %.2f", get(OpGetRecord, TREST, sat).Throughput()/ip.Throughput(), get(OpGetRecord, TGRPC, sat).Throughput()/ip.Throughput())
		}
	}
	m := Mode{targetRate}
	for _, op := range r.Options.Ops {
		pp := get(op, TProxy, m)
		if pp == nil {
			continue
		}
		var parts []string
		for _, t := range []Target{TREST, TGRPC} {
			c := get(op, t, m)
			d50, d99 := c.Percentile(.5)-pp.Percentile(.5), c.Percentile(.99)-pp.Percentile(.99)
			parts = append(parts, fmt.Sprintf("%s +p50 %s ms %s, +p99 %s ms %s", map[Target]string{TREST: "REST", TGRPC: "gRPC"}[t], sms(d50), mark(d50 <= TargetAddedP50), sms(d99), mark(d99 <= TargetAddedP99)))
		}
		p("%v @ %d req/s: %s", op, targetRate, strings.Join(parts, "; "))
	}
}

// foreign is the CPU other processes of the machine used during the cells,
// in CPUs (CPU seconds per wall second): the noise they added.
func foreign(cells ...*Cell) string {
	var cpu, wall time.Duration
	for _, c := range cells {
		cpu += c.ForeignCPU
		wall += c.Wall
	}
	if wall <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", cpu.Seconds()/wall.Seconds())
}

func envNote(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return ", " + strings.Join(env, ", ")
}

// redisWithinTarget compares round trips per call with the target, allowing
// the handful per row that are not per call (connection set-up, readiness
// pings every few seconds, schema epochs written once): 0.5% of a row's
// thousands of calls.
func redisWithinTarget(perCall float64) bool { return perCall <= TargetRedisPerCall*1.005 }

// allocsPerCall is a cell's gateway heap allocations per call made.
func allocsPerCall(c *Cell) string {
	if c.Issued == 0 || c.Allocs == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", float64(c.Allocs)/float64(c.Issued))
}
