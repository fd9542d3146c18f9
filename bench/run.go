package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"google.golang.org/grpc/metadata"
)

// Options configure a run.
type Options struct {
	ModuleDir   string        // the crmgate module (to build ./cmd/gateway)
	BuildFlags  []string      // extra go build flags for the gateway (e.g. -race)
	Ops         []Op          // operations to measure (default: all)
	Duration    time.Duration // measured time per (operation, target, load) cell, split over Rounds
	MinCalls    int           // a fixed-rate cell lasts at least MinCalls/rate, so its p99 rests on enough calls
	Rounds      int           // interleaved rounds
	Warmup      time.Duration // unmeasured start of every slice
	Workers     int           // closed-loop workers (saturation)
	Rates       []float64     // open-loop rates (req/s)
	MaxInFlight int           // open-loop cap on concurrent calls
	WalkRecords int           // records of the list walk
	Connections int           // connections of the growth phase
	GrowthTime  time.Duration // measured time per growth cell
	RedisTime   time.Duration // measured time per Redis cell
	RedisURL    string        // use this Redis instead of a private redis-server
	SkipRedis   bool
	SkipGrowth  bool
	SkipWalk    bool
	LogLevel    string   // the gateway's GATEWAY_LOG_LEVEL
	GatewayEnv  []string // extra KEY=VALUE environment of the gateway (e.g. GOMAXPROCS=1)
	SchemaTTL   time.Duration
	ProfileDir  string        // if set: only profile (pprof twin), writing profiles here
	ProfileTime time.Duration // seconds of CPU profile per (operation, protocol)
	KeepDir     bool          // keep the temporary directory (gateway logs, data)
	Log         io.Writer     // progress
}

// benchGatewayEnv lifts the gateway's pacing of calls to GHL's quotas
// (100 requests per 10 s and 200,000 per day per location): the lean
// upstream has none, and the benchmark measures the gateway's own cost.
// The limiter's bookkeeping still runs on every call. A gateway without
// these settings ignores them.
var benchGatewayEnv = []string{"GATEWAY_RATE_LIMIT_BURST=1000000000", "GATEWAY_RATE_LIMIT_DAILY=1000000000"}

// DefaultOptions are the full run's settings.
func DefaultOptions() Options {
	return Options{
		Duration: 5 * time.Second, MinCalls: 4000, Rounds: 5, Warmup: 100 * time.Millisecond, Workers: 32,
		Ops: Ops, Rates: []float64{200, 1000}, MaxInFlight: 512,
		WalkRecords: 100_000, Connections: 10_000, GrowthTime: 5 * time.Second, RedisTime: 3 * time.Second,
		LogLevel: "info", SchemaTTL: 5 * time.Minute, ProfileTime: 10 * time.Second, Log: io.Discard,
	}
}

// QuickOptions smoke-test the harness in a few seconds.
func QuickOptions() Options {
	o := DefaultOptions()
	o.Duration, o.MinCalls, o.Rounds, o.Warmup, o.Workers = 100*time.Millisecond, 0, 1, 20*time.Millisecond, 8
	o.Rates = []float64{100} // the list operation costs ~10 ms of gateway CPU: keep it below saturation
	o.WalkRecords, o.Connections, o.GrowthTime, o.RedisTime = 1_000, 20, 100*time.Millisecond, 100*time.Millisecond
	o.ProfileTime = time.Second
	return o
}

// Mode is a load shape: saturation (closed loop) or a fixed rate.
type Mode struct {
	Rate float64 // 0: closed loop
}

// CellDuration is the measured time of a cell of mode m: Duration, or
// longer for a fixed rate too low to make MinCalls calls in it. A p99 is
// the call slower than all but 1%: of 1,000 calls, the 10th slowest,
// which one stall of a shared machine moves by milliseconds.
func (o Options) CellDuration(m Mode) time.Duration {
	d := o.Duration
	if m.Rate > 0 && o.MinCalls > 0 {
		d = max(d, time.Duration(float64(o.MinCalls)/m.Rate*float64(time.Second)))
	}
	return d
}

func (m Mode) String() string {
	if m.Rate == 0 {
		return "saturation"
	}
	return fmt.Sprintf("%g req/s", m.Rate)
}

// CellKey names a cell of the main matrix.
type CellKey struct {
	Op     Op
	Target Target
	Mode   Mode
}

