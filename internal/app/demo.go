package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store"
)

// Demo is what --demo provisions.
type Demo struct {
	APIKey       string
	ConnectionID string
	FakeURL      string
	LocationID   string
	// Reused says the API key and the connection are the previous run's.
	Reused bool
	// Reset says, when not empty, what of the previous run's demo data
	// could not be reused and was made anew, and why.
	Reset string
}

// Demo location and token of the in-process GHL fake.
const (
	demoLocation = "demoLocation0000000001"
	demoToken    = "pit-demo-0000-0000-0000-000000000000" //nolint:gosec // token of the in-process fake, not a real credential
	demoOrg      = "default"
	demoCustomer = "demo-customer"
	demoKeyName  = "demo"
)

// Files of the demo in the data directory: the database (unless
// database_url is set) and the demo API key, sealed with the gateway's
// keyring.
const (
	DemoDatabaseFile = "demo.db"
	DemoKeyFile      = "demo.apikey"
)

// ErrDemoStale: the demo's stored data cannot be read (for example it was
// encrypted under a key the keyring no longer has).
var ErrDemoStale = errors.New("demo: the stored demo data cannot be read")

// demoKeyAAD binds the sealed demo API key to its purpose.
var demoKeyAAD = []byte("crmgate demo api key")

// DemoOptions tunes BuildDemo.
type DemoOptions struct {
	// OwnDatabase: the demo keeps its own SQLite database,
	// <data_dir>/demo.db, which it may reset; otherwise it uses the
	// configured database_url and never deletes anything in it.
	OwnDatabase bool
	// Reset starts from an empty demo database (OwnDatabase only) and a
	// new demo API key.
	Reset bool
}

// BuildDemo builds the gateway for --demo and starts the demo (StartDemo).
// The demo's data persists between runs: with OwnDatabase, in
// <data_dir>/demo.db beside (not in) the real database; the demo API key
// in <data_dir>/demo.apikey (mode 0600), encrypted with the gateway's
// keyring, so a second run prints the same key and connection. If the own
// database cannot be opened or read, it is deleted and made anew, and
// Demo.Reset says so.
func BuildDemo(ctx context.Context, cfg Config, log *slog.Logger, opts DemoOptions) (*App, Demo, error) {
	var reset []string
	if opts.OwnDatabase {
		cfg.DatabaseURL = "sqlite://" + filepath.Join(cfg.DataDir, DemoDatabaseFile)
		if opts.Reset {
			if err := removeDemoData(cfg.DataDir); err != nil {
				return nil, Demo{}, err
			}
			reset = append(reset, "--demo-reset: started from an empty demo database")
		}
	}
	for attempt := 0; ; attempt++ {
		a, d, err := buildAndStartDemo(ctx, cfg, log)
		if err == nil {
			if d.Reset != "" {
				reset = append(reset, d.Reset)
			}
			d.Reset = strings.Join(reset, "; ")
			return a, d, nil
		}
		stale := errors.Is(err, ErrOpenStore) || errors.Is(err, ErrDemoStale)
		if !opts.OwnDatabase || !stale || attempt > 0 || ctx.Err() != nil {
			return nil, Demo{}, err
		}
		reset = append(reset, fmt.Sprintf("the previous demo data could not be reused (%v), so the demo database was deleted and made anew", err))
		if err := removeDemoData(cfg.DataDir); err != nil {
			return nil, Demo{}, err
		}
	}
}

func buildAndStartDemo(ctx context.Context, cfg Config, log *slog.Logger) (*App, Demo, error) {
	a, err := Build(ctx, cfg, log)
	if err != nil {
		return nil, Demo{}, err
	}
	d, err := a.StartDemo(ctx, filepath.Join(cfg.DataDir, DemoKeyFile))
	if err != nil {
		a.Close()
		return nil, Demo{}, err
	}
	return a, d, nil
}

// removeDemoData deletes the demo's own database and its API key file.
func removeDemoData(dataDir string) error {
	base := filepath.Join(dataDir, DemoDatabaseFile)
	for _, path := range []string{base, base + "-wal", base + "-shm", base + "-journal", filepath.Join(dataDir, DemoKeyFile)} {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("demo: reset: %w", err)
		}
	}
	return nil
}

