package server

import (
	"testing"
	"time"
)

func TestGRPCTimeout(t *testing.T) {
	for v, want := range map[string]time.Duration{"5S": 5 * time.Second, "100m": 100 * time.Millisecond, "1H": time.Hour, "2M": 2 * time.Minute, "7u": 7 * time.Microsecond, "9n": 9, "12345678S": 12345678 * time.Second} {
		if d, ok := grpcTimeout(v); !ok || d != want {
			t.Errorf("grpcTimeout(%q) = %v, %v; want %v", v, d, ok, want)
		}
	}
	for _, v := range []string{"", "S", "5", "5s", "-1S", "5X", "123456789S", "1.5S"} {
		if d, ok := grpcTimeout(v); ok {
			t.Errorf("grpcTimeout(%q) = %v, want refused", v, d)
		}
	}
}
