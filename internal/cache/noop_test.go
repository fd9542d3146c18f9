package cache_test

import (
	"errors"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
)

func TestNoop(t *testing.T) {
	var c cache.Cache = cache.Noop{}
	ctx := t.Context()
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Set = %v", err)
	}
	if v, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrMiss) || v != nil {
		t.Errorf("Get after Set = %q, %v; want nil, ErrMiss", v, err)
	}
	if err := c.Set(ctx, "k", []byte("v"), 0); err == nil {
		t.Error("Set with ttl 0 = nil, want an error")
	}
	if err := c.Delete(ctx, "k", "absent"); err != nil {
		t.Errorf("Delete = %v", err)
	}
	if err := c.Delete(ctx); err != nil {
		t.Errorf("Delete() = %v", err)
	}
}