// Cell is what was measured for one cell, over every round.
type Cell struct {
	Sample
	GatewayCPU time.Duration    // CPU of the gateway process during the cell's slices
	ProxyCPU   time.Duration    // CPU of the bare proxy process during the cell's slices
	BenchCPU   time.Duration    // CPU of this process (load generator, upstream, in-process proxy)
	ForeignCPU time.Duration    // CPU used by every other process of the machine (noise)
	Wall       time.Duration    // wall time of the cell's slices, warm-up included
	MaxRSS     int64            // largest sampled gateway RSS during the cell
	Allocs     int64            // heap allocations of the gateway during the cell's slices (gateway targets)
	Upstream   map[string]int64 // upstream requests per route during the cell
}

// Economy is one row of GHL calls per unified call.
type Economy struct {
	Op           Op
	Target       Target
	Calls        int64
	PerRoute     map[string]float64 // GHL requests per unified call, by route
	ConnsPerCall float64            // new TCP connections to GHL per unified call
	SchemaFetch  int64
	NeedsSchema  bool
	SchemaHitPct float64
}

// RedisRow is Redis round trips (and commands run) per unified call.
type RedisRow struct {
	Op          Op
	Target      Target
	Calls       int64
	Commands    map[string]int64 // executed by Redis, script-internal ones included
	RoundTrips  int64            // sent by the gateway (its own count)
	PerCall     float64          // round trips per unified call
	Throughput  float64
	P50         time.Duration
	SchemaFetch int64
}

// WalkResult is one page-by-page walk of the walk object.
type WalkResult struct {
	Target   Target
	Stream   bool // one StreamRecords call instead of ListRecords pages
	Records  int
	Pages    int
	Took     time.Duration
	PerChunk []time.Duration // time per chunk of ChunkSize records
	RSS      []int64         // gateway RSS after each chunk
	Chunk    int
	OK       bool
	Problem  string
}

// MemoryResult is the memory phase: a fresh gateway, one connection.
type MemoryResult struct {
	RSSWarm   int64   // after start-up and a few calls of each operation
	IdleCPU   float64 // CPUs the gateway used while idle (background work)
	Rate      float64 // the fixed rate of the rows
	PeakReset bool    // whether VmHWM could be reset before each row
	Rows      []MemoryRow
}

// MemoryRow is one operation at the memory phase's rate.
type MemoryRow struct {
	Op     Op
	Target Target
	Cell   *Cell
	HWM    int64 // VmHWM at the end of the row (since the reset before it, if PeakReset)
}

// GrowthResult is the 10,000-connection phase.
type GrowthResult struct {
	Connections  int
	CreateTook   time.Duration
	RSSIdle      int64 // fresh gateway, connections in the store, nothing cached
	TouchTook    time.Duration
	RSSTouched   int64 // after one schema read per connection
	SchemaFetch  int64 // upstream schema calls while touching
	Cells        map[CellKey]*Cell
	PeakRSS      int64 // VmHWM at the end
	PeakReset    bool  // whether VmHWM was reset after start-up
	CacheEntries int
}

// Results is a whole run.
type Results struct {
	Started     time.Time
	Took        time.Duration
	Machine     MachineInfo
	Options     Options
	Quick       bool
	Modes       []Mode
	Cells       map[CellKey]*Cell
	Economy     []Economy
	Redis       []RedisRow
	RedisNote   string
	Walks       []WalkResult
	Growth      *GrowthResult
	Memory      *MemoryResult
	GrowthNote  string
	GatewayHWM  int64 // VmHWM of the main gateway after the matrix
	MatrixTook  time.Duration
	SetupTook   time.Duration
	BuildTook   time.Duration
	ProfileDone []string
	Commit      string // git commit of the gateway measured
}

