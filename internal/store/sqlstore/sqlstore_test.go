package sqlstore

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store"
	"github.com/crmgate/crmgate/internal/store/storetest"
	"github.com/crmgate/crmgate/internal/testenv"
)

// ---- helpers ---------------------------------------------------------------

func newKeyring(t testing.TB) *secrets.Keyring {
	t.Helper()
	k, err := secrets.ParseKeyring(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func parseKeyring(t testing.TB, spec string) *secrets.Keyring {
	t.Helper()
	k, err := secrets.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// openStore opens dbURL; the caller closes the store.
func openStore(t testing.TB, dbURL string, keys *secrets.Keyring) *Store {
	t.Helper()
	s, err := Open(t.Context(), dbURL, keys, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// mustOpen opens dbURL and closes the store when the test ends.
func mustOpen(t testing.TB, dbURL string, keys *secrets.Keyring) *Store {
	t.Helper()
	s := openStore(t, dbURL, keys)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func randomSuffix() string { return strings.ToLower(rand.Text()[:12]) }

// sqliteURL returns a fresh SQLite database URL (a file in a not yet
// existing directory under t.TempDir()).
func sqliteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "data", "crmgate.db")
}

// postgresURL returns the URL of a fresh, empty schema of the test database,
// dropped when the test ends (after stores the test closes in its own
// cleanups, which run first).
func postgresURL(t testing.TB) string {
	t.Helper()
	u, _ := testenv.PostgresSchemaURL(t, "t_")
	return u
}

type backend struct {
	name   string
	newURL func(t testing.TB) string
}

func backends() []backend {
	return []backend{{"SQLite", sqliteURL}, {"Postgres", postgresURL}}
}

// forEachBackend runs fn as a subtest per backend, with a fresh database URL.
func forEachBackend(t *testing.T, fn func(t *testing.T, dbURL string)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { fn(t, b.newURL(t)) })
	}
}

// dumpTable returns every column of every row of table as text.
func dumpTable(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT * FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			fmt.Fprintf(&b, "%s=%s|", cols[i], v.String)
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func rawColumn(t *testing.T, s *Store, table, column, id string) string {
	t.Helper()
	var v string
	if err := s.db.QueryRowContext(t.Context(), s.rebind(`SELECT `+column+` FROM `+table+` WHERE id = ?`), id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// seed creates an organisation, a config and a connection with secrets.
func seed(t *testing.T, s *Store, configSecret, connSecret string) store.Organisation {
	t.Helper()
	ctx := t.Context()
	org, err := s.EnsureOrganisation(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateConnectorConfig(ctx, store.ConnectorConfig{
		ID: "cc1", OrganisationID: org.ID, ConnectorName: "ghl",
		Settings: map[string]string{"base_url": "https://plain-setting.example.com"},
		Secrets:  map[string]string{"client_secret": configSecret},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateConnection(ctx, store.Connection{
		ID: "conn1", OrganisationID: org.ID, ConnectorConfigID: "cc1", CustomerID: "cust1", AuthType: "oauth",
		Settings:    map[string]string{"location_id": "plain-location"},
		Credentials: map[string]string{"access_token": connSecret},
	}); err != nil {
		t.Fatal(err)
	}
	return org
}

// ---- contract --------------------------------------------------------------

func TestSQLite(t *testing.T) {
	storetest.RunContractTests(t, func(t *testing.T) store.Store {
		return openStore(t, sqliteURL(t), newKeyring(t))
	})
}

func TestPostgres(t *testing.T) {
	testenv.PostgresURL(t) // skip (or fail under CI) up front if unreachable
	storetest.RunContractTests(t, func(t *testing.T) store.Store {
		return openStore(t, postgresURL(t), newKeyring(t))
	})
}

// ---- unit ------------------------------------------------------------------

func TestParseDatabaseURL(t *testing.T) {
	const p = sqliteParams
	tests := []struct {
		in      string
		dialect dialect
		dsn     string
		dir     string
		wantErr string
	}{
		{in: "postgres://u:pw@db:5432/crm?sslmode=disable", dialect: postgresDialect, dsn: "postgres://u:pw@db:5432/crm?sslmode=disable"},
		{in: "postgresql://db/crm", dialect: postgresDialect, dsn: "postgresql://db/crm"},
		{in: "POSTGRES://db/crm", dialect: postgresDialect, dsn: "POSTGRES://db/crm"},
		{in: "sqlite:///var/lib/crmgate/crm.db", dialect: sqliteDialect, dsn: "/var/lib/crmgate/crm.db?" + p, dir: "/var/lib/crmgate"},
		{in: "sqlite://data/crm.db", dialect: sqliteDialect, dsn: "data/crm.db?" + p, dir: "data"},
		{in: "sqlite:data/crm.db", dialect: sqliteDialect, dsn: "data/crm.db?" + p, dir: "data"},
		{in: "sqlite://crm.db?_pragma=synchronous(NORMAL)", dialect: sqliteDialect, dsn: "crm.db?_pragma=synchronous(NORMAL)&" + p, dir: "."},
		{in: "file:/var/lib/crm.db", dialect: sqliteDialect, dsn: "file:/var/lib/crm.db?" + p, dir: "/var/lib"},
		{in: "file:///var/lib/crm.db?mode=rwc", dialect: sqliteDialect, dsn: "file:///var/lib/crm.db?mode=rwc&" + p, dir: "/var/lib"},
		{in: "file://localhost/var/my%20dir/crm.db", dialect: sqliteDialect, dsn: "file://localhost/var/my%20dir/crm.db?" + p, dir: "/var/my dir"},
		{in: "file:crm.db", dialect: sqliteDialect, dsn: "file:crm.db?" + p, dir: "."},
		{in: "file::memory:", dialect: sqliteDialect, dsn: "file::memory:?" + p},
		{in: "file:mem?mode=memory&cache=shared", dialect: sqliteDialect, dsn: "file:mem?mode=memory&cache=shared&" + p},
		{in: "/abs/crm.db", dialect: sqliteDialect, dsn: "/abs/crm.db?" + p, dir: "/abs"},
		{in: "./crm.db", dialect: sqliteDialect, dsn: "./crm.db?" + p, dir: "."},
		{in: "crm.db", dialect: sqliteDialect, dsn: "crm.db?" + p, dir: "."},
		{in: ":memory:", dialect: sqliteDialect, dsn: ":memory:?" + p},
		{in: "", wantErr: "empty database URL"},
		{in: "sqlite://", wantErr: "no file path"},
		{in: "mysql://u:pw@db/crm", wantErr: `unsupported database URL scheme "mysql"`},
		{in: "postgres://u:pw@db:bad port/crm", wantErr: "malformed postgres URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDatabaseURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Fatalf("error %q leaks the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.dialect != tt.dialect || got.dsn != tt.dsn || got.dir != filepath.FromSlash(tt.dir) {
				t.Fatalf("got {%v %q dir %q}, want {%v %q dir %q}", got.dialect, got.dsn, got.dir, tt.dialect, tt.dsn, tt.dir)
			}
			if strings.Contains(got.display, ":pw@") {
				t.Fatalf("display %q shows the password", got.display)
			}
		})
	}
}

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"x IN (?, ?, ?)", "x IN ($1, $2, $3)"},
		{"a = '?' AND b = ?", "a = '?' AND b = $1"},
		{"a = 'it''s?' AND b = ?", "a = 'it''s?' AND b = $1"},
	}
	for _, tt := range tests {
		if got := rebindDollar(tt.in); got != tt.want {
			t.Errorf("rebindDollar(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	s := &Store{dialect: sqliteDialect}
	if got := s.rebind("a = ?"); got != "a = ?" {
		t.Errorf("sqlite rebind = %q", got)
	}
}

func TestLoadMigrations(t *testing.T) {
	for _, d := range []dialect{sqliteDialect, postgresDialect} {
		ms, err := loadMigrations(migrationFiles, "migrations/"+d.String())
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 || ms[0].version != 1 {
			t.Fatalf("%v: migrations = %v", d, ms)
		}
		for i, m := range ms {
			if m.version != i+1 {
				t.Errorf("%v: migration %s has version %d, want %d (no gaps)", d, m.name, m.version, i+1)
			}
		}
	}
	// Both dialects have the same migrations.
	a, _ := loadMigrations(migrationFiles, "migrations/sqlite")
	b, _ := loadMigrations(migrationFiles, "migrations/postgres")
	if len(a) != len(b) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(a), len(b))
	}
	for i := range a {
		if a[i].name != b[i].name {
			t.Errorf("migration %d: sqlite %s, postgres %s", i, a[i].name, b[i].name)
		}
	}
}

// ---- Open ------------------------------------------------------------------

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	if _, err := Open(ctx, sqliteURL(t), nil, nil); err == nil || !strings.Contains(err.Error(), "nil keyring") {
		t.Fatalf("Open(nil keyring) = %v", err)
	}
	if _, err := Open(ctx, "mysql://root:hunter2@db/crm", newKeyring(t), nil); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Open(mysql) = %v", err)
	}
	// An unreachable server: the error names the server but not the password.
	_, err := Open(ctx, "postgres://crm:hunter2@127.0.0.1:1/crm?sslmode=disable&connect_timeout=2", newKeyring(t), nil)
	if err == nil {
		t.Fatal("Open(unreachable postgres) succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %q leaks the password", err)
	}
	// A file where the directory should be.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, filepath.Join(blocker, "sub", "crm.db"), newKeyring(t), nil); err == nil {
		t.Fatal("Open under a regular file succeeded")
	}
}

// TestSQLiteURLForms opens each accepted SQLite form and checks the
// connection is set up as sqliteParams says.
func TestSQLiteURLForms(t *testing.T) {
	forms := []struct {
		name  string
		dbURL func(dir string) string
	}{
		{"sqlite://", func(dir string) string { return "sqlite://" + filepath.Join(dir, "a", "crm.db") }},
		{"file:", func(dir string) string { return "file:" + filepath.Join(dir, "a", "crm.db") }},
		{"plain path", func(dir string) string { return filepath.Join(dir, "a", "crm.db") }},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, f.dbURL(dir), newKeyring(t))
			if err := s.Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "a", "crm.db")); err != nil {
				t.Fatalf("database file not where expected: %v", err)
			}
			if runtime.GOOS != "windows" {
				fi, err := os.Stat(filepath.Join(dir, "a"))
				if err != nil {
					t.Fatal(err)
				}
				if perm := fi.Mode().Perm(); perm != 0o700 {
					t.Errorf("created directory mode = %#o, want 0700", perm)
				}
			}
			var journal string
			var fk, busy int
			ctx := t.Context()
			if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
				t.Fatal(err)
			}
			if err := s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if err := s.db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
				t.Fatal(err)
			}
			if journal != "wal" || fk != 1 || busy != 5000 {
				t.Fatalf("journal_mode=%s foreign_keys=%d busy_timeout=%d", journal, fk, busy)
			}
		})
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		keys := newKeyring(t)
		s := openStore(t, dbURL, keys)
		org := seed(t, s, "cfg-secret", "conn-secret")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			s = mustOpen(t, dbURL, keys)
			got, err := s.GetOrganisation(t.Context(), org.ID)
			if err != nil || got.Name != "acme" {
				t.Fatalf("after reopen: %+v, %v", got, err)
			}
			c, err := s.GetConnection(t.Context(), org.ID, "conn1")
			if err != nil || c.Credentials["access_token"] != "conn-secret" {
				t.Fatalf("after reopen: %+v, %v", c, err)
			}
		}
		want, _ := loadMigrations(migrationFiles, "migrations/"+s.dialect.String())
		got, err := s.appliedVersions(t.Context(), s.db)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("schema_migrations holds %v, want %d versions", got, len(want))
		}
	})
}