// StartDemo starts the GHL fake on a loopback port, seeds it with a sample
// custom object (pet) and records (SeedDemo) and with contacts, businesses,
// users, a pipeline, opportunities and notes (SeedCRM) and a custom field
// of contacts (lead_score, a number), and provisions an
// API key, a ghl connector config pointing at the fake and a connection,
// reusing those of a previous run when the store has them: the connection
// of customer demo-customer (its config is pointed at this run's fake),
// and the API key sealed in keyFile ("" keeps none). The fake's data is
// in memory and seeded the same way each run. The fake stops when ctx is
// done.
func (a *App) StartDemo(ctx context.Context, keyFile string) (Demo, error) {
	fake := ghlfake.New(ghlfake.Options{})
	fake.AddToken(demoToken, demoLocation)
	fake.SeedDemo(demoLocation, 25)
	fake.SeedCRM(demoLocation)
	fake.AddContactField(demoLocation, "lead_score", "Lead Score", "NUMERICAL") // a custom field of contacts
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return Demo{}, fmt.Errorf("demo: listen: %w", err)
	}
	hs := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(lis) }()
	stopFake := context.AfterFunc(ctx, func() { _ = hs.Close() })
	ok := false
	defer func() {
		if !ok {
			stopFake()
			_ = hs.Close()
		}
	}()
	d := Demo{FakeURL: "http://" + lis.Addr().String(), LocationID: demoLocation}

	org, err := a.Store.EnsureOrganisation(ctx, demoOrg)
	if err != nil {
		return d, fmt.Errorf("demo: organisation: %w", err)
	}
	var resets []string
	key, keyReused, why, err := a.demoKey(ctx, org.ID, keyFile)
	if err != nil {
		return d, err
	}
	if why != "" {
		resets = append(resets, why)
	}
	d.APIKey = key
	conn, connReused, err := a.demoConnection(ctx, org.ID, d.FakeURL)
	if err != nil {
		return d, err
	}
	d.ConnectionID = conn
	if connReused && !keyReused && why == "" {
		resets = append(resets, fmt.Sprintf("a new demo API key was made: %s of the previous run is missing", keyFile))
	}
	d.Reused = keyReused && connReused
	d.Reset = strings.Join(resets, "; ")
	ok = true
	return d, nil
}

// demoKey returns the demo API key: the one sealed in keyFile if it
// still exists in the store for org, else a new one (sealed into keyFile);
// why says why a previous key was not reused.
func (a *App) demoKey(ctx context.Context, orgID, keyFile string) (key string, reused bool, why string, err error) {
	if keyFile != "" {
		key, why = a.readDemoKey(ctx, orgID, keyFile)
		if key != "" {
			return key, true, "", nil
		}
	}
	key, _, err = auth.CreateKey(ctx, a.Store, demoOrg, demoKeyName)
	if err != nil {
		return "", false, "", fmt.Errorf("demo: api key: %w", err)
	}
	if keyFile != "" {
		if err := a.writeDemoKey(keyFile, key); err != nil {
			return "", false, "", err
		}
	}
	return key, false, why, nil
}

// readDemoKey opens the sealed key of keyFile; "" and a reason when it
// cannot be reused ("" and "" when there is no file).
func (a *App) readDemoKey(ctx context.Context, orgID, keyFile string) (string, string) {
	data, err := os.ReadFile(keyFile) //nolint:gosec // the demo's own file in the data directory
	if errors.Is(err, fs.ErrNotExist) {
		return "", ""
	}
	if err != nil {
		return "", fmt.Sprintf("a new demo API key was made: %s could not be read (%v)", keyFile, err)
	}
	plain, err := a.keys.Decrypt(strings.TrimSpace(string(data)), demoKeyAAD)
	if err != nil {
		return "", fmt.Sprintf("a new demo API key was made: %s could not be decrypted with the current encryption key (%v)", keyFile, err)
	}
	k, err := a.Store.APIKeyByHash(ctx, auth.HashKey(string(plain)))
	if err != nil || k.OrganisationID != orgID {
		return "", fmt.Sprintf("a new demo API key was made: the key in %s is no longer in the database", keyFile)
	}
	return string(plain), ""
}

