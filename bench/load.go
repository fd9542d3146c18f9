package bench

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Sample is the outcome of load slices: every call's latency, errors and
// the wall time spent.
type Sample struct {
	Lat      []time.Duration // one per finished call (open loop: from its intended start)
	Calls    int64           // calls measured (with or without error)
	Issued   int64           // every call made, warm-up included (to divide upstream counts by)
	Errors   int64
	Unsent   int64         // open loop: calls due but not started when the slice ended
	Elapsed  time.Duration // measured wall time
	FirstErr string
	Offered  float64 // open loop: requested rate (req/s)
}

// Add merges o into s.
func (s *Sample) Add(o Sample) {
	s.Lat = append(s.Lat, o.Lat...)
	s.Calls += o.Calls
	s.Issued += o.Issued
	s.Errors += o.Errors
	s.Unsent += o.Unsent
	s.Elapsed += o.Elapsed
	if s.FirstErr == "" {
		s.FirstErr = o.FirstErr
	}
	if o.Offered > 0 {
		s.Offered = o.Offered
	}
}

// Throughput is successful calls per second.
func (s *Sample) Throughput() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Calls-s.Errors) / s.Elapsed.Seconds()
}

// Percentile returns the q-quantile (0..1) of the latencies (nearest rank).
func (s *Sample) Percentile(q float64) time.Duration {
	if len(s.Lat) == 0 {
		return 0
	}
	if !slices.IsSorted(s.Lat) {
		slices.Sort(s.Lat)
	}
	i := int(q*float64(len(s.Lat))+0.5) - 1
	i = max(0, min(i, len(s.Lat)-1))
	return s.Lat[i]
}

type errRecorder struct {
	n     atomic.Int64
	once  sync.Once
	first string
}

func (e *errRecorder) record(err error) {
	e.n.Add(1)
	e.once.Do(func() { e.first = err.Error() })
}

// ClosedLoop runs workers goroutines that each call again as soon as the
// previous call returns, for d after a warm-up of warm (not recorded).
func ClosedLoop(ctx context.Context, call Call, workers int, warm, d time.Duration) Sample {
	var (
		mu     sync.Mutex
		lat    = make([]time.Duration, 0, 4096)
		calls  atomic.Int64
		issued atomic.Int64
		errs   errRecorder
		wg     sync.WaitGroup
	)
	start := time.Now()
	measureFrom := start.Add(warm)
	end := measureFrom.Add(d)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				err := call(ctx)
				t1 := time.Now()
				issued.Add(1)
				if t0.Before(measureFrom) || t1.After(end) {
					continue // warm-up, or finished after the window closed
				}
				calls.Add(1)
				if err != nil {
					errs.record(err)
					continue
				}
				local = append(local, t1.Sub(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return Sample{Lat: lat, Calls: calls.Load(), Issued: issued.Load(), Errors: errs.n.Load(), FirstErr: errs.first, Elapsed: d}
}

// OpenLoop starts calls at a fixed rate for d, whatever the latency of
// earlier calls, and measures each call's latency from the moment it was
// due, not from when it actually started: a stalled server delays the
// calls queued behind it, and that wait is counted (no coordinated
// omission). At most maxInFlight calls run at once; calls due while that
// many are running wait for a slot (their wait counts). Calls still
// waiting when the slice ends are recorded with their wait so far, and
// counted as Unsent.
func OpenLoop(ctx context.Context, call Call, rate float64, maxInFlight int, warm, d time.Duration) Sample {
	interval := time.Duration(float64(time.Second) / rate)
	var (
		mu     sync.Mutex
		lat    = make([]time.Duration, 0, int(rate*d.Seconds())+16)
		calls  atomic.Int64
		issued atomic.Int64
		errs   errRecorder
		wg     sync.WaitGroup
		slots  = make(chan struct{}, maxInFlight)
	)
	start := time.Now()
	measureFrom := start.Add(warm)
	end := measureFrom.Add(d)
	var unsent int64
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if !due.Before(end) || ctx.Err() != nil {
			break
		}
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		measured := !due.Before(measureFrom)
		select {
		case slots <- struct{}{}:
		case <-time.After(time.Until(end)):
			// The window closed while this call waited for a slot: it and
			// every later due call count with their wait so far.
			now := time.Now()
			mu.Lock()
			for j := i; ; j++ {
				dj := start.Add(time.Duration(j) * interval)
				if !dj.Before(end) {
					break
				}
				if !dj.Before(measureFrom) {
					lat = append(lat, now.Sub(dj))
					unsent++
				}
			}
			mu.Unlock()
			wg.Wait()
			return Sample{Lat: lat, Calls: calls.Load(), Issued: issued.Load(), Errors: errs.n.Load(), FirstErr: errs.first, Unsent: unsent, Elapsed: d, Offered: rate}
		}
		wg.Add(1)
		go func(due time.Time, measured bool) {
			defer wg.Done()
			err := call(ctx)
			t1 := time.Now()
			<-slots
			issued.Add(1)
			if !measured {
				return
			}
			calls.Add(1)
			if err != nil {
				errs.record(err)
				return
			}
			mu.Lock()
			lat = append(lat, t1.Sub(due))
			mu.Unlock()
		}(due, measured)
	}
	wg.Wait()
	return Sample{Lat: lat, Calls: calls.Load(), Issued: issued.Load(), Errors: errs.n.Load(), FirstErr: errs.first, Unsent: unsent, Elapsed: d, Offered: rate}
}