// TestConcurrentOpen starts several stores on one fresh database at once:
// all must succeed and the migrations apply once.
func TestConcurrentOpen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		const n = 8
		keys := newKeyring(t)
		stores := make([]*Store, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				s, err := Open(t.Context(), dbURL, keys, nil)
				if err != nil {
					t.Errorf("Open %d: %v", i, err)
					return
				}
				stores[i] = s
			})
		}
		wg.Wait()
		for _, s := range stores {
			if s != nil {
				t.Cleanup(func() { _ = s.Close() })
			}
		}
		if t.Failed() {
			return
		}
		got, err := stores[0].appliedVersions(t.Context(), stores[0].db)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := loadMigrations(migrationFiles, "migrations/"+stores[0].dialect.String())
		if len(got) != len(want) {
			t.Fatalf("schema_migrations = %v, want %d versions", got, len(want))
		}
		// Every store works, on the same data.
		org, err := stores[0].EnsureOrganisation(t.Context(), "shared")
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range stores {
			if o, err := s.EnsureOrganisation(t.Context(), "shared"); err != nil || o.ID != org.ID {
				t.Fatalf("store %d: %+v, %v", i, o, err)
			}
		}
	})
}

// TestSQLiteTwoStoresSameFile: two stores (as two processes would) writing
// one file concurrently neither fail with SQLITE_BUSY nor lose updates.
func TestSQLiteTwoStoresSameFile(t *testing.T) {
	dbURL := sqliteURL(t)
	keys := newKeyring(t)
	a, b := mustOpen(t, dbURL, keys), mustOpen(t, dbURL, keys)
	seed(t, a, "x", "y")
	org, err := b.EnsureOrganisation(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	const perStore = 10
	var done atomic.Int32
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for range perStore / 2 {
				for {
					c, err := s.GetConnection(t.Context(), org.ID, "conn1")
					if err != nil {
						t.Errorf("GetConnection: %v", err)
						return
					}
					c.StatusMessage += "x"
					if _, err = s.UpdateConnection(t.Context(), c); err == nil {
						done.Add(1)
						break
					}
					if !errors.Is(err, store.ErrConflict) {
						t.Errorf("UpdateConnection: %v", err)
						return
					}
				}
			}
		})
	}
	// CreateConnection reads (the config) then writes, in one transaction:
	// across processes that needs BEGIN IMMEDIATE, else SQLite answers
	// SQLITE_BUSY rather than waiting when the read snapshot goes stale.
	for i, s := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for j := range 10 {
				if _, err := s.CreateConnection(t.Context(), store.Connection{
					ID: fmt.Sprintf("new-%d-%d", i, j), OrganisationID: org.ID, ConnectorConfigID: "cc1",
					CustomerID: fmt.Sprintf("cust-%d-%d", i, j), AuthType: "oauth",
				}); err != nil {
					t.Errorf("CreateConnection: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if all, err := b.ListConnections(t.Context(), org.ID, store.ConnectionFilter{}); err != nil || len(all) != 41 {
		t.Fatalf("ListConnections = %d rows, %v; want 41", len(all), err)
	}
	c, err := a.GetConnection(t.Context(), org.ID, "conn1")
	if err != nil {
		t.Fatal(err)
	}
	if n := int(done.Load()); len(c.StatusMessage) != n || c.Version != int64(1+n) || n != 2*perStore {
		t.Fatalf("after %d updates: message length %d, version %d", n, len(c.StatusMessage), c.Version)
	}
}

func TestEnsureOrganisationID(t *testing.T) {
	s := mustOpen(t, sqliteURL(t), newKeyring(t))
	o, err := s.EnsureOrganisation(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(o.ID, "org_") || len(o.ID) != len("org_")+26 || strings.ToLower(o.ID) != o.ID {
		t.Fatalf("organisation id = %q, want org_ and 26 lowercase characters", o.ID)
	}
}

// ---- secrets at rest -------------------------------------------------------

func TestSecretsNotStoredInPlaintext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		cfgSecret := "cfg-secret-" + randomSuffix()
		connSecret := "conn-secret-" + randomSuffix()
		updatedSecret := "updated-secret-" + randomSuffix()
		s := mustOpen(t, dbURL, newKeyring(t))
		org := seed(t, s, cfgSecret, connSecret)
		// Also through the update paths.
		if _, err := s.CreateConnectorConfig(t.Context(), store.ConnectorConfig{
			ID: "cc2", OrganisationID: org.ID, ConnectorName: "ghl", Secrets: map[string]string{"a": "b"},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateConnectorConfig(t.Context(), store.ConnectorConfig{
			ID: "cc2", OrganisationID: org.ID, Secrets: map[string]string{"client_secret": updatedSecret},
		}); err != nil {
			t.Fatal(err)
		}
		c, err := s.GetConnection(t.Context(), org.ID, "conn1")
		if err != nil {
			t.Fatal(err)
		}
		c.Credentials["refresh_token"] = updatedSecret
		if _, err := s.UpdateConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}

		var all strings.Builder
		for _, table := range []string{"organisations", "api_keys", "connector_configs", "customers", "connections"} {
			all.WriteString(dumpTable(t, s.db, table))
		}
		dump := all.String()
		// The dump is meaningful: it shows the non-secret settings.
		if !strings.Contains(dump, "plain-location") || !strings.Contains(dump, "plain-setting.example.com") {
			t.Fatalf("dump lacks the plain settings; is it reading the rows?\n%s", dump)
		}
		for _, secret := range []string{cfgSecret, connSecret, updatedSecret} {
			if strings.Contains(dump, secret) {
				t.Fatalf("secret %q found in the database:\n%s", secret, dump)
			}
		}
		for _, p := range []struct{ table, column, id string }{
			{"connector_configs", "secrets_enc", "cc1"},
			{"connector_configs", "secrets_enc", "cc2"},
			{"connections", "credentials_enc", "conn1"},
		} {
			if v := rawColumn(t, s, p.table, p.column, p.id); !strings.HasPrefix(v, "v1."+s.keys.NewestKeyID()+".") {
				t.Errorf("%s.%s of %s = %.20q..., want a ciphertext", p.table, p.column, p.id, v)
			}
		}

		if s.dialect == sqliteDialect {
			// Nor anywhere in the files: database, WAL, shared memory.
			path := strings.TrimPrefix(dbURL, "sqlite://")
			var files bytes.Buffer
			for _, suffix := range []string{"", "-wal", "-shm"} {
				data, err := os.ReadFile(path + suffix)
				if err == nil {
					files.Write(data)
				}
			}
			if !bytes.Contains(files.Bytes(), []byte("plain-location")) {
				t.Fatal("database files lack the plain settings; are they the right files?")
			}
			for _, secret := range []string{cfgSecret, connSecret, updatedSecret} {
				if bytes.Contains(files.Bytes(), []byte(secret)) {
					t.Fatalf("secret %q found in the database files", secret)
				}
			}
		}
	})
}

