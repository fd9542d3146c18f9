package oauth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/oauth"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/store"
)

// expired is a stored expiry in the past: the next Token refreshes.
func expired() time.Time { return time.Now().Add(-time.Minute) }

// fresh is a stored expiry well beyond the default skew.
func fresh() time.Time { return time.Now().Add(time.Hour) }

func wantNoReuse(t *testing.T, w *world) {
	t.Helper()
	if n := w.fake.RefreshTokenReuses(); n != 0 {
		t.Errorf("the fake saw %d use(s) of a spent refresh token", n)
	}
}

// TestSingleRefreshAcrossReplicas: three replicas (own store pools, own
// in-process caches, so the database lease is all that coordinates them),
// 40 callers each, an expired token: one refresh at GHL, one new token for
// everyone, the rotated refresh token stored.
func TestSingleRefreshAcrossReplicas(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, dbURL string) {
		w := newWorld(t, dbURL, expired())
		w.fake.SetTokenLatency(100 * time.Millisecond) // a wide window for races
		var reps []*replica
		for range 3 {
			reps = append(reps, w.replica(t, replicaOptions{}))
		}
		var wg sync.WaitGroup
		got := make(chan string, 120)
		errs := make(chan error, 120)
		for _, r := range reps {
			for range 40 {
				wg.Go(func() {
					tok, err := r.token(context.Background(), w, "")
					if err != nil {
						errs <- err
						return
					}
					got <- tok
				})
			}
		}
		wg.Wait()
		close(got)
		close(errs)
		for err := range errs {
			t.Errorf("Token: %v", err)
		}
		tokens := map[string]bool{}
		for tok := range got {
			tokens[tok] = true
		}
		if len(tokens) != 1 || tokens[w.at] {
			t.Errorf("callers got %d distinct tokens (old one among them: %v), want one new token", len(tokens), tokens[w.at])
		}
		if s := w.fake.OAuthStats(); s.Refreshes != 1 || s.RefusedGrants != 0 {
			t.Errorf("fake stats %+v, want exactly one refresh", s)
		}
		wantNoReuse(t, w)
		c := w.stored(t)
		if c.Credentials[oauth.CredRefreshToken] == w.rt || c.Credentials[oauth.CredRefreshToken] == "" {
			t.Errorf("the rotated refresh token was not stored")
		}
		if _, ok := c.Settings[oauth.SettingRefreshLease]; ok || c.Status != store.ConnectionActive {
			t.Errorf("after the refresh: status %q, settings %v", c.Status, c.Settings)
		}
		for tok := range tokens {
			if w.fake.AccessTokenLocation(tok) != w.location {
				t.Errorf("the new access token does not work at the fake")
			}
			if c.Credentials[oauth.CredAccessToken] != tok {
				t.Errorf("the stored access token is not the one handed out")
			}
		}
		// Warm: the next calls are served from the cache, no refresh.
		for _, r := range reps {
			if _, err := r.token(context.Background(), w, ""); err != nil {
				t.Fatal(err)
			}
		}
		if n := w.fake.OAuthStats().Refreshes; n != 1 {
			t.Errorf("%d refreshes after warm calls", n)
		}
	})
}

