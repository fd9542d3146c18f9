package oauth_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/oauth"
	"github.com/crmgate/crmgate/internal/providers/ghl"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store"
	"github.com/crmgate/crmgate/internal/store/sqlstore"
	"github.com/crmgate/crmgate/internal/testenv"
)

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)[:n]
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer = testenv.LogBuffer

func sqliteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "crmgate.db")
}

// postgresURL returns the URL of a fresh schema of the test database,
// dropped when the test ends.
func postgresURL(t testing.TB) string {
	t.Helper()
	u, _ := testenv.PostgresSchemaURL(t, "oauth_")
	return u
}

func forEachBackend(t *testing.T, fn func(t *testing.T, dbURL string)) {
	for _, b := range []struct {
		name string
		url  func(testing.TB) string
	}{{"SQLite", sqliteURL}, {"Postgres", postgresURL}} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.url(t))
		})
	}
}

// world is one GHL fake with one marketplace app, a database shared by
// replicas, and one OAuth connection to a location.
type world struct {
	fake     *ghlfake.Server
	fakeURL  string
	keys     *secrets.Keyring
	dbURL    string
	logs     *syncBuffer
	clientID string
	secret   string
	location string
	org      string
	cfg      store.ConnectorConfig
	conn     store.Connection
	at, rt   string // the tokens stored at the start
}

// newWorld sets up the world; the connection's stored expiry is expiresAt.
func newWorld(t *testing.T, dbURL string, expiresAt time.Time) *world {
	t.Helper()
	w := &world{
		fake: ghlfake.New(ghlfake.Options{BurstLimit: -1, DailyLimit: -1}), keys: mustKeys(t), dbURL: dbURL,
		logs: &syncBuffer{}, clientID: "client-" + randHex(8), secret: "csecret-" + randHex(20), location: "loc" + randHex(12),
	}
	srv := httptest.NewServer(w.fake)
	t.Cleanup(srv.Close)
	w.fakeURL = srv.URL
	w.fake.RegisterOAuthApp(ghlfake.OAuthApp{ClientID: w.clientID, ClientSecret: w.secret, RedirectURIs: []string{"https://gw.example/connect/ghl/callback"}})
	w.at, w.rt = w.fake.IssueTokens(w.clientID, ghlfake.Install{LocationID: w.location})

	st := w.store(t)
	ctx := context.Background()
	org, err := st.EnsureOrganisation(ctx, "org-"+randHex(6))
	if err != nil {
		t.Fatal(err)
	}
	w.org = org.ID
	now := time.Now().UTC()
	w.cfg, err = st.CreateConnectorConfig(ctx, store.ConnectorConfig{
		ID: "ccfg_ghl_" + randHex(10), OrganisationID: org.ID, ConnectorName: "ghl",
		Settings: map[string]string{"base_url": w.fakeURL, "client_id": w.clientID, "redirect_uri": "https://gw.example/connect/ghl/callback"},
		Secrets:  map[string]string{"client_secret": w.secret}, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.conn, err = st.CreateConnection(ctx, store.Connection{
		ID: "conn_ghl_" + randHex(10), OrganisationID: org.ID, ConnectorConfigID: w.cfg.ID, ConnectorName: "ghl",
		CustomerID: "cust-1", AuthType: "oauth", Status: store.ConnectionActive,
		Settings:    map[string]string{"location_id": w.location, "user_type": "Location", oauth.SettingExpiresAt: oauth.FormatExpiry(expiresAt)},
		Credentials: map[string]string{oauth.CredAccessToken: w.at, oauth.CredRefreshToken: w.rt},
		CreatedAt:   now, UpdatedAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range []string{w.at, w.rt, w.secret} {
			if strings.Contains(w.logs.String(), s) {
				t.Errorf("SECRET LEAK: the log contains a token or the client secret")
			}
		}
	})
	return w
}

func mustKeys(t testing.TB) *secrets.Keyring {
	t.Helper()
	k, err := secrets.ParseKeyring(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// store opens a new store on the world's database (one per replica, as
// separate processes would have).
func (w *world) store(t testing.TB) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), w.dbURL, w.keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func (w *world) ref() oauth.Ref {
	return oauth.Ref{OrganisationID: w.org, ConnectionID: w.conn.ID}
}

// replica is one gateway process's token machinery.
type replica struct {
	mgr     *oauth.Manager
	refresh oauth.RefreshFunc
	store   store.Store
}

type replicaOptions struct {
	store store.Store // default: a new store on the world's database
	cache cache.Cache // default: a private in-process cache
	lease time.Duration
	skew  time.Duration
	obs   oauth.Observer
}

func (w *world) replica(t testing.TB, o replicaOptions) *replica {
	t.Helper()
	st := o.store
	if st == nil {
		st = w.store(t)
	}
	c := o.cache
	if c == nil {
		c = cache.NewMemory(1000)
	}
	log := slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mgr := oauth.NewManager(oauth.ManagerOptions{Store: st, Cache: c, Keys: w.keys, Lease: o.lease, Skew: o.skew, Logger: log, Observer: o.obs})
	conn := ghl.NewConnector(ghl.ConnectorOptions{Tokens: mgr, Logger: log})
	return &replica{mgr: mgr, store: st, refresh: conn.Refresher(oauth.Config{Settings: w.cfg.Settings, Secrets: w.cfg.Secrets}, w.org)}
}

func (r *replica) token(ctx context.Context, w *world, rejected string) (string, error) {
	return r.mgr.Token(ctx, w.ref(), r.refresh, rejected)
}

// stored reads the connection as it is now.
func (w *world) stored(t testing.TB) store.Connection {
	t.Helper()
	st := w.store(t)
	c, err := st.GetConnection(context.Background(), w.org, w.conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hookStore lets a test intercept the writes that store a refreshed grant
// (an UpdateConnection carrying another refresh token than the row had).
type hookStore struct {
	store.Store
	onGrantWrite func(c store.Connection) error // nil: pass through
}

func (h *hookStore) UpdateConnection(ctx context.Context, c store.Connection) (store.Connection, error) {
	if h.onGrantWrite != nil {
		cur, err := h.Store.GetConnection(ctx, c.OrganisationID, c.ID)
		if err == nil && cur.Credentials[oauth.CredRefreshToken] != c.Credentials[oauth.CredRefreshToken] {
			if err := h.onGrantWrite(c); err != nil {
				return store.Connection{}, err
			}
		}
	}
	return h.Store.UpdateConnection(ctx, c)
}