// TestCiphertextBoundToRow: a ciphertext copied into another row (same
// table or another table, even with the same id) does not decrypt.
func TestCiphertextBoundToRow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		ctx := t.Context()
		s := mustOpen(t, dbURL, newKeyring(t))
		org := seed(t, s, "cfg-secret-1", "conn-secret-1")
		if _, err := s.CreateConnectorConfig(ctx, store.ConnectorConfig{
			ID:             "conn1", // same id as the connection: only the table tells them apart
			OrganisationID: org.ID, ConnectorName: "ghl", Secrets: map[string]string{"client_secret": "cfg-secret-2"},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateConnection(ctx, store.Connection{
			ID: "conn2", OrganisationID: org.ID, ConnectorConfigID: "cc1", CustomerID: "cust2", AuthType: "oauth",
			Credentials: map[string]string{"access_token": "conn-secret-2"},
		}); err != nil {
			t.Fatal(err)
		}
		copyCol := func(dstTable, dstCol, dstID, srcTable, srcCol, srcID string) {
			t.Helper()
			v := rawColumn(t, s, srcTable, srcCol, srcID)
			if _, err := s.db.ExecContext(ctx, s.rebind(`UPDATE `+dstTable+` SET `+dstCol+` = ? WHERE id = ?`), v, dstID); err != nil {
				t.Fatal(err)
			}
		}
		checkFails := func(what string, err error) {
			t.Helper()
			if err == nil {
				t.Fatalf("%s: read a ciphertext copied from another row", what)
			}
			if errors.Is(err, store.ErrNotFound) || !errors.Is(err, secrets.ErrDecrypt) {
				t.Fatalf("%s: err = %v, want a decryption error", what, err)
			}
			for _, secret := range []string{"cfg-secret-1", "cfg-secret-2", "conn-secret-1", "conn-secret-2"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("%s: error %q leaks a secret", what, err)
				}
			}
		}

		// Table to table, same id: connector config "conn1" -> connection
		// "conn1".
		original := rawColumn(t, s, "connections", "credentials_enc", "conn1")
		copyCol("connections", "credentials_enc", "conn1", "connector_configs", "secrets_enc", "conn1")
		_, err := s.GetConnection(ctx, org.ID, "conn1")
		checkFails("GetConnection(conn1 with config conn1's secrets)", err)
		if _, err := s.db.ExecContext(ctx, s.rebind(`UPDATE connections SET credentials_enc = ? WHERE id = ?`), original, "conn1"); err != nil {
			t.Fatal(err)
		}

		// Row to row, same table.
		copyCol("connections", "credentials_enc", "conn2", "connections", "credentials_enc", "conn1")
		_, err = s.GetConnection(ctx, org.ID, "conn2")
		checkFails("GetConnection(conn2 with conn1's credentials)", err)
		_, err = s.ListConnections(ctx, org.ID, store.ConnectionFilter{})
		checkFails("ListConnections", err)
		if c, err := s.GetConnection(ctx, org.ID, "conn1"); err != nil || c.Credentials["access_token"] != "conn-secret-1" {
			t.Fatalf("source row: %+v, %v", c, err)
		}

		copyCol("connector_configs", "secrets_enc", "conn1", "connector_configs", "secrets_enc", "cc1")
		_, err = s.GetConnectorConfig(ctx, org.ID, "conn1")
		checkFails("GetConnectorConfig(conn1 with cc1's secrets)", err)

	})
}