// TestRejectedTokenRefreshesOnce: GHL refused a token that looked fresh
// (401); every replica's callers report it; one refresh.
func TestRejectedTokenRefreshesOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, postgresURL(t), fresh())
	w.fake.ExpireAccessTokens()
	w.fake.SetTokenLatency(50 * time.Millisecond)
	var wg sync.WaitGroup
	var failures atomic.Int32
	var reps []*replica
	for range 3 {
		r := w.replica(t, replicaOptions{})
		if tok, err := r.token(context.Background(), w, ""); err != nil || tok != w.at {
			t.Fatalf("before the 401: %v (same token: %v)", err, tok == w.at)
		}
		reps = append(reps, r)
	}
	for _, r := range reps {
		for range 20 {
			wg.Go(func() {
				tok, err := r.token(context.Background(), w, w.at)
				if err != nil || tok == w.at {
					failures.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Errorf("%d callers got no new token", failures.Load())
	}
	if n := w.fake.OAuthStats().Refreshes; n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	wantNoReuse(t, w)
}

func wantNeedsReauth(t *testing.T, err error, connID string) {
	t.Helper()
	var ae *apierr.Error
	if !errors.Is(err, oauth.ErrNeedsReauth) || !errors.As(err, &ae) || ae.Code != codes.FailedPrecondition || !strings.Contains(ae.Message, connID) {
		t.Fatalf("err = %v, want FAILED_PRECONDITION needs re-authorisation naming %s", err, connID)
	}
}

// TestInvalidGrantNeedsReauth: an uninstalled app's refresh token is
// refused: the connection becomes needs_reauth and is not refreshed again.
func TestInvalidGrantNeedsReauth(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqliteURL(t), expired())
	w.fake.RevokeInstall(w.clientID, w.location)
	r := w.replica(t, replicaOptions{})
	_, err := r.token(context.Background(), w, "")
	wantNeedsReauth(t, err, w.conn.ID)
	c := w.stored(t)
	if c.Status != store.ConnectionNeedsReauth || !strings.Contains(c.StatusMessage, "invalid_grant") {
		t.Errorf("stored status %q %q", c.Status, c.StatusMessage)
	}
	for range 3 {
		_, err = w.replica(t, replicaOptions{}).token(context.Background(), w, "")
		wantNeedsReauth(t, err, w.conn.ID)
	}
	if s := w.fake.OAuthStats(); s.RefusedGrants != 1 || s.Refreshes != 0 {
		t.Errorf("fake stats %+v: want one refused refresh and no more attempts", s)
	}
}

// TestCrashBetweenAnswerAndStore: replica A gets GHL's answer (the old
// refresh token is now spent) and dies before the store write. Its lease
// keeps the others waiting until it expires; then B takes over, presents
// the old refresh token, GHL refuses it, and the connection becomes
// needs_reauth with a message naming the interrupted refresh — a clear 4xx,
// never a loop of refreshes. This is the one window the design cannot
// close (see doc.go); the fake counts the one reuse it implies.
func TestCrashBetweenAnswerAndStore(t *testing.T) {
	t.Parallel()
	w := newWorld(t, postgresURL(t), expired())
	dead := make(chan struct{})
	crashed := make(chan struct{}, 1)
	hs := &hookStore{Store: w.store(t), onGrantWrite: func(store.Connection) error {
		crashed <- struct{}{}
		<-dead // the process is gone: it never writes
		return errors.New("process died")
	}}
	const lease = 600 * time.Millisecond
	a := w.replica(t, replicaOptions{store: hs, lease: lease})
	aDone := make(chan struct{})
	go func() {
		defer close(aDone)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _ = a.token(ctx, w, "")
	}()
	select {
	case <-crashed:
	case <-time.After(10 * time.Second):
		t.Fatal("replica A never got to store its grant")
	}
	if n := w.fake.OAuthStats().Refreshes; n != 1 {
		t.Fatalf("%d refreshes before the crash", n)
	}

	b := w.replica(t, replicaOptions{lease: lease})
	start := time.Now()
	_, err := b.token(context.Background(), w, "")
	wantNeedsReauth(t, err, w.conn.ID)
	if waited := time.Since(start); waited < lease/2 {
		t.Errorf("B took over after %v, before A's lease ran out", waited)
	}
	c := w.stored(t)
	if c.Status != store.ConnectionNeedsReauth || !strings.Contains(c.StatusMessage, "did not finish") {
		t.Errorf("stored status %q %q, want needs_reauth naming the interrupted refresh", c.Status, c.StatusMessage)
	}
	if n := w.fake.RefreshTokenReuses(); n != 1 {
		t.Errorf("fake saw %d reuses, want exactly the one the crash implies", n)
	}
	// Nobody tries again.
	_, err = w.replica(t, replicaOptions{lease: lease}).token(context.Background(), w, "")
	wantNeedsReauth(t, err, w.conn.ID)
	if s := w.fake.OAuthStats(); s.Refreshes != 1 || s.RefusedGrants != 1 {
		t.Errorf("fake stats %+v", s)
	}
	close(dead)
	<-aDone
}

// TestStoreFailureRetried: the store fails the first writes of the new
// grant; the refresh is not lost and not repeated.
func TestStoreFailureRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t, postgresURL(t), expired())
	var fails atomic.Int32
	hs := &hookStore{Store: w.store(t), onGrantWrite: func(store.Connection) error {
		if fails.Add(1) <= 3 {
			return errors.New("connection reset by peer")
		}
		return nil
	}}
	r := w.replica(t, replicaOptions{store: hs, lease: 5 * time.Second})
	tok, err := r.token(context.Background(), w, "")
	if err != nil || tok == w.at {
		t.Fatalf("Token: %v", err)
	}
	if c := w.stored(t); c.Credentials[oauth.CredAccessToken] != tok || c.Credentials[oauth.CredRefreshToken] == w.rt {
		t.Errorf("the grant was not stored")
	}
	if n := w.fake.OAuthStats().Refreshes; n != 1 {
		t.Errorf("%d refreshes", n)
	}
	wantNoReuse(t, w)
}

// TestStoreDownKeepsGrant: the store fails for longer than the lease; the
// grant is kept in memory and stored by the next attempt, which does not
// spend the refresh token again.
func TestStoreDownKeepsGrant(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqliteURL(t), expired())
	var down atomic.Bool
	down.Store(true)
	hs := &hookStore{Store: w.store(t), onGrantWrite: func(store.Connection) error {
		if down.Load() {
			return errors.New("database is restarting")
		}
		return nil
	}}
	const lease = 400 * time.Millisecond
	r := w.replica(t, replicaOptions{store: hs, lease: lease})
	if _, err := r.token(context.Background(), w, ""); err == nil {
		t.Fatal("Token succeeded with the store down")
	}
	down.Store(false)
	time.Sleep(lease) // the lease of the failed attempt runs out
	tok, err := r.token(context.Background(), w, "")
	if err != nil {
		t.Fatalf("Token after the store came back: %v", err)
	}
	if w.fake.AccessTokenLocation(tok) != w.location || w.stored(t).Credentials[oauth.CredAccessToken] != tok {
		t.Errorf("the kept grant was not stored")
	}
	if n := w.fake.OAuthStats().Refreshes; n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	wantNoReuse(t, w)
}

