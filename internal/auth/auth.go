// Package auth authenticates callers by their organisation's API key
// (header or gRPC metadata `x-apikey`) and carries the result in the
// request context. Keys are random, shown once, and stored only as SHA-256
// hashes.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/store"
)

// Metadata keys (REST headers of the same names are forwarded as metadata).
const (
	HeaderAPIKey       = "x-apikey"
	HeaderConnectionID = "x-connection-id"
)

// KeyPrefix starts every crmgate API key.
const KeyPrefix = "cgk_"

// Principal is the authenticated caller.
type Principal struct {
	OrganisationID string
	APIKeyID       string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller, if authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// MetadataValue returns the first value of an incoming metadata key
// (lower case). It copies only that key's values, not the whole metadata
// as metadata.FromIncomingContext would: the hot path asks for several keys
// per call.
func MetadataValue(ctx context.Context, key string) string {
	if v := metadata.ValueFromIncomingContext(ctx, key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// HashKey returns the stored form of a key.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// NewKey returns a fresh random API key.
func NewKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate api key: %w", err)
	}
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// DisplayPrefix is the part of a key stored and shown to tell keys apart:
// KeyPrefix and four more characters (24 bits of the 256 random ones).
func DisplayPrefix(key string) string {
	if len(key) > 8 {
		return key[:8]
	}
	return key
}

// NewID returns a random identifier with a prefix, e.g. "conn_ghl_...".
func NewID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Authenticator checks API keys against the store, remembering valid ones
// for a short while so the hot path does not query the store every call.
// Revoked and expired keys are refused; a remembered key is forgotten at
// its expiry, and at once on this replica when Forget is called (other
// replicas stop accepting a revoked key within the ttl).
type Authenticator struct {
	store store.Store
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu    sync.Mutex
	known map[string]cachedKey // by hex hash
}

// touchEvery is how stale a key's recorded last use may get before an
// authentication that reads the store records a new one.
const touchEvery = time.Minute

type cachedKey struct {
	p       Principal
	expires time.Time
}

// NewAuthenticator returns an Authenticator; ttl is how long a valid key is
// remembered (0 disables remembering).
func NewAuthenticator(s store.Store, ttl time.Duration) *Authenticator {
	return &Authenticator{store: s, ttl: ttl, now: time.Now, log: slog.New(slog.DiscardHandler), known: map[string]cachedKey{}}
}

// WithLogger sets where failures to record a key's last use are logged.
func (a *Authenticator) WithLogger(log *slog.Logger) *Authenticator {
	a.log = log
	return a
}

// Forget drops what is remembered of key id (after a revocation or a
// rotation), so this replica reads its new state at the next call.
func (a *Authenticator) Forget(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, c := range a.known {
		if c.p.APIKeyID == id {
			delete(a.known, h)
		}
	}
}

// Authenticate returns the caller of key, or an Unauthenticated error.
func (a *Authenticator) Authenticate(ctx context.Context, key string) (Principal, error) {
	if key == "" {
		return Principal{}, apierr.ErrMissingAPIKey
	}
	if len(key) > 256 {
		return Principal{}, apierr.ErrInvalidAPIKey
	}
	hash := HashKey(key)
	hk := string(hash)
	if a.ttl > 0 {
		a.mu.Lock()
		c, ok := a.known[hk]
		a.mu.Unlock()
		if ok && a.now().Before(c.expires) {
			return c.p, nil
		}
	}
	k, err := a.store.APIKeyByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, apierr.ErrInvalidAPIKey
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up api key: %w", err)
	}
	now := a.now()
	switch k.State(now) {
	case store.APIKeyRevoked:
		return Principal{}, apierr.ErrRevokedAPIKey
	case store.APIKeyExpired:
		return Principal{}, apierr.ErrExpiredAPIKey
	}
	if now.Sub(k.LastUsedAt) >= touchEvery {
		if err := a.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			a.log.WarnContext(ctx, "could not record the api key's last use", "api_key_id", k.ID, "err", err)
		}
	}
	p := Principal{OrganisationID: k.OrganisationID, APIKeyID: k.ID}
	if a.ttl > 0 {
		expires := now.Add(a.ttl)
		if !k.ExpiresAt.IsZero() && k.ExpiresAt.Before(expires) {
			expires = k.ExpiresAt
		}
		a.mu.Lock()
		if len(a.known) > 10000 {
			a.known = map[string]cachedKey{}
		}
		a.known[hk] = cachedKey{p: p, expires: expires}
		a.mu.Unlock()
	}
	return p, nil
}

// CreateKey makes a new API key for the organisation named org (created if
// new) and returns the key, which is never shown again.
func CreateKey(ctx context.Context, s store.Store, org, name string) (string, store.APIKey, error) {
	key, err := NewKey()
	if err != nil {
		return "", store.APIKey{}, err
	}
	k, err := EnsureKey(ctx, s, org, name, key)
	return key, k, err
}

// EnsureKey makes sure key exists for the organisation named org.
func EnsureKey(ctx context.Context, s store.Store, org, name, key string) (store.APIKey, error) {
	if len(key) < 16 {
		return store.APIKey{}, errors.New("api key must be at least 16 characters")
	}
	if k, err := s.APIKeyByHash(ctx, HashKey(key)); err == nil {
		return k, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, err
	}
	o, err := s.EnsureOrganisation(ctx, org)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("ensure organisation: %w", err)
	}
	k, err := s.CreateAPIKey(ctx, store.APIKey{
		ID: NewID("key_"), OrganisationID: o.ID, Name: name, Hash: HashKey(key), Prefix: DisplayPrefix(key), CreatedAt: time.Now().UTC(),
	})
	if errors.Is(err, store.ErrConflict) { // created concurrently
		return s.APIKeyByHash(ctx, HashKey(key))
	}
	return k, err
}
