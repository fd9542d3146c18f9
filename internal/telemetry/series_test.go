package telemetry

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
)

// observeRPCByVectors and the two below record as Metrics did before its
// series cache: two label resolutions in the vectors per observation.
func observeRPCByVectors(m *Metrics, transport, fullMethod, code string, d time.Duration) {
	svc, meth := splitMethod(fullMethod)
	m.rpcRequests.WithLabelValues(transport, svc, meth, code).Inc()
	m.rpcDuration.WithLabelValues(transport, svc, meth, code).Observe(d.Seconds())
}

func observeHTTPByVectors(m *Metrics, method, route string, status int, d time.Duration) {
	s := statusLabel(status)
	m.httpRequests.WithLabelValues(method, route, s).Inc()
	m.httpDuration.WithLabelValues(method, route, s).Observe(d.Seconds())
}

func upstreamAttemptByVectors(m *Metrics, provider, endpoint, status string, d time.Duration) {
	m.upstreamCalls.WithLabelValues(provider, endpoint, status).Inc()
	m.upstreamDuration.WithLabelValues(provider, endpoint, status).Observe(d.Seconds())
}

// exposition renders the named families of m's registry.
func exposition(t *testing.T, m *Metrics, names ...string) string {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if want[f.GetName()] {
			if err := enc.Encode(f); err != nil {
				t.Fatal(err)
			}
			delete(want, f.GetName())
		}
	}
	if len(want) > 0 {
		t.Fatalf("families not gathered: %v", want)
	}
	return buf.String()
}

// TestSeriesCacheRecordsAsVectors: ObserveRPC, ObserveHTTP and
// UpstreamAttempt record exactly what two WithLabelValues per
// observation recorded (same series, counts, buckets and sums).
func TestSeriesCacheRecordsAsVectors(t *testing.T) {
	cached, direct := NewMetrics(), NewMetrics()
	ctx := context.Background()
	methods := []string{"/crmgate.crm.v1.CrmService/GetRecord", "/crmgate.core.v1.CoreService/Ping", "NoSlash", "/a/b/c", ""}
	codes := []string{"OK", "NotFound", "Internal"}
	statuses := []int{200, 404, 503, 0, 42, 99, 100, 999, 1000, -1}
	durations := []time.Duration{0, 300 * time.Microsecond, 7 * time.Millisecond, 2 * time.Second, time.Minute}
	for i := range 3 * len(methods) * len(codes) * len(statuses) * len(durations) {
		d := durations[i%len(durations)]
		meth, code, st := methods[i%len(methods)], codes[i%len(codes)], statuses[i%len(statuses)]
		transport := []string{"grpc", "rest"}[i%2]
		cached.ObserveRPC(transport, meth, code, d)
		observeRPCByVectors(direct, transport, meth, code, d)
		cached.ObserveHTTP("GET", "/v1/{x}", st, d)
		observeHTTPByVectors(direct, "GET", "/v1/{x}", st, d)
		cached.UpstreamAttempt(ctx, "ghl", meth, code, d)
		upstreamAttemptByVectors(direct, "ghl", meth, code, d)
	}
	names := []string{
		"crmgate_rpc_requests_total", "crmgate_rpc_duration_seconds",
		"crmgate_http_requests_total", "crmgate_http_request_duration_seconds",
		"crmgate_upstream_requests_total", "crmgate_upstream_request_duration_seconds",
	}
	got, want := exposition(t, cached, names...), exposition(t, direct, names...)
	if got != want {
		t.Errorf("cached series recorded\n%s\nwant (vectors)\n%s", got, want)
	}
	// Out-of-range statuses share one cache entry as they share one series.
	if n := len(*cached.https.series.Load()); n != 6 {
		t.Errorf("%d HTTP cache entries, want 6 (5 valid statuses and other)", n)
	}
}

// TestSeriesCacheConcurrent: concurrent first observations of the same
// and different label sets lose none (run with -race).
func TestSeriesCacheConcurrent(t *testing.T) {
	m := NewMetrics()
	const goroutines, each = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				m.ObserveRPC("grpc", fmt.Sprintf("/s/M%d", (g+i)%5), "OK", time.Millisecond)
			}
		})
	}
	wg.Wait()
	var total float64
	for i := range 5 {
		total += testutilCounter(t, m, fmt.Sprintf("M%d", i))
	}
	if total != goroutines*each {
		t.Errorf("recorded %v calls, want %d", total, goroutines*each)
	}
}

func testutilCounter(t *testing.T, m *Metrics, method string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "crmgate_rpc_requests_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "method" && l.GetValue() == method {
					return s.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func BenchmarkObserveRPC(b *testing.B) {
	m := NewMetrics()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRPC("grpc", "/crmgate.crm.v1.CrmService/GetRecord", "OK", 3*time.Millisecond)
		}
	})
}

func BenchmarkObserveHTTP(b *testing.B) {
	m := NewMetrics()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveHTTP("GET", "/v1/records/{object}/{id}", 200, 3*time.Millisecond)
		}
	})
}

func BenchmarkUpstreamAttempt(b *testing.B) {
	m := NewMetrics()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.UpstreamAttempt(ctx, "ghl", "GET /objects/{key}", "200", 3*time.Millisecond)
		}
	})
}