// commitOf describes the module's git commit ("abc1234", "+ local changes"
// when the tree differs from it).
func commitOf(ctx context.Context, dir string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--short", "HEAD").Output() //nolint:gosec // git in the module directory
	if err != nil {
		if b, err := os.ReadFile(filepath.Join(dir, ".commit")); err == nil { //nolint:gosec // a snapshot made with git archive may name its commit here
			return strings.TrimSpace(string(b))
		}
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 { //nolint:gosec // git in the module directory
		c += " + local changes"
	}
	return c
}

func (o Options) logf(format string, args ...any) {
	fmt.Fprintf(o.Log, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// Run runs the benchmark.
func Run(ctx context.Context, o Options) (*Results, error) {
	res := &Results{Started: time.Now(), Machine: Machine(), Options: o, Cells: map[CellKey]*Cell{}, Commit: commitOf(ctx, o.ModuleDir)}
	res.Modes = []Mode{{0}}
	for _, r := range o.Rates {
		res.Modes = append(res.Modes, Mode{r})
	}
	dir, err := os.MkdirTemp("", "crmbench-")
	if err != nil {
		return nil, err
	}
	if o.KeepDir {
		o.logf("working directory (kept): %s", dir)
	} else {
		defer func() { _ = os.RemoveAll(dir) }()
	}

	t0 := time.Now()
	pkg := "./cmd/gateway"
	if o.ProfileDir != "" {
		pkg = "./bench/cmd/crmgate-pprof"
	}
	o.logf("building %s", pkg)
	bin, err := Build(ctx, o.ModuleDir, pkg, dir, "gateway-under-test", o.BuildFlags...)
	if err != nil {
		return nil, err
	}
	// The proxy is built with the gateway's flags (-race in the smoke test),
	// so the two hops stay comparable.
	proxyBin, err := Build(ctx, o.ModuleDir, "./bench/cmd/bareproxy", dir, "bareproxy", o.BuildFlags...)
	if err != nil {
		return nil, err
	}
	res.BuildTook = time.Since(t0)

	fx, err := CaptureFixtures()
	if err != nil {
		return nil, err
	}
	up, err := NewUpstream(fx, o.WalkRecords)
	if err != nil {
		return nil, err
	}
	defer up.Close()
	px, err := StartProxyProcess(ctx, proxyBin, up.URL, 4*o.Workers)
	if err != nil {
		return nil, err
	}
	defer px.Stop()
	inproc, err := NewProxy(up.URL, 4*o.Workers)
	if err != nil {
		return nil, err
	}
	defer inproc.Close()

	t0 = time.Now()
	gwOpts := GatewayOptions{
		Binary: bin, DataDir: filepath.Join(dir, "data"), APIKey: randomKey(), LogLevel: o.LogLevel,
		LogFile: filepath.Join(dir, "gateway.log"),
		Env:     append(slices.Clone(benchGatewayEnv), append([]string{"GATEWAY_SCHEMA_CACHE_TTL=" + o.SchemaTTL.String()}, o.GatewayEnv...)...),
	}
	gw, err := StartGateway(ctx, gwOpts)
	if err != nil {
		return nil, err
	}
	defer func() { gw.Stop() }()
	adm := &admin{base: gw.HTTPURL, key: gw.APIKey, hc: &http.Client{Timeout: 60 * time.Second}}
	cfgID, err := adm.createConnectorConfig(ctx, up.URL)
	if err != nil {
		return nil, fmt.Errorf("create connector config: %w", err)
	}
	conn0, err := adm.createConnection(ctx, cfgID, 0)
	if err != nil {
		return nil, fmt.Errorf("create connection: %w", err)
	}
	cl, err := newClients(fx, up.URL, px, inproc.URL, gw, o.Workers)
	if err != nil {
		return nil, err
	}
	defer cl.close()
	one := func() string { return conn0 }
	// Warm every path (schema cache, connection pools) and check it works.
	if err := cl.warm(ctx, Ops, Targets, one); err != nil {
		return nil, err
	}
	res.SetupTook = time.Since(t0)
	o.logf("gateway pid %d, upstream %s, bare proxy pid %d %s, in-process proxy %s, connection %s", gw.Pid(), up.URL, px.Pid(), px.URL, inproc.URL, conn0)

	if o.ProfileDir != "" {
		err := profile(ctx, o, res, gw, cl, one, func() ([]string, error) {
			ids, err := createConnections(ctx, adm, cfgID, o.Connections)
			return append(ids, conn0), err
		})
		res.Took = time.Since(res.Started)
		return res, err
	}

	// 1. The interleaved matrix, one fresh gateway process per operation.
	t0 = time.Now()
	gw, err = matrix(ctx, o, res, gw, gwOpts, up, cl, one)
	if err != nil {
		return nil, err
	}
	adm.base = gw.HTTPURL
	res.MatrixTook = time.Since(t0)
	res.Economy = economy(res)

	// 2. Growth: create the connections with this gateway (measured later on a fresh one).
	var conns []string
	if !o.SkipGrowth {
		o.logf("creating %d connections", o.Connections-1)
		start := time.Now()
		conns, err = createConnections(ctx, adm, cfgID, o.Connections)
		if err != nil {
			return nil, err
		}
		conns = append([]string{conn0}, conns...)
		res.Growth = &GrowthResult{Connections: len(conns), CreateTook: time.Since(start), Cells: map[CellKey]*Cell{}}
	}
	gw.Stop()

	// 3. Memory on a fresh gateway: the walk, then the highest fixed rate.
	if err := memoryPhase(ctx, o, res, gwOpts, up, cl, conn0); err != nil {
		return nil, err
	}

	// 4. Redis round trips.
	if !o.SkipRedis {
		if err := redisPhase(ctx, o, res, gwOpts, dir, up, cl, one); err != nil {
			res.RedisNote = err.Error()
			o.logf("redis phase skipped: %v", err)
		}
	} else {
		res.RedisNote = "skipped (-skip-redis)"
	}

	// 5. Growth, measured on a fresh gateway.
	if res.Growth != nil {
		if err := growthPhase(ctx, o, res, gwOpts, up, cl, conns); err != nil {
			return nil, err
		}
	}
	res.Took = time.Since(res.Started)
	return res, nil
}

// slice runs one measured slice of a cell and adds it to the cell.
func runSlice(ctx context.Context, o Options, gw *Gateway, up *Upstream, px *ProxyProcess, call Call, t Target, m Mode, d time.Duration, c *Cell) {
	upBefore := up.Counts()
	// Heap allocations from the gateway's /metrics, read outside the CPU
	// window; a scrape's own allocations are measured by a second scrape
	// and taken off.
	var mallocs0, mallocs1 int64
	gatewayTarget := t == TREST || t == TGRPC
	if gatewayTarget {
		mallocs0, _ = MetricSum(ctx, gw.HTTPURL, "go_memstats_mallocs_total")
		mallocs1, _ = MetricSum(ctx, gw.HTTPURL, "go_memstats_mallocs_total")
	}
	gwBefore, _ := ProcCPU(gw.Pid())
	pxBefore, _ := ProcCPU(px.Pid())
	selfBefore := SelfCPU()
	sysBefore := SystemBusy()
	wallBefore := time.Now()
	rss := sampleRSS(gw.Pid(), 50*time.Millisecond)
	var s Sample
	if m.Rate == 0 {
		s = ClosedLoop(ctx, call, o.Workers, o.Warmup, d)
	} else {
		s = OpenLoop(ctx, call, m.Rate, o.MaxInFlight, o.Warmup, d)
	}
	c.MaxRSS = max(c.MaxRSS, rss.Stop())
	gwAfter, _ := ProcCPU(gw.Pid())
	pxAfter, _ := ProcCPU(px.Pid())
	self := SelfCPU() - selfBefore
	c.GatewayCPU += gwAfter - gwBefore
	c.ProxyCPU += pxAfter - pxBefore
	if gatewayTarget {
		if mallocs2, err := MetricSum(ctx, gw.HTTPURL, "go_memstats_mallocs_total"); err == nil && mallocs1 > 0 {
			c.Allocs += max(mallocs2-mallocs1-(mallocs1-mallocs0), 0)
		}
	}
	c.BenchCPU += self
	c.ForeignCPU += max(SystemBusy()-sysBefore-self-(gwAfter-gwBefore)-(pxAfter-pxBefore), 0)
	c.Wall += time.Since(wallBefore)
	if c.Upstream == nil {
		c.Upstream = map[string]int64{}
	}
	for k, v := range up.Counts() {
		c.Upstream[k] += v - upBefore[k]
	}
	c.Add(s)
}

// matrix measures every cell. Each (operation, load) pair runs on a fresh
// gateway process (gw for the first; the one running at the end is
// returned), so an overloaded pair (list 100 records at 1,000 req/s:
// hundreds of big answers in flight, a heap of hundreds of MiB) cannot
// spill its garbage collection and page faults into other cells, and each
// pair's RSS is its own. Within a pair the five ways are interleaved
// round by round.
func matrix(ctx context.Context, o Options, res *Results, gw *Gateway, gwOpts GatewayOptions, up *Upstream, cl *clients, conn func() string) (*Gateway, error) {
	for _, m := range res.Modes {
		for _, op := range o.Ops {
			for _, t := range Targets {
				res.Cells[CellKey{op, t, m}] = &Cell{}
			}
		}
	}
	var total time.Duration
	for _, m := range res.Modes {
		total += time.Duration(len(o.Ops)*len(Targets)) * (o.CellDuration(m) + time.Duration(o.Rounds)*o.Warmup)
	}
	o.logf("matrix: %d cells of %v or more (at least %d calls at a fixed rate) in %d rounds, about %v", len(res.Cells), o.Duration, o.MinCalls, o.Rounds, total.Round(time.Second))
	first := true
	for _, op := range o.Ops {
		for _, m := range res.Modes {
			if !first {
				_, hwm, _ := ProcMem(gw.Pid())
				res.GatewayHWM = max(res.GatewayHWM, hwm)
				gw.Stop()
				var err error
				if gw, err = StartGateway(ctx, gwOpts); err != nil {
					return nil, err
				}
				if err := cl.attach(gw); err != nil {
					return gw, err
				}
				if err := cl.warm(ctx, []Op{op}, []Target{TREST, TGRPC}, conn); err != nil {
					return gw, err
				}
			}
			first = false
			slice := o.CellDuration(m) / time.Duration(o.Rounds)
			for round := range o.Rounds {
				// Rotate the target order every round so that no target
				// always runs first (or right after a heavy one).
				targets := append(slices.Clone(Targets[round%len(Targets):]), Targets[:round%len(Targets)]...)
				for _, t := range targets {
					if ctx.Err() != nil {
						return gw, ctx.Err()
					}
					runSlice(ctx, o, gw, up, cl.proxy, cl.call(op, t, conn), t, m, slice, res.Cells[CellKey{op, t, m}])
				}
			}
			o.logf("%v at %v done (gateway pid %d)", op, m, gw.Pid())
		}
	}
	_, hwm, _ := ProcMem(gw.Pid())
	res.GatewayHWM = max(res.GatewayHWM, hwm)
	return gw, nil
}

// needsSchema tells the operations whose unified call reads the schema.
func needsSchema(op Op) bool { return op == OpCreateRecord || op == OpGetSchema }

func economy(res *Results) []Economy {
	var out []Economy
	for _, op := range res.Options.Ops {
		for _, t := range []Target{TProxy, TREST, TGRPC} {
			e := Economy{Op: op, Target: t, PerRoute: map[string]float64{}, NeedsSchema: needsSchema(op) && t != TProxy}
			for _, m := range res.Modes {
				c := res.Cells[CellKey{op, t, m}]
				e.Calls += c.Issued
				e.SchemaFetch += c.Upstream[RouteSchema]
				for k, v := range c.Upstream {
					e.PerRoute[k] += float64(v)
				}
			}
			e.ConnsPerCall = e.PerRoute[ConnsOpened] / float64(max(e.Calls, 1))
			delete(e.PerRoute, ConnsOpened)
			for k := range e.PerRoute {
				e.PerRoute[k] /= float64(max(e.Calls, 1))
			}
			if e.NeedsSchema && e.Calls > 0 {
				e.SchemaHitPct = 100 * (1 - float64(e.SchemaFetch)/float64(e.Calls))
			}
			out = append(out, e)
		}
	}
	return out
}

// walk lists every record of the walk object page by page.
func walk(ctx context.Context, o Options, gw *Gateway, cl *clients, conn string, t Target) WalkResult {
	chunk := max(o.WalkRecords/10, 100)
	w := WalkResult{Target: t, Chunk: chunk}
	cursor := ""
	start := time.Now()
	tally := newWalkTally(&w, gw.Pid(), chunk, start)
	for {
		var ids []string
		var nextCursor string
		var hasNext bool
		switch t {
		case TREST:
			u := gw.HTTPURL + "/v0/unified/crm/custom_objects/" + walkObject + "?page_size=100"
			if cursor != "" {
				u += "&cursor=" + url.QueryEscape(cursor)
			}
			var page struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
				NextCursor  string `json:"next_cursor"`
				HasNextPage bool   `json:"has_next_page"`
			}
			if err := getJSON(ctx, cl.hc, u, gw.APIKey, conn, &page); err != nil {
				w.Problem = err.Error()
				return w
			}
			for _, it := range page.Items {
				ids = append(ids, it.ID)
			}
			nextCursor, hasNext = page.NextCursor, page.HasNextPage
		case TGRPC:
			mctx := metadata.AppendToOutgoingContext(ctx, "x-apikey", gw.APIKey, "x-connection-id", conn)
			resp, err := cl.grpc.ListRecords(mctx, &crmv1.ListRecordsRequest{ObjectName: walkObject, PageSize: 100, Cursor: cursor})
			if err != nil {
				w.Problem = err.Error()
				return w
			}
			for _, it := range resp.GetItems() {
				ids = append(ids, it.GetId())
			}
			nextCursor, hasNext = resp.GetNextCursor(), resp.GetHasNextPage()
		}
		w.Pages++
		for _, id := range ids {
			if !tally.add(id) {
				return w
			}
		}
		if !hasNext {
			break
		}
		cursor = nextCursor
	}
	tally.done(start, o.WalkRecords, "walk")
	return w
}

func getJSON(ctx context.Context, hc *http.Client, u, key, conn string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("x-apikey", key)
	req.Header.Set("x-connection-id", conn)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// createConnections makes connections 1..n-1 through the REST API.
func createConnections(ctx context.Context, adm *admin, cfgID string, n int) ([]string, error) {
	ids := make([]string, n-1)
	var next atomic.Int64
	next.Store(1)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				id, err := adm.createConnection(ctx, cfgID, i)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("create connection %d: %w", i, err) })
					return
				}
				ids[i-1] = id
			}
		}()
	}
	wg.Wait()
	return ids, firstErr
}

