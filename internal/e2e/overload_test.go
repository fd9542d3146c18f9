package e2e

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

// Over GATEWAY_MAX_IN_FLIGHT a call is refused with 503 GATEWAY_OVERLOADED
// (a gateway error, retryable) instead of queueing without bound; the calls
// admitted meanwhile succeed, and once they are done calls are admitted again.
func TestOverloadShedsWithRetryable503(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	g := newGateway(t, gwOptions{env: map[string]string{
		"GATEWAY_MAX_IN_FLIGHT":        "2",
		"GATEWAY_IN_FLIGHT_QUEUE_WAIT": "0s",
	}})
	tn := g.newTenant(t, f, "org-overload", 3)
	h := hdr(tn.key, tn.connID)
	path := crmBase + "/custom_objects/pet?page_size=3"
	if r := g.do(t, "GET", path, h, nil); r.status != http.StatusOK {
		t.Fatalf("warm-up: %d %s", r.status, r.raw)
	}

	// Every GHL answer now takes 300ms, so two calls hold both slots.
	f.SetFaults(ghlfake.FaultConfig{RateSlow: 1, SlowDelay: 300 * time.Millisecond, Seed: 1})
	var wg sync.WaitGroup
	slow := make([]response, 2)
	for i := range slow {
		wg.Add(1)
		go func() { defer wg.Done(); slow[i] = g.do(t, "GET", path, h, nil) }()
	}
	time.Sleep(100 * time.Millisecond) // both slow calls are in flight
	r := g.doAllow5xx(t, "GET", path, h, nil)
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("third call: %d %s, want 503", r.status, r.raw)
	}
	d, _ := r.body["details"].(map[string]any)
	if d["reason"] != "GATEWAY_OVERLOADED" || d["origin"] != "gateway" {
		t.Fatalf("overload answer details: %s", r.raw)
	}
	wg.Wait()
	for i, s := range slow {
		if s.status != http.StatusOK {
			t.Fatalf("admitted call %d: %d %s", i, s.status, s.raw)
		}
	}
	f.SetFaults(ghlfake.FaultConfig{})
	if r := g.do(t, "GET", path, h, nil); r.status != http.StatusOK {
		t.Fatalf("after the overload: %d %s", r.status, r.raw)
	}
}
