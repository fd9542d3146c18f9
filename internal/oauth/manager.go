package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store"
)

// Keys the Manager reads and writes on a connection. Connectors that use
// the Manager store their OAuth tokens under these names.
const (
	// CredAccessToken and CredRefreshToken are secret credentials.
	CredAccessToken  = "access_token"
	CredRefreshToken = "refresh_token"
	// SettingExpiresAt is when the access token expires (RFC 3339, UTC).
	// Absent: unknown, and the token is used until the provider refuses it.
	SettingExpiresAt = "token_expires_at"
	// SettingRefreshLease is present while a refresh of the connection runs
	// somewhere in the deployment: "<holder> <until, RFC 3339>".
	SettingRefreshLease = "token_refresh_lease"
)

// Ref names a connection.
type Ref struct {
	OrganisationID string
	ConnectionID   string
}

// Current is a connection's stored settings and credentials, as a
// RefreshFunc sees them.
type Current struct {
	Settings    map[string]string
	Credentials map[string]string
}

// Grant is what a refresh obtained from the provider.
type Grant struct {
	AccessToken string
	// RefreshToken is the new refresh token; empty keeps the stored one
	// (providers that do not rotate, or tokens minted from a parent
	// connection, which have none).
	RefreshToken string
	// ExpiresAt is when AccessToken expires; zero if unknown.
	ExpiresAt time.Time
	// Settings are other non-secret settings to store (e.g. scopes).
	Settings map[string]string
}

// RefreshFunc obtains a new grant for a connection from its provider. It
// wraps ErrInvalidGrant when the provider refused the refresh for good.
// The Manager calls it at most once at a time per connection in the whole
// deployment.
type RefreshFunc func(ctx context.Context, cur Current) (Grant, error)

// ManagerOptions configures a Manager. Zero durations take the defaults.
type ManagerOptions struct {
	// Store holds connections (shared by every replica).
	Store store.Store
	// Cache holds access tokens, encrypted, until Skew before they expire
	// (Redis when replicas share one, else in-process).
	Cache cache.Cache
	// Keys encrypts the cached access tokens.
	Keys *secrets.Keyring
	// Skew: access tokens are refreshed this long before they expire
	// (default 5m).
	Skew time.Duration
	// Lease bounds how long one refresh may hold a connection before
	// another replica may take over (default 30s). It must exceed
	// RefreshTimeout comfortably.
	Lease time.Duration
	// RefreshTimeout bounds one call to the provider's token endpoint
	// (default 10s).
	RefreshTimeout time.Duration
	// Poll is how often a waiting replica looks at the store for the result
	// of another's refresh (default 25ms, plus jitter).
	Poll   time.Duration
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Observer is told each refresh's outcome (metrics); nil: none.
	Observer Observer
}

// Observer is told the outcome of every call to a provider's token
// endpoint: result is "ok" or "failed" (an invalid grant included).
type Observer interface {
	TokenRefresh(ctx context.Context, result string)
}

type nopObserver struct{}

func (nopObserver) TokenRefresh(context.Context, string) {}

// Defaults of ManagerOptions.
const (
	DefaultSkew           = 5 * time.Minute
	DefaultLease          = 30 * time.Second
	DefaultRefreshTimeout = 10 * time.Second
	DefaultPoll           = 25 * time.Millisecond
)

// Manager hands out connections' OAuth access tokens and refreshes them:
// before they expire (Skew), and when the provider refused one. At most one
// refresh per connection runs at a time in the whole deployment: a refresher
// first takes a lease on the connection row with the store's
// compare-and-swap on Version, and everyone else waits for the row to carry
// the new tokens. The new refresh token is stored before the new access
// token is handed to anyone. See doc.go for the failure analysis.
type Manager struct {
	store          store.Store
	cache          cache.Cache
	keys           *secrets.Keyring
	log            *slog.Logger
	skew           time.Duration
	lease          time.Duration
	refreshTimeout time.Duration
	poll           time.Duration
	now            func() time.Time
	holder         string // this Manager's name in leases

	flights   singleflight.Group
	refreshes atomic.Int64
	obs       Observer

	mu      sync.Mutex
	unsaved map[string]unsaved // connection id -> a grant the store did not take
}

