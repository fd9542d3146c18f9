package idempotency_test

import (
	"context"
	"sync"
	"testing"

	"github.com/crmgate/crmgate/internal/idempotency"
)

type replays struct {
	mu  sync.Mutex
	got []string
}

func (r *replays) IdempotentReplay(_ context.Context, method string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, method)
}

// TestObserverSeesReplays: the first call runs, the repeats are replays,
// each reported once with its method; a mismatch is no replay.
func TestObserverSeesReplays(t *testing.T) {
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		obs := &replays{}
		ic := idempotency.New(s, methods, nil, idempotency.Options{Observer: obs}).Unary()
		h := &handler{}
		ctx := callCtx("org1", "conn_a", "key-obs")
		for range 3 {
			if _, err := ic(ctx, createReq("Rex"), info, h.handle); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ic(ctx, createReq("Other"), info, h.handle); err == nil {
			t.Fatal("want a mismatch")
		}
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if len(obs.got) != 2 || obs.got[0] != method || obs.got[1] != method {
			t.Errorf("replays = %q, want two of %s", obs.got, method)
		}
	})
}
