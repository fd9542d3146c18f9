package upstream

import (
	"net/http"
	"strconv"
	"testing"
)

// The canonical keys looked up directly must be the canonical forms of
// the header names (what http.Header.Get would look up).
func TestRateLimitHeaderKeysCanonical(t *testing.T) {
	for name, key := range map[string]string{
		HeaderRateLimitMax:            keyRateLimitMax,
		HeaderRateLimitRemaining:      keyRateLimitRemaining,
		HeaderRateLimitInterval:       keyRateLimitInterval,
		HeaderRateLimitDaily:          keyRateLimitDaily,
		HeaderRateLimitDailyRemaining: keyRateLimitDailyRemaining,
	} {
		if c := http.CanonicalHeaderKey(name); c != key {
			t.Errorf("key of %s = %q, canonical %q", name, key, c)
		}
	}
}

func TestStatusText(t *testing.T) {
	for code := 0; code < 1000; code++ {
		if got, want := statusText(code), strconv.Itoa(code); got != want {
			t.Errorf("statusText(%d) = %q", code, got)
		}
	}
}
