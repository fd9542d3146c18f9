// Package cachetest holds the contract suite every cache.Cache backend must
// pass.
package cachetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
)

// Expiry timing. shortTTL is what expiring entries get; expiry must be seen
// within expiryDeadline (generous, for loaded CI machines running -race).
const (
	shortTTL       = 100 * time.Millisecond
	longTTL        = time.Minute
	expiryDeadline = 5 * time.Second
	pollEvery      = 10 * time.Millisecond
)

// RunContractTests runs the Cache contract as subtests of t. newCache is
// called once per subtest, with the subtest's t, and must return an empty
// cache that no other subtest uses; it should register any cleanup with
// t.Cleanup.
func RunContractTests(t *testing.T, newCache func(t *testing.T) cache.Cache) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c cache.Cache)
	}{
		{"Miss", testMiss},
		{"SetGet", testSetGet},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"RejectsNonPositiveTTL", testBadTTL},
		{"TTLExpiry", testTTLExpiry},
		{"OverwriteResetsTTL", testOverwriteResetsTTL},
		{"ValueIsolation", testValueIsolation},
		{"Concurrent", testConcurrent},
		{"BinaryValuesAndKeys", testBinary},
		{"LargeValue", testLarge},
		{"EmptyValue", testEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newCache(t))
		})
	}
}

func testMiss(t *testing.T, c cache.Cache) {
	mustMiss(t, c, "absent")
}

func testSetGet(t *testing.T, c cache.Cache) {
	mustSet(t, c, "k", []byte("v"), longTTL)
	mustGet(t, c, "k", []byte("v"))
	mustMiss(t, c, "k2") // a similar key is unaffected
}

func testOverwrite(t *testing.T, c cache.Cache) {
	mustSet(t, c, "k", []byte("first, longer value"), longTTL)
	mustSet(t, c, "k", []byte("second"), longTTL)
	mustGet(t, c, "k", []byte("second"))
}

func testDelete(t *testing.T, c cache.Cache) {
	ctx := t.Context()
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, c, k, []byte("v"+k), longTTL)
	}
	if err := c.Delete(ctx, "a", "absent", "b"); err != nil {
		t.Fatalf("Delete(a, absent, b) = %v", err)
	}
	mustMiss(t, c, "a")
	mustMiss(t, c, "b")
	mustGet(t, c, "c", []byte("vc"))
	if err := c.Delete(ctx, "absent"); err != nil {
		t.Errorf("Delete(absent) = %v", err)
	}
	if err := c.Delete(ctx); err != nil {
		t.Errorf("Delete() = %v", err)
	}
	if err := c.Delete(ctx, "c"); err != nil {
		t.Errorf("Delete(c) = %v", err)
	}
	mustMiss(t, c, "c")
}

func testBadTTL(t *testing.T, c cache.Cache) {
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := c.Set(t.Context(), "k", []byte("v"), ttl); err == nil {
			t.Errorf("Set with ttl %v = nil, want an error", ttl)
		}
	}
	mustMiss(t, c, "k")
}

func testTTLExpiry(t *testing.T, c cache.Cache) {
	start := time.Now()
	mustSet(t, c, "short", []byte("s"), shortTTL)
	mustSet(t, c, "long", []byte("l"), longTTL)
	v, err := c.Get(t.Context(), "short")
	// Only demand the hit if the machine was quick enough to be sure.
	if time.Since(start) < shortTTL/2 && (err != nil || string(v) != "s") {
		t.Fatalf("Get(short) right after Set = %q, %v; want a hit", v, err)
	}
	waitMiss(t, c, "short")
	if d := time.Since(start); d < shortTTL {
		t.Errorf("short entry expired after %v, before its ttl %v", d, shortTTL)
	}
	mustGet(t, c, "long", []byte("l"))
}

func testOverwriteResetsTTL(t *testing.T, c cache.Cache) {
	mustSet(t, c, "k", []byte("old"), shortTTL)
	mustSet(t, c, "marker", []byte("m"), shortTTL)
	mustSet(t, c, "k", []byte("new"), longTTL)
	waitMiss(t, c, "marker") // k's original ttl has passed too
	mustGet(t, c, "k", []byte("new"))
}

