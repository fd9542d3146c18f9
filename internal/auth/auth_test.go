package auth_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store"
	"github.com/crmgate/crmgate/internal/store/sqlstore"
)

func newStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	keys, err := secrets.ParseKeyring(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "auth.db"), keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestAuthenticateLifecycle: a key works, records its use, and stops at
// its revocation (at once on this replica once forgotten) and at its
// expiry (even while remembered).
func TestAuthenticateLifecycle(t *testing.T) {
	ctx := t.Context()
	s := newStore(t)
	a := auth.NewAuthenticator(s, time.Hour)
	key, k, err := auth.CreateKey(ctx, s, "acme", "test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(ctx, key)
	if err != nil || p.APIKeyID != k.ID || p.OrganisationID != k.OrganisationID {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	if got, _ := s.GetAPIKey(ctx, k.OrganisationID, k.ID); got.LastUsedAt.IsZero() {
		t.Error("last use not recorded")
	}
	if _, err := s.RevokeAPIKey(ctx, k.OrganisationID, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, key); err != nil {
		t.Fatalf("remembered key refused before Forget: %v", err)
	}
	a.Forget(k.ID)
	if _, err := a.Authenticate(ctx, key); !errors.Is(err, apierr.ErrRevokedAPIKey) {
		t.Fatalf("revoked key: %v, want ErrRevokedAPIKey", err)
	}

	// Rotation: the old key works until the end of its grace period, even
	// while remembered.
	key2, k2, err := auth.CreateKey(ctx, s, "acme", "rotating")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, key2); err != nil {
		t.Fatal(err)
	}
	next := store.APIKey{ID: auth.NewID("key_"), OrganisationID: k2.OrganisationID, Hash: auth.HashKey("cgk_next"), Prefix: "cgk_next"}
	if _, _, err := s.RotateAPIKey(ctx, k2.OrganisationID, k2.ID, next, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	a.Forget(k2.ID)
	if _, err := a.Authenticate(ctx, key2); err != nil {
		t.Fatalf("old key within its grace period: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := a.Authenticate(ctx, key2); !errors.Is(err, apierr.ErrExpiredAPIKey) {
		t.Fatalf("old key after its grace period: %v, want ErrExpiredAPIKey", err)
	}
	if _, err := a.Authenticate(ctx, "cgk_unknown_key_0000"); !errors.Is(err, apierr.ErrInvalidAPIKey) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestAdminCheck(t *testing.T) {
	key, hash, err := auth.NewAdminKey()
	if err != nil {
		t.Fatal(err)
	}
	h, err := auth.ParseAdminKeyHash(hash)
	if err != nil {
		t.Fatal(err)
	}
	on := auth.NewAdminAuthenticator(h)
	off := auth.NewAdminAuthenticator(nil)
	for _, tc := range []struct {
		name        string
		a           *auth.AdminAuthenticator
		key, apiKey string
		want        error
	}{
		{"the key", on, key, "", nil},
		{"no key", on, "", "", apierr.ErrMissingAdminKey},
		{"an api key instead", on, "", "cgk_something", apierr.ErrAPIKeyOnAdminAPI},
		{"a wrong key", on, key + "x", "", apierr.ErrInvalidAdminKey},
		{"a huge key", on, string(make([]byte, 300)), "", apierr.ErrInvalidAdminKey},
		{"disabled", off, key, "", apierr.ErrAdminDisabled},
		{"disabled, nil", nil, key, "", apierr.ErrAdminDisabled},
	} {
		if err := tc.a.Check(tc.key, tc.apiKey); !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, bad := range []string{"", "abc", hash[:62], hash + "00", "zz" + hash[2:]} {
		if _, err := auth.ParseAdminKeyHash(bad); err == nil {
			t.Errorf("ParseAdminKeyHash(%q) accepted", bad)
		}
	}
}