func TestReencryptAll(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		ctx := t.Context()
		oldKey, newKey := secrets.GenerateKey(), secrets.GenerateKey()
		oldRing := parseKeyring(t, "k1:"+oldKey)
		rotated := parseKeyring(t, "k2:"+newKey+",k1:"+oldKey)
		newOnly := parseKeyring(t, "k2:"+newKey)

		// Rows written under k1.
		s := openStore(t, dbURL, oldRing)
		org := seed(t, s, "cfg-secret", "conn-secret")
		for i := range 3 {
			if _, err := s.CreateConnection(ctx, store.Connection{
				ID: fmt.Sprintf("conn-extra-%d", i), OrganisationID: org.ID, ConnectorConfigID: "cc1",
				CustomerID: "cust1", AuthType: "pit", Credentials: map[string]string{"private_integration_token": fmt.Sprint("pit-", i)},
			}); err != nil {
				t.Fatal(err)
			}
		}
		before, err := s.ListConnections(ctx, org.ID, store.ConnectionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		_ = s.Close()

		// Dropping the old key too early: reads fail clearly, and so does
		// re-encryption, naming the row.
		s = openStore(t, dbURL, newOnly)
		_, err = s.GetConnection(ctx, org.ID, "conn1")
		if !errors.Is(err, secrets.ErrUnknownKey) {
			t.Fatalf("GetConnection with the old key gone: %v, want ErrUnknownKey", err)
		}
		if _, err := s.ReencryptAll(ctx); !errors.Is(err, secrets.ErrUnknownKey) || !strings.Contains(err.Error(), "connector_configs/cc1") {
			t.Fatalf("ReencryptAll with the old key gone: %v", err)
		}
		_ = s.Close()

		// Rotation: the new key first, the old one kept.
		s = openStore(t, dbURL, rotated)
		if v := rawColumn(t, s, "connections", "credentials_enc", "conn1"); !strings.HasPrefix(v, "v1.k1.") {
			t.Fatalf("before re-encryption: %.8q", v)
		}
		if c, err := s.GetConnection(ctx, org.ID, "conn1"); err != nil || c.Credentials["access_token"] != "conn-secret" {
			t.Fatalf("old row under the rotated keyring: %+v, %v", c, err)
		}
		// A row written now is under k2 already and is not counted.
		if _, err := s.UpdateConnectorConfig(ctx, store.ConnectorConfig{
			ID: "cc1", OrganisationID: org.ID, Secrets: map[string]string{"client_secret": "cfg-secret"},
		}); err != nil {
			t.Fatal(err)
		}
		n, err := s.ReencryptAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 4 { // conn1 and three extras; cc1 was rewritten by the update
			t.Fatalf("ReencryptAll rewrote %d rows, want 4", n)
		}
		for _, id := range []string{"conn1", "conn-extra-0", "conn-extra-1", "conn-extra-2"} {
			if v := rawColumn(t, s, "connections", "credentials_enc", id); !strings.HasPrefix(v, "v1.k2.") {
				t.Errorf("%s after re-encryption: %.8q", id, v)
			}
		}
		if v := rawColumn(t, s, "connector_configs", "secrets_enc", "cc1"); !strings.HasPrefix(v, "v1.k2.") {
			t.Errorf("cc1 after re-encryption: %.8q", v)
		}
		if n, err := s.ReencryptAll(ctx); err != nil || n != 0 {
			t.Fatalf("second ReencryptAll = %d, %v; want 0", n, err)
		}
		_ = s.Close()

		// The old key can go now; nothing else changed.
		s = mustOpen(t, dbURL, newOnly)
		after, err := s.ListConnections(ctx, org.ID, store.ConnectionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Fatalf("%d connections after, %d before", len(after), len(before))
		}
		for i := range before {
			b, a := before[i], after[i]
			if a.ID != b.ID || a.Version != b.Version || !a.UpdatedAt.Equal(b.UpdatedAt) ||
				fmt.Sprint(a.Credentials) != fmt.Sprint(b.Credentials) {
				t.Errorf("connection %s changed: %+v -> %+v", b.ID, b, a)
			}
		}
		cfg, err := s.GetConnectorConfig(ctx, org.ID, "cc1")
		if err != nil || cfg.Secrets["client_secret"] != "cfg-secret" {
			t.Fatalf("config under the new key only: %+v, %v", cfg, err)
		}
	})
}

