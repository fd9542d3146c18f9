package oauth_test

import (
	"context"
	"sync"
	"testing"
)

type refreshes struct {
	mu  sync.Mutex
	got []string
}

func (r *refreshes) TokenRefresh(_ context.Context, result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, result)
}

func (r *refreshes) results() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// TestObserverSeesRefreshes: a refresh that works is "ok", a refused one
// (the app was uninstalled) "failed"; a fresh cached token is no refresh.
func TestObserverSeesRefreshes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqliteURL(t), expired())
	obs := &refreshes{}
	r := w.replica(t, replicaOptions{obs: obs})
	for range 2 {
		if _, err := r.token(context.Background(), w, ""); err != nil {
			t.Fatal(err)
		}
	}
	if got := obs.results(); len(got) != 1 || got[0] != "ok" {
		t.Fatalf("after one refresh and one cached token: %q, want [ok]", got)
	}

	w2 := newWorld(t, sqliteURL(t), expired())
	w2.fake.RevokeInstall(w2.clientID, w2.location)
	obs2 := &refreshes{}
	if _, err := w2.replica(t, replicaOptions{obs: obs2}).token(context.Background(), w2, ""); err == nil {
		t.Fatal("want the refused refresh's error")
	}
	if got := obs2.results(); len(got) != 1 || got[0] != "failed" {
		t.Errorf("after a refused refresh: %q, want [failed]", got)
	}
}