func testValueIsolation(t *testing.T, c cache.Cache) {
	in := []byte("original")
	mustSet(t, c, "k", in, longTTL)
	copy(in, "MUTATED!")
	out := mustGet(t, c, "k", []byte("original"))
	copy(out, "CHANGED!")
	mustGet(t, c, "k", []byte("original"))
}

func testConcurrent(t *testing.T, c cache.Cache) {
	const goroutines, iterations = 8, 100
	ctx := t.Context()
	keys := []string{"k0", "k1", "k2", "k3"}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range iterations {
				k := keys[(g+i)%len(keys)]
				switch i % 3 {
				case 0:
					if err := c.Set(ctx, k, fmt.Appendf(nil, "%s=%d/%d", k, g, i), longTTL); err != nil {
						t.Errorf("Set: %v", err)
						return
					}
				case 1:
					v, err := c.Get(ctx, k)
					if err != nil && !errors.Is(err, cache.ErrMiss) {
						t.Errorf("Get: %v", err)
						return
					}
					// A hit must be a whole value written for this key.
					if err == nil && !strings.HasPrefix(string(v), k+"=") {
						t.Errorf("Get(%s) = %q, not a value written for it", k, v)
						return
					}
				case 2:
					if err := c.Delete(ctx, k); err != nil {
						t.Errorf("Delete: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func testBinary(t *testing.T, c cache.Cache) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	values := map[string][]byte{
		"all-bytes":                all,
		"nul\x00key":               []byte("\x00\x00\x00"),
		"spaces and ünïcode *?[]":  []byte("\xff\xfe invalid utf-8 \xc3\x28"),
		"crlf\r\n$3\r\nkey":        []byte("\r\n*1\r\n$4\r\nPING\r\n"),
		strings.Repeat("long", 64): []byte("long key"),
	}
	for k, v := range values {
		mustSet(t, c, k, v, longTTL)
	}
	for k, v := range values {
		mustGet(t, c, k, v)
	}
}

func testLarge(t *testing.T, c cache.Cache) {
	v := make([]byte, 1<<20)
	_, _ = rand.Read(v)
	mustSet(t, c, "large", v, longTTL)
	mustGet(t, c, "large", v)
}

func testEmpty(t *testing.T, c cache.Cache) {
	mustSet(t, c, "empty", []byte{}, longTTL)
	mustSet(t, c, "nil", nil, longTTL)
	for _, k := range []string{"empty", "nil"} {
		v, err := c.Get(t.Context(), k)
		if err != nil || len(v) != 0 {
			t.Errorf("Get(%s) = %q, %v; want an empty hit", k, v, err)
		}
	}
}

func mustSet(t *testing.T, c cache.Cache, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := c.Set(t.Context(), key, value, ttl); err != nil {
		t.Fatalf("Set(%q) = %v", key, err)
	}
}

func mustGet(t *testing.T, c cache.Cache, key string, want []byte) []byte {
	t.Helper()
	v, err := c.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q) = %v, want %s", key, err, abbrev(want))
	}
	if !bytes.Equal(v, want) {
		t.Fatalf("Get(%q) = %s, want %s", key, abbrev(v), abbrev(want))
	}
	return v
}

func mustMiss(t *testing.T, c cache.Cache, key string) {
	t.Helper()
	if v, err := c.Get(t.Context(), key); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get(%q) = %s, %v; want ErrMiss", key, abbrev(v), err)
	}
}

// waitMiss polls until key misses, failing after expiryDeadline.
func waitMiss(t *testing.T, c cache.Cache, key string) {
	t.Helper()
	deadline := time.Now().Add(expiryDeadline)
	for {
		_, err := c.Get(t.Context(), key)
		if errors.Is(err, cache.ErrMiss) {
			return
		}
		if err != nil {
			t.Fatalf("Get(%q) = %v while waiting for expiry", key, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q still present %v after a %v ttl", key, expiryDeadline, shortTTL)
		}
		time.Sleep(pollEvery)
	}
}

// abbrev formats a value for a failure message without dumping 1 MiB.
func abbrev(b []byte) string {
	if len(b) <= 64 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q... (%d bytes)", b[:64], len(b))
}