// writeDemoKey seals key into keyFile (mode 0600, written atomically).
func (a *App) writeDemoKey(keyFile, key string) error {
	sealed, err := a.keys.Encrypt([]byte(key), demoKeyAAD)
	if err != nil {
		return fmt.Errorf("demo: seal api key: %w", err)
	}
	dir := filepath.Dir(keyFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".demo-apikey-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(sealed + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("demo: write %s: %w", keyFile, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("demo: write %s: %w", keyFile, err)
	}
	if err := os.Rename(tmp.Name(), keyFile); err != nil {
		return fmt.Errorf("demo: write %s: %w", keyFile, err)
	}
	return nil
}

// demoConnection returns the demo connection's id: the previous run's
// (customer demo-customer, connector ghl), its config pointed at this
// run's fake, or a new config and connection.
func (a *App) demoConnection(ctx context.Context, orgID, fakeURL string) (string, bool, error) {
	connector, _ := a.Resolver.Connector("ghl")
	cfgSplit, err := connector.CheckConfig(map[string]string{"base_url": fakeURL}, nil)
	if err != nil {
		return "", false, fmt.Errorf("demo: connector config: %w", err)
	}
	connSplit, authType, err := connector.CheckConnection(map[string]string{"location_id": demoLocation, "private_integration_token": demoToken}, nil)
	if err != nil {
		return "", false, fmt.Errorf("demo: connection: %w", err)
	}
	now := time.Now().UTC()
	conns, err := a.Store.ListConnections(ctx, orgID, store.ConnectionFilter{CustomerID: demoCustomer})
	if err != nil {
		return "", false, demoStoreError("connections", err)
	}
	for _, c := range conns {
		if c.ConnectorName != "ghl" || c.Settings["location_id"] != demoLocation {
			continue
		}
		cc, err := a.Store.GetConnectorConfig(ctx, orgID, c.ConnectorConfigID)
		if err != nil {
			return "", false, demoStoreError("connector config", err)
		}
		cc.Settings, cc.Secrets, cc.UpdatedAt = cfgSplit.Public, cfgSplit.Secret, now
		if _, err := a.Store.UpdateConnectorConfig(ctx, cc); err != nil {
			return "", false, demoStoreError("connector config", err)
		}
		if c.Status != store.ConnectionActive || c.Credentials["private_integration_token"] != demoToken {
			c.Status, c.StatusMessage, c.Settings, c.Credentials, c.UpdatedAt = store.ConnectionActive, "", connSplit.Public, connSplit.Secret, now
			if _, err := a.Store.UpdateConnection(ctx, c); err != nil {
				return "", false, demoStoreError("connection", err)
			}
		}
		return c.ID, true, nil
	}
	cfg, err := a.Store.CreateConnectorConfig(ctx, store.ConnectorConfig{
		ID: auth.NewID("ccfg_ghl_"), OrganisationID: orgID, ConnectorName: "ghl",
		Settings: cfgSplit.Public, Secrets: cfgSplit.Secret, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return "", false, fmt.Errorf("demo: connector config: %w", err)
	}
	conn, err := a.Store.CreateConnection(ctx, store.Connection{
		ID: auth.NewID("conn_ghl_"), OrganisationID: orgID, ConnectorConfigID: cfg.ID, ConnectorName: "ghl",
		CustomerID: demoCustomer, AuthType: authType, Status: store.ConnectionActive,
		Settings: connSplit.Public, Credentials: connSplit.Secret, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return "", false, fmt.Errorf("demo: connection: %w", err)
	}
	return conn.ID, false, nil
}

// demoStoreError marks an undecryptable row as ErrDemoStale.
func demoStoreError(what string, err error) error {
	if errors.Is(err, secrets.ErrDecrypt) || errors.Is(err, secrets.ErrUnknownKey) || errors.Is(err, secrets.ErrMalformed) {
		return fmt.Errorf("%w: %s: %w", ErrDemoStale, what, err)
	}
	return fmt.Errorf("demo: %s: %w", what, err)
}
