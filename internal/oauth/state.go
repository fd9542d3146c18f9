package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crmgate/crmgate/internal/secrets"
)

// Purposes of a sealed State: a token sealed for one purpose never opens
// for another.
const (
	// PurposeAuthorize is the `state` parameter of an authorization URL:
	// single-use, checked by the callback.
	PurposeAuthorize = "authorize"
	// PurposeConnectPage is the `token` of a connect page link: it may be
	// opened several times until it expires; each Connect click mints a
	// fresh PurposeAuthorize state from it.
	PurposeConnectPage = "connect_page"
)

// maxSealedLen bounds what Open even tries to decrypt.
const maxSealedLen = 4096

// State is what an authorization flow carries through the customer's
// browser and the provider: who asked (organisation), for whom (customer),
// with which app registration (connector config), and where to send the
// browser afterwards. It is sealed (AES-256-GCM under the gateway's
// keyring), so the browser and the provider can neither read nor alter it.
type State struct {
	// ID is a random id; the callback spends it (see Ledger), which makes
	// an authorize state single-use.
	ID                string   `json:"jti"`
	Purpose           string   `json:"pur"`
	OrganisationID    string   `json:"org"`
	CustomerID        string   `json:"cus"`
	ConnectorConfigID string   `json:"cfg"`
	ConnectorName     string   `json:"con"`
	ReturnURL         string   `json:"ret,omitempty"`
	Scopes            []string `json:"scp,omitempty"`
	// ExpiresAt, in Unix seconds.
	ExpiresAt int64 `json:"exp"`
}

// Expires returns ExpiresAt as a time.
func (s State) Expires() time.Time { return time.Unix(s.ExpiresAt, 0).UTC() }

// Sealer seals and opens States with the gateway's encryption keyring: a
// State is encrypted and authenticated under the newest key, bound (as
// associated data) to its purpose, and opens under any key of the keyring,
// so a key rotation does not break flows in progress.
type Sealer struct {
	keys *secrets.Keyring
}

// NewSealer returns a Sealer over keys.
func NewSealer(keys *secrets.Keyring) *Sealer { return &Sealer{keys: keys} }

func stateAAD(purpose string) []byte { return []byte("crmgate/oauth-state/v1/" + purpose) }

// NewStateID returns a random state id.
func NewStateID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// Seal returns s as an opaque URL-safe token. An empty ID is filled in.
func (x *Sealer) Seal(s State) (string, error) {
	if s.Purpose == "" || s.OrganisationID == "" || s.ExpiresAt == 0 {
		return "", errors.New("oauth: seal: purpose, organisation and expiry are required")
	}
	if s.ID == "" {
		s.ID = NewStateID()
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("oauth: seal: %w", err)
	}
	return x.keys.Encrypt(b, stateAAD(s.Purpose))
}

// Open checks a sealed token for purpose at time now: ErrInvalidState if it
// is malformed, forged, tampered with or sealed for another purpose;
// ErrExpiredState if it expired.
func (x *Sealer) Open(token, purpose string, now time.Time) (State, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxSealedLen {
		return State{}, ErrInvalidState
	}
	b, err := x.keys.Decrypt(token, stateAAD(purpose))
	if err != nil {
		return State{}, fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil || s.Purpose != purpose || s.ID == "" || s.OrganisationID == "" {
		return State{}, ErrInvalidState
	}
	if !now.Before(s.Expires()) {
		return State{}, ErrExpiredState
	}
	return s, nil
}

// Ledger records spent state ids so that a state is accepted once.
// Implementations must be shared by every replica of a deployment (Redis),
// or the deployment must have one replica (Memory).
type Ledger interface {
	// Spend records id until it expires. It answers ErrReplayedState if id
	// was spent before, and another error if it cannot tell (the caller
	// must then refuse the state: a ledger that cannot answer fails closed).
	Spend(ctx context.Context, id string, until time.Time) error
}

// RedisLedger is a Ledger in Redis (SET NX with an expiry), shared by
// replicas.
type RedisLedger struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

// NewRedisLedger returns a Ledger storing keys prefix+id.
func NewRedisLedger(client redis.UniversalClient, prefix string) *RedisLedger {
	return &RedisLedger{client: client, prefix: prefix, now: time.Now}
}

// Spend implements Ledger.
func (l *RedisLedger) Spend(ctx context.Context, id string, until time.Time) error {
	ttl := until.Sub(l.now()) + time.Minute // outlive the state itself
	ok, err := l.client.SetNX(ctx, l.prefix+id, "1", ttl).Result()
	if err != nil {
		return fmt.Errorf("oauth: state ledger: %w", err)
	}
	if !ok {
		return ErrReplayedState
	}
	return nil
}

// MemoryLedger is an in-process Ledger, for a single replica.
type MemoryLedger struct {
	now func() time.Time

	mu    sync.Mutex
	spent map[string]time.Time
}

// NewMemoryLedger returns an empty in-process Ledger.
func NewMemoryLedger() *MemoryLedger {
	return &MemoryLedger{now: time.Now, spent: map[string]time.Time{}}
}

// Spend implements Ledger.
func (l *MemoryLedger) Spend(_ context.Context, id string, until time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.spent) > 10_000 {
		for k, exp := range l.spent {
			if now.After(exp) {
				delete(l.spent, k)
			}
		}
	}
	if _, ok := l.spent[id]; ok {
		return ErrReplayedState
	}
	l.spent[id] = until.Add(time.Minute)
	return nil
}