// unsaved is a grant obtained by spending refreshToken that could not be
// stored (the store failed until the lease ran out). Kept in memory so the
// next attempt stores it instead of spending the token again.
type unsaved struct {
	spent string
	grant Grant
	at    time.Time
}

// NewManager returns a Manager.
func NewManager(o ManagerOptions) *Manager {
	m := &Manager{
		store: o.Store, cache: o.Cache, keys: o.Keys, log: o.Logger,
		skew: o.Skew, lease: o.Lease, refreshTimeout: o.RefreshTimeout, poll: o.Poll, now: o.Now,
		holder:  "gw-" + NewStateID()[:12],
		unsaved: map[string]unsaved{},
		obs:     o.Observer,
	}
	if m.obs == nil {
		m.obs = nopObserver{}
	}
	if m.skew <= 0 {
		m.skew = DefaultSkew
	}
	if m.lease <= 0 {
		m.lease = DefaultLease
	}
	if m.refreshTimeout <= 0 {
		m.refreshTimeout = DefaultRefreshTimeout
	}
	if m.refreshTimeout > m.lease/2 {
		m.refreshTimeout = m.lease / 2
	}
	if m.poll <= 0 {
		m.poll = DefaultPoll
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.cache == nil {
		m.cache = cache.Noop{}
	}
	return m
}

// Refreshes returns how many provider refreshes this Manager made.
func (m *Manager) Refreshes() int64 { return m.refreshes.Load() }

// Token returns a valid access token of the connection, refreshing it
// through refresh if it expires within the skew. rejected, if not empty, is
// a token the provider just refused: the answer is then another token, if
// need be by refreshing now. A caller whose ctx ends stops waiting, but a
// refresh it started runs to completion (its result must be stored).
//
// Errors: a connection marked needs_reauth (now or before) gives an
// *apierr.Error FAILED_PRECONDITION wrapping ErrNeedsReauth; the refresh's
// own errors (provider unreachable ...) as they are.
func (m *Manager) Token(ctx context.Context, ref Ref, refresh RefreshFunc, rejected string) (string, error) {
	if rejected == "" {
		if tok, ok := m.cached(ctx, ref.ConnectionID); ok {
			return tok, nil
		}
	}
	key := ref.OrganisationID + "/" + ref.ConnectionID + "\x00" + rejected
	ch := m.flights.DoChan(key, func() (any, error) {
		// Detached from the first caller: a refresh, once started, must
		// reach the store whatever happens to the request that began it.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*m.lease)
		defer cancel()
		return m.obtain(fctx, ref, refresh, rejected)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Forget drops the cached access token of a connection (after its
// credentials were replaced, e.g. by a re-install).
func (m *Manager) Forget(ctx context.Context, connectionID string) {
	if err := m.cache.Delete(ctx, tokenKey(connectionID)); err != nil {
		m.log.WarnContext(ctx, "oauth: could not drop a cached access token", "connection_id", connectionID, "err", err)
	}
}

// errRetry makes obtain look at the connection again.
var errRetry = errors.New("oauth: retry")

// obtain runs one flight: it returns the stored token if fresh, waits for
// another replica's refresh, or takes the lease and refreshes.
func (m *Manager) obtain(ctx context.Context, ref Ref, refresh RefreshFunc, rejected string) (string, error) {
	for {
		c, err := m.store.GetConnection(ctx, ref.OrganisationID, ref.ConnectionID)
		if err != nil {
			return "", fmt.Errorf("oauth: load connection %s: %w", ref.ConnectionID, err)
		}
		if c.Status == store.ConnectionNeedsReauth {
			return "", needsReauthError(c.ID, c.StatusMessage)
		}
		now := m.now()
		at, exp := c.Credentials[CredAccessToken], parseExpiry(c.Settings[SettingExpiresAt])
		if at != "" && at != rejected && m.fresh(exp, now) {
			m.remember(ctx, c.ID, at, exp)
			return at, nil
		}
		holder, until, leased := parseLease(c.Settings[SettingRefreshLease])
		if leased && now.Before(until) {
			// Another refresh runs. A token that is due but not expired
			// yet still works meanwhile; otherwise wait for the new one.
			if at != "" && at != rejected && (exp.IsZero() || now.Before(exp)) {
				return at, nil
			}
			if err := m.sleep(ctx); err != nil {
				return "", fmt.Errorf("oauth: waiting for the refresh of connection %s: %w", c.ID, err)
			}
			continue
		}
		takeover := ""
		if leased {
			takeover = fmt.Sprintf("a refresh by gateway process %s did not finish before its lease ran out at %s", holder, until.Format(time.RFC3339))
			m.log.WarnContext(ctx, "oauth: taking over an expired refresh lease", "connection_id", c.ID, "previous_holder", holder, "lease_until", until)
		}

		// Take the lease: a compare-and-swap on the row's version, so of all
		// the replicas looking at this version exactly one wins.
		leaseUntil := now.Add(m.lease)
		next := cloneConn(c)
		next.Settings[SettingRefreshLease] = m.holder + " " + leaseUntil.UTC().Format(time.RFC3339Nano)
		held, err := m.store.UpdateConnection(ctx, next)
		if errors.Is(err, store.ErrConflict) {
			continue // someone else moved first: look again
		}
		if err != nil {
			return "", fmt.Errorf("oauth: lease connection %s: %w", c.ID, err)
		}
		tok, err := m.refreshHeld(ctx, ref, held, refresh, leaseUntil, takeover)
		if errors.Is(err, errRetry) {
			continue
		}
		return tok, err
	}
}

// refreshHeld refreshes a connection whose lease this Manager holds (held
// is the row as leased) and stores the result before returning the token.
func (m *Manager) refreshHeld(ctx context.Context, ref Ref, held store.Connection, refresh RefreshFunc, leaseUntil time.Time, takeover string) (string, error) {
	spent := held.Credentials[CredRefreshToken]
	g, ok := m.takeUnsaved(held.ID, spent)
	if ok {
		m.log.InfoContext(ctx, "oauth: storing a refreshed grant kept from an earlier attempt", "connection_id", held.ID)
	} else {
		rctx, cancel := context.WithTimeout(ctx, m.refreshTimeout)
		var err error
		g, err = refresh(rctx, Current{Settings: maps.Clone(held.Settings), Credentials: maps.Clone(held.Credentials)})
		cancel()
		m.refreshes.Add(1)
		if err == nil && g.AccessToken == "" {
			err = errors.New("oauth: the provider's refresh answer has no access token")
		}
		if err != nil {
			m.obs.TokenRefresh(ctx, "failed")
		} else {
			m.obs.TokenRefresh(ctx, "ok")
		}
		if errors.Is(err, ErrInvalidGrant) {
			return "", m.markNeedsReauth(ctx, held, spent, takeover, err)
		}
		if err != nil {
			m.release(ctx, held)
			return "", err
		}
	}
	out, err := m.persist(ctx, held, spent, g, leaseUntil)
	if err != nil {
		if !errors.Is(err, errRetry) {
			m.keepUnsaved(held.ID, spent, g)
		}
		return "", err
	}
	at, exp := out.Credentials[CredAccessToken], parseExpiry(out.Settings[SettingExpiresAt])
	m.log.InfoContext(ctx, "oauth: access token refreshed", "connection_id", out.ID, "expires_at", exp, "version", out.Version)
	// Drop every replica's near copy of the old token, then cache the new.
	m.Forget(ctx, out.ID)
	m.remember(ctx, out.ID, at, exp)
	return at, nil
}

// persist stores g on the leased row: the new refresh token is durable
// before the new access token is used. A version conflict means the row
// changed under the lease (a re-install, a PATCH, or a replica that took
// over a lease this Manager held too long): if the stored refresh token is
// still the one spent, g is the only valid grant and is applied on top;
// otherwise someone stored other credentials and g is dropped (errRetry).
// Store failures are retried until shortly before the lease runs out.
func (m *Manager) persist(ctx context.Context, held store.Connection, spent string, g Grant, leaseUntil time.Time) (store.Connection, error) {
	deadline := leaseUntil.Add(-m.lease / 10)
	backoff := 20 * time.Millisecond
	c := held
	for {
		out, err := m.store.UpdateConnection(ctx, applyGrant(c, g))
		if err == nil {
			return out, nil
		}
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			cur, gerr := m.store.GetConnection(ctx, held.OrganisationID, held.ID)
			if errors.Is(gerr, store.ErrNotFound) {
				return store.Connection{}, fmt.Errorf("oauth: connection %s was deleted during its refresh: %w", held.ID, gerr)
			}
			if gerr == nil {
				if cur.Credentials[CredRefreshToken] != spent {
					m.log.InfoContext(ctx, "oauth: connection got new credentials during a refresh; dropping the refresh's grant", "connection_id", held.ID)
					return store.Connection{}, errRetry
				}
				c = cur
				continue
			}
			err = gerr
		}
		if m.now().After(deadline) || ctx.Err() != nil {
			m.log.ErrorContext(ctx, "oauth: could not store a refreshed grant; kept in memory for the next attempt",
				"connection_id", held.ID, "err", err)
			return store.Connection{}, fmt.Errorf("oauth: store refreshed tokens of connection %s: %w", held.ID, err)
		}
		m.log.WarnContext(ctx, "oauth: storing a refreshed grant failed; retrying", "connection_id", held.ID, "err", err)
		if serr := sleepCtx(ctx, backoff); serr != nil {
			return store.Connection{}, serr
		}
		backoff = min(2*backoff, time.Second)
	}
}

// markNeedsReauth records that the provider refused the connection's
// refresh token for good, unless the stored token is no longer the one
// refused (then someone else refreshed meanwhile: errRetry).
func (m *Manager) markNeedsReauth(ctx context.Context, held store.Connection, spent, takeover string, cause error) error {
	msg := "the provider refused the refresh token (invalid_grant): the app was uninstalled or its access revoked, or the token was already spent; reconnect through the connect flow"
	if takeover != "" {
		msg += " (" + takeover + ": the token was most likely spent by that refresh, whose result was never stored)"
	}
	for range 5 {
		cur, err := m.store.GetConnection(ctx, held.OrganisationID, held.ID)
		if err != nil {
			return fmt.Errorf("oauth: connection %s: %w", held.ID, err)
		}
		if cur.Credentials[CredRefreshToken] != spent {
			return errRetry
		}
		if cur.Status == store.ConnectionNeedsReauth {
			return needsReauthError(cur.ID, cur.StatusMessage)
		}
		next := cloneConn(cur)
		delete(next.Settings, SettingRefreshLease)
		next.Status, next.StatusMessage = store.ConnectionNeedsReauth, msg
		if _, err := m.store.UpdateConnection(ctx, next); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return fmt.Errorf("oauth: mark connection %s needs_reauth: %w", held.ID, err)
		}
		m.Forget(ctx, held.ID)
		m.log.WarnContext(ctx, "oauth: connection needs re-authorisation", "connection_id", held.ID, "cause", cause.Error())
		return needsReauthError(held.ID, msg)
	}
	return fmt.Errorf("oauth: mark connection %s needs_reauth: %w", held.ID, store.ErrConflict)
}

// release drops this Manager's lease after a failed refresh (best effort:
// the lease expires anyway).
func (m *Manager) release(ctx context.Context, held store.Connection) {
	next := cloneConn(held)
	delete(next.Settings, SettingRefreshLease)
	if _, err := m.store.UpdateConnection(ctx, next); err != nil && !errors.Is(err, store.ErrConflict) {
		m.log.WarnContext(ctx, "oauth: could not release a refresh lease", "connection_id", held.ID, "err", err)
	}
}

func (m *Manager) keepUnsaved(id, spent string, g Grant) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unsaved[id] = unsaved{spent: spent, grant: g, at: m.now()}
}

// takeUnsaved returns a kept grant obtained by spending refresh token
// spent, if any.
func (m *Manager) takeUnsaved(id, spent string) (Grant, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.unsaved[id]
	if !ok {
		return Grant{}, false
	}
	delete(m.unsaved, id)
	return u.grant, u.spent == spent
}

// fresh reports whether a token expiring at exp may still be used at now.
// An unknown expiry counts as fresh: the provider's 401 will tell.
func (m *Manager) fresh(exp, now time.Time) bool {
	return exp.IsZero() || now.Add(m.skew).Before(exp)
}

func (m *Manager) sleep(ctx context.Context) error {
	return sleepCtx(ctx, m.poll+rand.N(m.poll)) //nolint:gosec // jitter, not security
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ---------------------------------------------------------------------------
// The access-token cache: encrypted, bound to the connection id.

type cachedToken struct {
	Token     string `json:"t"`
	ExpiresAt int64  `json:"e,omitempty"` // Unix milliseconds; 0 unknown
}

func tokenKey(connectionID string) string { return "oauth:token:" + connectionID }

func tokenAAD(connectionID string) []byte {
	return []byte("crmgate/oauth-token/" + connectionID)
}

// cached returns the cached access token if it is still fresh.
func (m *Manager) cached(ctx context.Context, connectionID string) (string, bool) {
	if m.keys == nil {
		return "", false
	}
	raw, err := m.cache.Get(ctx, tokenKey(connectionID))
	if err != nil {
		return "", false
	}
	plain, err := m.keys.Decrypt(string(raw), tokenAAD(connectionID))
	if err != nil {
		return "", false
	}
	var ct cachedToken
	if json.Unmarshal(plain, &ct) != nil || ct.Token == "" {
		return "", false
	}
	var exp time.Time
	if ct.ExpiresAt != 0 {
		exp = time.UnixMilli(ct.ExpiresAt)
	}
	if !m.fresh(exp, m.now()) {
		return "", false
	}
	return ct.Token, true
}

// remember caches an access token until skew before it expires (an hour
// at most when its expiry is unknown).
func (m *Manager) remember(ctx context.Context, connectionID, token string, exp time.Time) {
	if m.keys == nil {
		return
	}
	ttl := time.Hour
	ct := cachedToken{Token: token}
	if !exp.IsZero() {
		ttl = exp.Sub(m.now()) - m.skew
		ct.ExpiresAt = exp.UnixMilli()
	}
	if ttl < time.Second {
		return
	}
	plain, err := json.Marshal(ct)
	if err != nil {
		return
	}
	enc, err := m.keys.Encrypt(plain, tokenAAD(connectionID))
	if err != nil {
		return
	}
	if err := m.cache.Set(ctx, tokenKey(connectionID), []byte(enc), ttl); err != nil {
		m.log.DebugContext(ctx, "oauth: could not cache an access token", "connection_id", connectionID, "err", err)
	}
}

// ---------------------------------------------------------------------------
// Helpers

func cloneConn(c store.Connection) store.Connection {
	c.Settings = maps.Clone(c.Settings)
	if c.Settings == nil {
		c.Settings = map[string]string{}
	}
	c.Credentials = maps.Clone(c.Credentials)
	if c.Credentials == nil {
		c.Credentials = map[string]string{}
	}
	return c
}

// applyGrant returns c carrying g, active, without a lease.
func applyGrant(c store.Connection, g Grant) store.Connection {
	n := cloneConn(c)
	n.Credentials[CredAccessToken] = g.AccessToken
	if g.RefreshToken != "" {
		n.Credentials[CredRefreshToken] = g.RefreshToken
	}
	if g.ExpiresAt.IsZero() {
		delete(n.Settings, SettingExpiresAt)
	} else {
		n.Settings[SettingExpiresAt] = FormatExpiry(g.ExpiresAt)
	}
	for k, v := range g.Settings {
		if v == "" {
			delete(n.Settings, k)
		} else {
			n.Settings[k] = v
		}
	}
	delete(n.Settings, SettingRefreshLease)
	n.Status, n.StatusMessage = store.ConnectionActive, ""
	return n
}

// FormatExpiry writes a token expiry as stored in SettingExpiresAt.
func FormatExpiry(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func parseExpiry(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// Unreadable: treat as expired rather than as unknown, so a bad
		// value leads to a refresh, not to a token used forever.
		return time.Unix(1, 0)
	}
	return t
}

func parseLease(s string) (holder string, until time.Time, ok bool) {
	h, u, found := strings.Cut(s, " ")
	if !found {
		return "", time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, u)
	if err != nil {
		return "", time.Time{}, false
	}
	return h, t, true
}
