package oauth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/oauth"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/testenv"
)

func sampleState(exp time.Time) oauth.State {
	return oauth.State{
		Purpose: oauth.PurposeAuthorize, OrganisationID: "org_1", CustomerID: "cust-1",
		ConnectorConfigID: "ccfg_ghl_1", ConnectorName: "ghl", ReturnURL: "https://app.example/done?x=1",
		Scopes: []string{"objects/record.readonly"}, ExpiresAt: exp.Unix(),
	}
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	keys := mustKeys(t)
	s := oauth.NewSealer(keys)
	now := time.Now()
	tok, err := s.Seal(sampleState(now.Add(10 * time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"cust-1", "app.example", "ccfg_ghl_1", "org_1"} {
		if strings.Contains(tok, leak) {
			t.Errorf("the sealed state shows %q", leak)
		}
	}
	got, err := s.Open(tok, oauth.PurposeAuthorize, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.CustomerID != "cust-1" || got.ReturnURL != "https://app.example/done?x=1" || len(got.Scopes) != 1 {
		t.Errorf("opened %+v", got)
	}
	again, _ := s.Seal(sampleState(now.Add(10 * time.Minute)))
	if again == tok {
		t.Error("two seals of the same request are equal (no fresh id/nonce)")
	}

	// Expired.
	if _, err := s.Open(tok, oauth.PurposeAuthorize, now.Add(11*time.Minute)); !errors.Is(err, oauth.ErrExpiredState) {
		t.Errorf("expired: %v", err)
	}
	// Another purpose: a connect-page token is no state, and vice versa.
	if _, err := s.Open(tok, oauth.PurposeConnectPage, now); !errors.Is(err, oauth.ErrInvalidState) {
		t.Errorf("wrong purpose: %v", err)
	}
	// Tampering anywhere.
	for i := 0; i < len(tok); i += 7 {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := s.Open(string(b), oauth.PurposeAuthorize, now); !errors.Is(err, oauth.ErrInvalidState) {
			t.Fatalf("tampered at %d: %v", i, err)
		}
	}
	for _, bad := range []string{"", "x", "v1.k1.", strings.Repeat("a", 5000), tok + "x", tok[:len(tok)-2]} {
		if _, err := s.Open(bad, oauth.PurposeAuthorize, now); !errors.Is(err, oauth.ErrInvalidState) {
			t.Errorf("Open(%.20q): %v", bad, err)
		}
	}
	// Another gateway's key (a forgery).
	other := oauth.NewSealer(mustKeys(t))
	forged, _ := other.Seal(sampleState(now.Add(time.Minute)))
	if _, err := s.Open(forged, oauth.PurposeAuthorize, now); !errors.Is(err, oauth.ErrInvalidState) {
		t.Errorf("forged: %v", err)
	}
}

// TestSealKeyRotation: a state sealed before a key rotation opens after it.
func TestSealKeyRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := secrets.GenerateKey(), secrets.GenerateKey()
	old, err := secrets.ParseKeyring("k1:" + k1)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := secrets.ParseKeyring("k2:" + k2 + ",k1:" + k1)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := oauth.NewSealer(old).Seal(sampleState(time.Now().Add(time.Minute)))
	if _, err := oauth.NewSealer(rotated).Open(tok, oauth.PurposeAuthorize, time.Now()); err != nil {
		t.Errorf("after rotation: %v", err)
	}
}

func testLedger(t *testing.T, l oauth.Ledger) {
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	id := oauth.NewStateID()
	if err := l.Spend(ctx, id, until); err != nil {
		t.Fatal(err)
	}
	if err := l.Spend(ctx, id, until); !errors.Is(err, oauth.ErrReplayedState) {
		t.Errorf("second spend: %v", err)
	}
	// Concurrent spends of one id: exactly one wins.
	id2 := oauth.NewStateID()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if l.Spend(ctx, id2, until) == nil {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent spends won", wins.Load())
	}
}

func TestMemoryLedger(t *testing.T) {
	t.Parallel()
	testLedger(t, oauth.NewMemoryLedger())
}

func TestRedisLedger(t *testing.T) {
	t.Parallel()
	rc, err := cache.OpenRedis(context.Background(), testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close() })
	prefix := "test:oauth-state:" + randHex(8) + ":"
	testLedger(t, oauth.NewRedisLedger(rc, prefix))
	// Two replicas share it.
	a, b := oauth.NewRedisLedger(rc, prefix), oauth.NewRedisLedger(rc, prefix)
	id := oauth.NewStateID()
	if err := a.Spend(context.Background(), id, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := b.Spend(context.Background(), id, time.Now().Add(time.Minute)); !errors.Is(err, oauth.ErrReplayedState) {
		t.Errorf("replayed on another replica: %v", err)
	}
	// Entries expire with the state.
	ttl, err := rc.TTL(context.Background(), prefix+id).Result()
	if err != nil || ttl <= 0 || ttl > 3*time.Minute {
		t.Errorf("ledger entry TTL %v, %v", ttl, err)
	}
	// A dead Redis fails closed.
	dead := oauth.NewRedisLedger(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond}), prefix)
	if err := dead.Spend(context.Background(), oauth.NewStateID(), time.Now().Add(time.Minute)); err == nil || errors.Is(err, oauth.ErrReplayedState) {
		t.Errorf("dead redis: %v, want an error that is not a replay", err)
	}
}
