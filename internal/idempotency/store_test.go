package idempotency_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/idempotency"
	"github.com/crmgate/crmgate/internal/testenv"
)

func randHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// stores returns every Store implementation to run the suites against.
func stores(t *testing.T) map[string]func(t *testing.T) idempotency.Store {
	return map[string]func(t *testing.T) idempotency.Store{
		"memory": func(*testing.T) idempotency.Store { return idempotency.NewMemoryStore(nil) },
		"redis": func(t *testing.T) idempotency.Store {
			c, err := cache.OpenRedis(context.Background(), testenv.RedisURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return idempotency.NewRedisStore(c, "test:idem:"+randHex()+":")
		},
		"fallback": func(t *testing.T) idempotency.Store {
			c, err := cache.OpenRedis(context.Background(), testenv.RedisURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return idempotency.NewFallbackStore(idempotency.NewRedisStore(c, "test:idem:"+randHex()+":"), idempotency.NewMemoryStore(nil), nil)
		},
	}
}

func TestStoreContract(t *testing.T) {
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t)
			a := idempotency.Record{Token: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Fingerprint: []byte{1, 2}}
			b := idempotency.Record{Token: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Fingerprint: []byte{3}}

			got, ok, err := s.Claim(ctx, "k", a, time.Minute)
			if err != nil || !ok || got.Token != a.Token {
				t.Fatalf("first claim: %+v %v %v", got, ok, err)
			}
			got, ok, err = s.Claim(ctx, "k", b, time.Minute)
			if err != nil || ok || got.Token != a.Token || string(got.Fingerprint) != string(a.Fingerprint) || got.Done {
				t.Fatalf("second claim: %+v %v %v; want a's record", got, ok, err)
			}
			if err := s.Complete(ctx, "k", idempotency.Record{Token: b.Token, Done: true}, time.Minute); !errors.Is(err, idempotency.ErrNotClaimed) {
				t.Fatalf("complete by another token: %v", err)
			}
			_ = s.Release(ctx, "k", b.Token) // not the holder: no effect
			done := a
			done.Done, done.ResponseType, done.Response = true, "x.Y", []byte{9}
			if err := s.Complete(ctx, "k", done, time.Minute); err != nil {
				t.Fatal(err)
			}
			got, ok, err = s.Claim(ctx, "k", b, time.Minute)
			if err != nil || ok || !got.Done || got.ResponseType != "x.Y" || string(got.Response) != "\x09" {
				t.Fatalf("after complete: %+v %v %v", got, ok, err)
			}

			// Release frees the key for the holder only.
			if _, ok, _ := s.Claim(ctx, "r", a, time.Minute); !ok {
				t.Fatal("claim r")
			}
			if err := s.Release(ctx, "r", a.Token); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.Claim(ctx, "r", b, time.Minute); !ok {
				t.Fatal("a released key must be claimable")
			}

			// A lease expires.
			if _, ok, _ := s.Claim(ctx, "l", a, 50*time.Millisecond); !ok {
				t.Fatal("claim l")
			}
			time.Sleep(80 * time.Millisecond)
			if _, ok, _ := s.Claim(ctx, "l", b, time.Minute); !ok {
				t.Fatal("an expired lease must be claimable")
			}
		})
	}
}
