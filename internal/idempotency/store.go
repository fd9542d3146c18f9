package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Record is what the store keeps under one idempotency key: who holds it,
// which request it belongs to, and, once Done, the outcome.
type Record struct {
	// Token identifies the claim (the call that runs the handler).
	Token string `json:"-"`
	// Fingerprint is the SHA-256 of the request (see fingerprint).
	Fingerprint []byte `json:"fp"`
	// Done is false while the first call runs.
	Done bool `json:"done,omitempty"`
	// ResponseType is the full protobuf name of the response message.
	ResponseType string `json:"type,omitempty"`
	// Response is the response message, protobuf-encoded.
	Response []byte `json:"resp,omitempty"`
	// Status is the final gRPC status (google.rpc.Status, protobuf-encoded)
	// when the outcome is an error.
	Status []byte `json:"status,omitempty"`
}

// ErrNotClaimed is returned by Complete when the key is no longer held by
// the record's token (its lease expired and another call claimed it).
var ErrNotClaimed = errors.New("idempotency: key no longer held by this call")

// Store keeps idempotency records. Implementations must be safe for
// concurrent use; every replica must share one for keys to work across
// replicas.
type Store interface {
	// Claim stores rec under key for lease if the key is free, atomically,
	// and returns (rec, true). Otherwise it returns the stored record and
	// false.
	Claim(ctx context.Context, key string, rec Record, lease time.Duration) (Record, bool, error)
	// Complete replaces key's record with rec (Done) for ttl if key is still
	// held by rec.Token (or free); ErrNotClaimed if another call holds it.
	Complete(ctx context.Context, key string, rec Record, ttl time.Duration) error
	// Release deletes key if it is still held by token, so the request can
	// be tried again.
	Release(ctx context.Context, key, token string) error
}

// newToken returns a random claim token (32 hex characters).
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// encode renders a record as "<token>|<json>" so that Redis scripts can
// compare the owner without parsing JSON.
func encode(rec Record) (string, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("idempotency: encoding record: %w", err)
	}
	return rec.Token + "|" + string(b), nil
}

func decode(v string) (Record, error) {
	tok, js, ok := strings.Cut(v, "|")
	if !ok {
		return Record{}, errors.New("idempotency: malformed stored record")
	}
	var rec Record
	if err := json.Unmarshal([]byte(js), &rec); err != nil {
		return Record{}, fmt.Errorf("idempotency: decoding stored record: %w", err)
	}
	rec.Token = tok
	return rec, nil
}

// ---------------------------------------------------------------------------
// In-process

// MemoryStore is an in-process Store, for a single replica or as the
// fallback of a Redis store.
type MemoryStore struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]memEntry
}

type memEntry struct {
	rec     Record
	expires time.Time
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty in-process Store; now nil means time.Now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, m: make(map[string]memEntry)}
}

func (m *MemoryStore) get(key string, now time.Time) (Record, bool) {
	e, ok := m.m[key]
	if ok && !now.Before(e.expires) {
		delete(m.m, key)
		return Record{}, false
	}
	return e.rec, ok
}

// Claim implements Store.
func (m *MemoryStore) Claim(_ context.Context, key string, rec Record, lease time.Duration) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if cur, ok := m.get(key, now); ok {
		return cur, false, nil
	}
	if len(m.m) > 100_000 {
		m.sweep(now)
	}
	m.m[key] = memEntry{rec: rec, expires: now.Add(lease)}
	return rec, true, nil
}

// Complete implements Store.
func (m *MemoryStore) Complete(_ context.Context, key string, rec Record, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if cur, ok := m.get(key, now); ok && cur.Token != rec.Token {
		return ErrNotClaimed
	}
	m.m[key] = memEntry{rec: rec, expires: now.Add(ttl)}
	return nil
}

// Release implements Store.
func (m *MemoryStore) Release(_ context.Context, key, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.get(key, m.now()); ok && cur.Token == token {
		delete(m.m, key)
	}
	return nil
}

func (m *MemoryStore) sweep(now time.Time) {
	for k, e := range m.m {
		if !now.Before(e.expires) {
			delete(m.m, k)
		}
	}
}

// ---------------------------------------------------------------------------
// Redis

// claimScript: SET NX with the old value returned, atomically.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`)

// completeScript: overwrite if free or held by the token (ARGV[1]).
var completeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// releaseScript: delete if held by the token (ARGV[1]).
var releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// RedisStore is a Store in Redis (each record under prefix+key), shared by
// replicas. Claim is one round trip.
type RedisStore struct {
	client redis.UniversalClient
	prefix string
}

var _ Store = (*RedisStore)(nil)

// NewRedisStore returns a Store over client, prefixing keys with prefix
// (include a separator, e.g. "crmgate:"). The caller keeps ownership of
// client.
func NewRedisStore(client redis.UniversalClient, prefix string) *RedisStore {
	return &RedisStore{client: client, prefix: prefix}
}