// forEach runs fn(i) for i in [0, n) on workers goroutines.
func forEach(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func memoryPhase(ctx context.Context, o Options, res *Results, gwOpts GatewayOptions, up *Upstream, cl *clients, conn string) error {
	gw, err := StartGateway(ctx, gwOpts)
	if err != nil {
		return err
	}
	defer gw.Stop()
	if err := cl.attach(gw); err != nil {
		return err
	}
	one := func() string { return conn }
	if err := cl.warm(ctx, Ops, []Target{TREST}, one); err != nil {
		return err
	}
	m := &MemoryResult{Rate: slices.Max(o.Rates)}
	res.Memory = m
	m.RSSWarm, _, _ = ProcMem(gw.Pid())
	idle := max(o.GrowthTime/2, 200*time.Millisecond)
	cpu0, _ := ProcCPU(gw.Pid())
	time.Sleep(idle)
	cpu1, _ := ProcCPU(gw.Pid())
	m.IdleCPU = (cpu1 - cpu0).Seconds() / idle.Seconds()
	o.logf("memory phase: gateway pid %d, RSS %s", gw.Pid(), mib(m.RSSWarm))
	if !o.SkipWalk {
		for _, t := range []Target{TREST, TGRPC} {
			o.logf("walking %d records via %v", o.WalkRecords, t)
			res.Walks = append(res.Walks, walk(ctx, o, gw, cl, conn, t))
		}
		o.logf("exporting %d records via StreamRecords", o.WalkRecords)
		res.Walks = append(res.Walks, walkStream(ctx, o, gw, cl, conn))
	}
	for _, op := range o.Ops {
		if op == OpList100 {
			continue // costs far more than the others; its memory under overload shows in the matrix
		}
		for _, t := range []Target{TREST, TGRPC} {
			m.PeakReset = ResetPeakRSS(gw.Pid())
			c := &Cell{}
			runSlice(ctx, o, gw, up, cl.proxy, cl.call(op, t, one), t, Mode{m.Rate}, o.GrowthTime, c)
			_, hwm, _ := ProcMem(gw.Pid())
			m.Rows = append(m.Rows, MemoryRow{Op: op, Target: t, Cell: c, HWM: hwm})
		}
	}
	return nil
}

func redisPhase(ctx context.Context, o Options, res *Results, gwOpts GatewayOptions, dir string, up *Upstream, cl *clients, conn func() string) error {
	rd, err := StartRedis(ctx, o.RedisURL, dir)
	if err != nil {
		return err
	}
	defer rd.Close()
	if !rd.Private() {
		res.RedisNote = "shared Redis " + o.RedisURL + ": counts include other clients' commands"
	}
	opts := gwOpts
	opts.RedisURL = rd.URL
	gw, err := StartGateway(ctx, opts)
	if err != nil {
		return err
	}
	defer gw.Stop()
	if err := cl.attach(gw); err != nil {
		return err
	}
	o.logf("redis phase: gateway pid %d with %s", gw.Pid(), rd.URL)
	if err := cl.warm(ctx, o.Ops, []Target{TREST}, conn); err != nil {
		return fmt.Errorf("with redis: %w", err)
	}
	for _, op := range o.Ops {
		for _, t := range []Target{TREST, TGRPC} {
			before, err := rd.CommandCalls(ctx)
			if err != nil {
				return err
			}
			tripsBefore, err := RoundTrips(ctx, gw.HTTPURL)
			if err != nil {
				return err
			}
			upBefore := up.Counts()
			s := ClosedLoop(ctx, cl.call(op, t, conn), o.Workers, o.Warmup, o.RedisTime)
			after, err := rd.CommandCalls(ctx)
			if err != nil {
				return err
			}
			tripsAfter, err := RoundTrips(ctx, gw.HTTPURL)
			if err != nil {
				return err
			}
			cmds := diffCommands(before, after)
			row := RedisRow{Op: op, Target: t, Calls: s.Issued, Commands: cmds, RoundTrips: tripsAfter - tripsBefore, Throughput: s.Throughput(), P50: s.Percentile(0.5),
				SchemaFetch: up.Counts()[RouteSchema] - upBefore[RouteSchema]}
			// Warm-up calls are not in s.Issued but their round trips are
			// counted; the ratio errs on the high side.
			row.PerCall = float64(row.RoundTrips) / float64(max(s.Issued, 1))
			res.Redis = append(res.Redis, row)
		}
	}
	return nil
}

func growthPhase(ctx context.Context, o Options, res *Results, gwOpts GatewayOptions, up *Upstream, cl *clients, conns []string) error {
	g := res.Growth
	gw, err := StartGateway(ctx, gwOpts)
	if err != nil {
		return err
	}
	defer gw.Stop()
	if err := cl.attach(gw); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond)
	g.RSSIdle, _, _ = ProcMem(gw.Pid())
	o.logf("growth: gateway pid %d, touching %d connections", gw.Pid(), len(conns))
	upBefore := up.Counts()
	start := time.Now()
	err = forEach(len(conns), 8, func(i int) error {
		id := conns[i]
		return cl.call(OpGetSchema, TREST, func() string { return id })(ctx)
	})
	if err != nil {
		return fmt.Errorf("touch connections: %w", err)
	}
	g.TouchTook = time.Since(start)
	g.SchemaFetch = up.Counts()[RouteSchema] - upBefore[RouteSchema]
	g.RSSTouched, _, _ = ProcMem(gw.Pid())
	g.PeakReset = ResetPeakRSS(gw.Pid())
	random := func() string { return conns[rand.IntN(len(conns))] } //nolint:gosec // load spreading, not security
	for _, rate := range o.Rates {
		m := Mode{rate}
		for _, op := range []Op{OpGetRecord, OpCreateRecord} {
			for _, t := range []Target{TREST, TGRPC} {
				c := &Cell{}
				runSlice(ctx, o, gw, up, cl.proxy, cl.call(op, t, random), t, m, o.GrowthTime, c)
				g.Cells[CellKey{op, t, m}] = c
			}
		}
	}
	_, g.PeakRSS, _ = ProcMem(gw.Pid())
	return nil
}