// TestReencryptAllPaging: more rows than one page.
func TestReencryptAllPaging(t *testing.T) {
	ctx := t.Context()
	dbURL := sqliteURL(t)
	oldKey := secrets.GenerateKey()
	s := openStore(t, dbURL, parseKeyring(t, "k1:"+oldKey))
	org := seed(t, s, "a", "b")
	const n = reencryptBatch*2 + 7
	for i := range n {
		if _, err := s.CreateConnection(ctx, store.Connection{
			ID: fmt.Sprintf("c%04d", i), OrganisationID: org.ID, ConnectorConfigID: "cc1", CustomerID: "cust1",
			Credentials: map[string]string{"t": fmt.Sprint(i)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close()
	s = mustOpen(t, dbURL, parseKeyring(t, "k2:"+secrets.GenerateKey()+",k1:"+oldKey))
	got, err := s.ReencryptAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := n + 2; got != want { // + cc1 and conn1 from seed
		t.Fatalf("ReencryptAll = %d, want %d", got, want)
	}
}

// TestNoSecretsInLogs runs the store with debug logging and searches the
// output for secrets.
func TestNoSecretsInLogs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		var buf bytes.Buffer
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		key := secrets.GenerateKey()
		s, err := Open(t.Context(), dbURL, parseKeyring(t, "k1:"+key), log)
		if err != nil {
			t.Fatal(err)
		}
		seed(t, s, "cfg-secret-xyz", "conn-secret-xyz")
		_ = s.Close()
		s, err = Open(t.Context(), dbURL, parseKeyring(t, "k2:"+secrets.GenerateKey()+",k1:"+key), log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if _, err := s.ReencryptAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		out := buf.String()
		mu.Unlock()
		if !strings.Contains(out, "store opened") {
			t.Fatalf("no log output captured:\n%s", out)
		}
		for _, bad := range []string{"cfg-secret-xyz", "conn-secret-xyz", key} {
			if strings.Contains(out, bad) {
				t.Fatalf("log output contains a secret:\n%s", out)
			}
		}
		if u, err := url.Parse(dbURL); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(out, pw) {
				t.Fatalf("log output contains the database password:\n%s", out)
			}
		}
	})
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestPing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		s := openStore(t, dbURL, newKeyring(t))
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		if err := s.Ping(t.Context()); err == nil {
			t.Fatal("Ping after Close succeeded")
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}