// Claim implements Store.
func (r *RedisStore) Claim(ctx context.Context, key string, rec Record, lease time.Duration) (Record, bool, error) {
	v, err := encode(rec)
	if err != nil {
		return Record{}, false, err
	}
	old, err := claimScript.Run(ctx, r.client, []string{r.prefix + key}, v, max(lease.Milliseconds(), 1)).Text()
	switch {
	case errors.Is(err, redis.Nil):
		return rec, true, nil
	case err != nil:
		return Record{}, false, fmt.Errorf("idempotency: redis claim: %w", err)
	}
	cur, err := decode(old)
	if err != nil {
		return Record{}, false, err
	}
	return cur, false, nil
}

// Complete implements Store.
func (r *RedisStore) Complete(ctx context.Context, key string, rec Record, ttl time.Duration) error {
	v, err := encode(rec)
	if err != nil {
		return err
	}
	n, err := completeScript.Run(ctx, r.client, []string{r.prefix + key}, rec.Token+"|", v, max(ttl.Milliseconds(), 1)).Int()
	if err != nil {
		return fmt.Errorf("idempotency: redis complete: %w", err)
	}
	if n == 0 {
		return ErrNotClaimed
	}
	return nil
}

// Release implements Store.
func (r *RedisStore) Release(ctx context.Context, key, token string) error {
	if err := releaseScript.Run(ctx, r.client, []string{r.prefix + key}, token+"|").Err(); err != nil {
		return fmt.Errorf("idempotency: redis release: %w", err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Fallback

const (
	fallbackProbeEvery = time.Second
	fallbackWarnEvery  = 10 * time.Second
)

// FallbackStore uses a shared Store (Redis) and, while it fails, an
// in-process one, so a dead Redis does not fail creates that carry an
// Idempotency-Key. Trade-off: during an outage a key protects against
// repeats on the same replica only; a record made before the outage is
// not seen meanwhile; keys claimed during the outage are not in Redis after
// it. Complete and Release go where the claim was made.
type FallbackStore struct {
	primary, fallback Store
	log               *slog.Logger

	mu       sync.Mutex
	down     bool
	retryAt  time.Time
	lastWarn time.Time
	local    map[string]bool // keys claimed in the fallback, until completed or released
}

var _ Store = (*FallbackStore)(nil)

// NewFallbackStore returns primary guarded by fallback; log gets a warning
// when primary starts failing (at most every 10s) and a line on recovery;
// nil discards.
func NewFallbackStore(primary, fallback Store, log *slog.Logger) *FallbackStore {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &FallbackStore{primary: primary, fallback: fallback, log: log, local: make(map[string]bool)}
}

func (f *FallbackStore) usePrimary() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.down || !time.Now().Before(f.retryAt)
}

func (f *FallbackStore) failed(ctx context.Context, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.retryAt = now.Add(fallbackProbeEvery)
	if !f.down || now.Sub(f.lastWarn) >= fallbackWarnEvery {
		f.log.WarnContext(ctx, "idempotency store unavailable; using the in-process fallback", "err", err)
		f.lastWarn = now
	}
	f.down = true
}

func (f *FallbackStore) ok(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		f.down = false
		f.log.InfoContext(ctx, "idempotency store recovered")
	}
}

func (f *FallbackStore) isLocal(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.local[key]
}

func (f *FallbackStore) setLocal(key string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if on {
		if len(f.local) > 100_000 {
			clear(f.local)
		}
		f.local[key] = true
	} else {
		delete(f.local, key)
	}
}

// Claim implements Store.
func (f *FallbackStore) Claim(ctx context.Context, key string, rec Record, lease time.Duration) (Record, bool, error) {
	if f.usePrimary() {
		cur, ok, err := f.primary.Claim(ctx, key, rec, lease)
		if err == nil {
			f.ok(ctx)
			return cur, ok, nil
		}
		if ctx.Err() != nil {
			return Record{}, false, ctx.Err()
		}
		f.failed(ctx, err)
	}
	cur, ok, err := f.fallback.Claim(ctx, key, rec, lease)
	if ok {
		f.setLocal(key, true)
	}
	return cur, ok, err
}

// Complete implements Store.
func (f *FallbackStore) Complete(ctx context.Context, key string, rec Record, ttl time.Duration) error {
	if f.isLocal(key) {
		f.setLocal(key, false)
		return f.fallback.Complete(ctx, key, rec, ttl)
	}
	return f.primary.Complete(ctx, key, rec, ttl)
}

// Release implements Store.
func (f *FallbackStore) Release(ctx context.Context, key, token string) error {
	if f.isLocal(key) {
		f.setLocal(key, false)
		return f.fallback.Release(ctx, key, token)
	}
	return f.primary.Release(ctx, key, token)
}