// profile collects CPU and heap profiles of the pprof twin under load.
func profile(ctx context.Context, o Options, res *Results, gw *Gateway, cl *clients, conn func() string, makeConns func() ([]string, error)) error {
	if gw.PprofURL == "" {
		return errors.New("the gateway under test serves no pprof endpoint")
	}
	if err := os.MkdirAll(o.ProfileDir, 0o750); err != nil {
		return err
	}
	secs := max(int(o.ProfileTime.Seconds()), 1)
	for _, op := range o.Ops {
		// Saturation (closed loop), then the first fixed rate (open loop):
		// the second is where per-call latency, not throughput, is at stake.
		loads := []float64{0}
		if len(o.Rates) > 0 {
			loads = append(loads, o.Rates[0])
		}
		for _, rate := range loads {
			for _, t := range []Target{TREST, TGRPC} {
				load, run := "saturation", func(lctx context.Context, d time.Duration) Sample {
					return ClosedLoop(lctx, cl.call(op, t, conn), o.Workers, 0, d)
				}
				if rate > 0 {
					load, run = fmt.Sprintf("%.0frps", rate), func(lctx context.Context, d time.Duration) Sample {
						return OpenLoop(lctx, cl.call(op, t, conn), rate, o.MaxInFlight, 0, d)
					}
				}
				name := fmt.Sprintf("cpu-%s-%s-%s.pprof", slug(op.String()), slug(t.String()), load)
				o.logf("profiling %v via %v at %s for %ds", op, t, load, secs)
				lctx, cancel := context.WithCancel(ctx)
				done := make(chan Sample, 1)
				go func() { done <- run(lctx, time.Duration(secs+2)*time.Second) }()
				time.Sleep(500 * time.Millisecond)
				err := fetch(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", gw.PprofURL, secs), filepath.Join(o.ProfileDir, name))
				cancel()
				s := <-done
				if err != nil {
					return err
				}
				res.ProfileDone = append(res.ProfileDone, fmt.Sprintf("%s (%.0f req/s)", name, s.Throughput()))
			}
		}
	}
	for _, p := range []string{"heap", "allocs"} {
		if err := fetch(ctx, gw.PprofURL+"/debug/pprof/"+p, filepath.Join(o.ProfileDir, p+".pprof")); err != nil {
			return err
		}
		res.ProfileDone = append(res.ProfileDone, p+".pprof")
	}
	if o.SkipGrowth {
		return nil
	}
	o.logf("profiling memory with %d connections: creating and touching them", o.Connections)
	conns, err := makeConns()
	if err != nil {
		return err
	}
	err = forEach(len(conns), 8, func(i int) error {
		id := conns[i]
		return cl.call(OpGetSchema, TREST, func() string { return id })(ctx)
	})
	if err != nil {
		return err
	}
	name := fmt.Sprintf("heap-%d-connections.pprof", len(conns))
	if err := fetch(ctx, gw.PprofURL+"/debug/pprof/heap?gc=1", filepath.Join(o.ProfileDir, name)); err != nil {
		return err
	}
	res.ProfileDone = append(res.ProfileDone, name)
	return nil
}

func fetch(ctx context.Context, u, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	f, err := os.Create(path) //nolint:gosec // a path under the chosen profile directory
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

func slug(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	return string(b)
}

// walkTally checks that walk records arrive once each and in order, and
// samples the time and the gateway's RSS after every chunk of records.
type walkTally struct {
	w          *WalkResult
	pid, chunk int
	next       int // index of the record expected next
	chunkStart time.Time
}

func newWalkTally(w *WalkResult, pid, chunk int, start time.Time) *walkTally {
	return &walkTally{w: w, pid: pid, chunk: chunk, chunkStart: start}
}

// add takes the next record's id; false (with w.Problem set) when it is
// not the one expected.
func (t *walkTally) add(id string) bool {
	if want := walkID(t.next); id != want {
		t.w.Problem = fmt.Sprintf("record %d: got id %s, want %s (missing or repeated record)", t.next, id, want)
		return false
	}
	t.next++
	if t.next%t.chunk == 0 {
		now := time.Now()
		t.w.PerChunk = append(t.w.PerChunk, now.Sub(t.chunkStart))
		rss, _, _ := ProcMem(t.pid)
		t.w.RSS = append(t.w.RSS, rss)
		t.chunkStart = now
	}
	return true
}

// done records the walk's time and record count once the last page came
// in; false (with w.Problem set) when records are missing at the end.
func (t *walkTally) done(start time.Time, want int, what string) bool {
	t.w.Took = time.Since(start)
	t.w.Records = t.next
	t.w.OK = t.next == want
	if !t.w.OK {
		t.w.Problem = fmt.Sprintf("%s ended after %d records, want %d", what, t.next, want)
	}
	return t.w.OK
}