// TestCallerGivingUpDoesNotAbortRefresh: the request that started a
// refresh ends before GHL answers; the refresh still completes and is
// stored.
func TestCallerGivingUpDoesNotAbortRefresh(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqliteURL(t), expired())
	w.fake.SetTokenLatency(300 * time.Millisecond)
	r := w.replica(t, replicaOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.token(ctx, w, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for w.stored(t).Credentials[oauth.CredRefreshToken] == w.rt {
		if time.Now().After(deadline) {
			t.Fatal("the refresh was not stored after its caller left")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.fake.SetTokenLatency(0)
	if _, err := r.token(context.Background(), w, ""); err != nil {
		t.Fatal(err)
	}
	if n := w.fake.OAuthStats().Refreshes; n != 1 {
		t.Errorf("%d refreshes", n)
	}
	wantNoReuse(t, w)
}

// TestReinstallDuringRefresh: the owner re-installs while a refresh runs;
// the re-install's credentials win and the refresh's grant is dropped.
func TestReinstallDuringRefresh(t *testing.T) {
	t.Parallel()
	w := newWorld(t, postgresURL(t), expired())
	at2, rt2 := w.fake.IssueTokens(w.clientID, ghlfake.Install{LocationID: w.location})
	st := w.store(t)
	r := w.replica(t, replicaOptions{})
	refresh := func(ctx context.Context, cur oauth.Current) (oauth.Grant, error) {
		g, err := r.refresh(ctx, cur)
		// Meanwhile the callback stores the re-install.
		c, gerr := st.GetConnection(ctx, w.org, w.conn.ID)
		if gerr != nil {
			return g, gerr
		}
		c.Credentials = map[string]string{oauth.CredAccessToken: at2, oauth.CredRefreshToken: rt2}
		c.Settings[oauth.SettingExpiresAt] = oauth.FormatExpiry(fresh())
		delete(c.Settings, oauth.SettingRefreshLease)
		if _, uerr := st.UpdateConnection(ctx, c); uerr != nil {
			return g, uerr
		}
		return g, err
	}
	tok, err := r.mgr.Token(context.Background(), w.ref(), refresh, "")
	if err != nil || tok != at2 {
		t.Fatalf("Token = (same as re-install: %v), %v; want the re-install's token", tok == at2, err)
	}
	if c := w.stored(t); c.Credentials[oauth.CredRefreshToken] != rt2 || c.Status != store.ConnectionActive {
		t.Errorf("stored credentials are not the re-install's")
	}
}

// TestProactiveRefreshServesOldTokenMeanwhile: while one replica refreshes
// a token that is due but not expired, the others keep using it instead of
// waiting.
func TestProactiveRefreshServesOldTokenMeanwhile(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqliteURL(t), time.Now().Add(2*time.Minute)) // within the default 5m skew
	w.fake.SetTokenLatency(time.Second)
	a, b := w.replica(t, replicaOptions{}), w.replica(t, replicaOptions{})
	done := make(chan string)
	go func() {
		tok, _ := a.token(context.Background(), w, "")
		done <- tok
	}()
	// Wait for A's lease to be visible.
	for w.stored(t).Settings[oauth.SettingRefreshLease] == "" {
		time.Sleep(5 * time.Millisecond)
	}
	tok, err := b.token(context.Background(), w, "")
	if err != nil || tok != w.at {
		t.Errorf("B during A's refresh: old token %v, %v", tok == w.at, err)
	}
	var newTok string
	select {
	case newTok = <-done:
		t.Error("B waited for A's refresh")
	default:
		newTok = <-done
	}
	if newTok == w.at || newTok == "" {
		t.Errorf("A did not get a new token")
	}
	wantNoReuse(t, w)
}

// TestCachedTokenEncrypted: the access token is cached encrypted, and a
// warm Token call does not read the store.
func TestCachedTokenEncrypted(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sqliteURL(t), fresh())
	mem := cache.NewMemory(100)
	counting := &countingStore{Store: w.store(t)}
	r := w.replica(t, replicaOptions{store: counting, cache: mem})
	if _, err := r.token(context.Background(), w, ""); err != nil {
		t.Fatal(err)
	}
	raw, err := mem.Get(context.Background(), "oauth:token:"+w.conn.ID)
	if err != nil || strings.Contains(string(raw), w.at) {
		t.Fatalf("cached value: %v (plain token inside: %v)", err, strings.Contains(string(raw), w.at))
	}
	before := counting.gets.Load()
	for range 10 {
		if tok, err := r.token(context.Background(), w, ""); err != nil || tok != w.at {
			t.Fatal(err)
		}
	}
	if n := counting.gets.Load() - before; n != 0 {
		t.Errorf("warm calls read the store %d times", n)
	}
}

type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (c *countingStore) GetConnection(ctx context.Context, orgID, id string) (store.Connection, error) {
	c.gets.Add(1)
	return c.Store.GetConnection(ctx, orgID, id)
}
