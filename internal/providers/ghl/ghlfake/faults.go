package ghlfake

import (
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultConfig makes the fake misbehave like a real SaaS on a bad day. Each
// request that passes authentication and the fake's own rate limit draws
// one fault (or none) with the given probabilities, from a generator seeded
// with Seed, so a sequential test sees the same faults every run. Rates are
// fractions in [0, 1]; their sum should not exceed 1.
type FaultConfig struct {
	// Rate429 answers a burst 429 (X-RateLimit-Remaining: 0, the daily
	// budget left untouched), as HighLevel does when its burst window is
	// full.
	Rate429 float64
	// Rate500 and Rate503 answer 500 Internal Server Error and 503 Service
	// Unavailable.
	Rate500, Rate503 float64
	// RateReset closes the TCP connection abruptly (RST) without an answer.
	RateReset float64
	// RateSlow delays the answer by SlowDelay, then answers normally.
	RateSlow float64
	// RateTimeout never answers: the request hangs until the client gives
	// up (or MaxHang passes, when the connection is reset).
	RateTimeout float64
	// SlowDelay is the delay of a slow answer: 0 means 200ms.
	SlowDelay time.Duration
	// MaxHang bounds a timeout fault for clients that never give up: 0
	// means 30s.
	MaxHang time.Duration
	// Seed seeds the fault generator.
	Seed int64
	// AfterWrite applies reset and timeout faults of writes (POST, PUT and
	// DELETE, record searches excepted) after the write was performed: the
	// record exists, but the client gets no answer — an unknown outcome.
	AfterWrite bool
}

// FaultCounts counts the faults injected since the last SetFaults.
type FaultCounts struct {
	Status429, Status500, Status503 int
	Resets, Slow, Timeouts          int
	// AfterWrite counts the resets and timeouts applied after a write.
	AfterWrite int
}

// Total is the number of faults injected (slow answers included).
func (c FaultCounts) Total() int {
	return c.Status429 + c.Status500 + c.Status503 + c.Resets + c.Slow + c.Timeouts
}

// faultKind is one drawn fault.
type faultKind int

const (
	faultNone faultKind = iota
	fault429
	fault500
	fault503
	faultReset
	faultSlow
	faultTimeout
)

// faultState is the Server's fault injector; its zero value injects none.
type faultState struct {
	mu     sync.Mutex
	cfg    FaultConfig
	rng    *rand.Rand
	counts FaultCounts
}

// SetFaults replaces the fault configuration and resets the counts;
// SetFaults(FaultConfig{}) turns fault injection off.
func (s *Server) SetFaults(cfg FaultConfig) {
	f := &s.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	if cfg.SlowDelay <= 0 {
		cfg.SlowDelay = 200 * time.Millisecond
	}
	if cfg.MaxHang <= 0 {
		cfg.MaxHang = 30 * time.Second
	}
	f.cfg = cfg
	seed := uint64(cfg.Seed)                                     //nolint:gosec // a seed, any bits will do
	f.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) //nolint:gosec // reproducible faults, not secrets
	f.counts = FaultCounts{}
}

// FaultCounts returns the faults injected since the last SetFaults.
func (s *Server) FaultCounts() FaultCounts {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.counts
}

// draw picks the fault of one request.
func (f *faultState) draw() (faultKind, FaultConfig) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng == nil {
		return faultNone, f.cfg
	}
	u := f.rng.Float64()
	c := f.cfg
	for _, k := range []struct {
		kind faultKind
		rate float64
	}{
		{fault429, c.Rate429}, {fault500, c.Rate500}, {fault503, c.Rate503},
		{faultReset, c.RateReset}, {faultSlow, c.RateSlow}, {faultTimeout, c.RateTimeout},
	} {
		if u < k.rate {
			return k.kind, c
		}
		u -= k.rate
	}
	return faultNone, c
}

func (f *faultState) count(k faultKind, afterWrite bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch k {
	case fault429:
		f.counts.Status429++
	case fault500:
		f.counts.Status500++
	case fault503:
		f.counts.Status503++
	case faultReset:
		f.counts.Resets++
	case faultSlow:
		f.counts.Slow++
	case faultTimeout:
		f.counts.Timeouts++
	}
	if afterWrite {
		f.counts.AfterWrite++
	}
}

// isWrite tells whether r changes state (a record search does not).
func isWrite(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost:
		return !strings.HasSuffix(strings.TrimRight(r.URL.Path, "/"), "/search")
	case http.MethodPut, http.MethodDelete, http.MethodPatch:
		return true
	}
	return false
}

// faultBefore runs before the handler. It returns true when it answered (or
// dropped) the request; otherwise the returned fault, if any, is to be
// applied by faultAfter once the write is done.
func (s *Server) faultBefore(w http.ResponseWriter, r *http.Request) (faultKind, bool) {
	kind, cfg := s.faults.draw()
	if kind == faultNone {
		return faultNone, false
	}
	if cfg.AfterWrite && (kind == faultReset || kind == faultTimeout) && isWrite(r) {
		return kind, false
	}
	s.faults.count(kind, false)
	switch kind {
	case fault429:
		w.Header().Set(HeaderRateLimitRemaining, "0")
		writeJSON(w, http.StatusTooManyRequests, messageBody{http.StatusTooManyRequests, "Too Many Requests"})
	case fault500:
		writeJSON(w, http.StatusInternalServerError, messageBody{http.StatusInternalServerError, "Internal server error"})
	case fault503:
		writeJSON(w, http.StatusServiceUnavailable, messageBody{http.StatusServiceUnavailable, "Service Unavailable"})
	case faultReset:
		resetConn(w)
	case faultTimeout:
		hang(w, r, cfg.MaxHang)
	case faultSlow:
		select {
		case <-r.Context().Done():
			return faultNone, true
		case <-time.After(cfg.SlowDelay):
		}
		return faultNone, false
	}
	return faultNone, true
}

// faultAfter applies a fault deferred by faultBefore, after the write; it
// returns true when the answer must not be written.
func (s *Server) faultAfter(w http.ResponseWriter, r *http.Request, kind faultKind) bool {
	switch kind {
	case faultReset:
		s.faults.count(kind, true)
		resetConn(w)
		return true
	case faultTimeout:
		s.faults.count(kind, true)
		s.faults.mu.Lock()
		maxHang := s.faults.cfg.MaxHang
		s.faults.mu.Unlock()
		hang(w, r, maxHang)
		return true
	}
	return false
}

// hang waits until the client gives up, then drops the connection.
func hang(w http.ResponseWriter, r *http.Request, maxHang time.Duration) {
	// Consume the body, so the server watches the connection and cancels
	// r's context when the client gives up.
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBodyBytes))
	t := time.NewTimer(maxHang)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
	}
	resetConn(w)
}

// resetConn closes the client's connection with a TCP RST, answering
// nothing.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 or a recorder: abort the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
