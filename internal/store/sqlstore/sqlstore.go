// Package sqlstore implements store.Store over database/sql for two
// dialects: SQLite (the pure-Go modernc.org/sqlite driver) and PostgreSQL
// (pgx). One implementation serves both: queries are written with ?
// placeholders and rebound for PostgreSQL, and the few dialect differences
// (timestamp encoding, error codes, migration locking) are isolated in small
// helpers.
//
// Secrets (ConnectorConfig.Secrets, Connection.Credentials) are stored as
// JSON encrypted with a secrets.Keyring; the associated data is the row's
// "<table>/<id>", so a ciphertext copied to another row does not decrypt.
package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"               // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store backed by SQLite or PostgreSQL. It is safe for
// concurrent use.
type Store struct {
	db      *sql.DB
	dialect dialect
	keys    *secrets.Keyring
	log     *slog.Logger
	now     func() time.Time // the clock stamping created_at/updated_at
}

// Open connects to the database at databaseURL, applies any pending
// migrations and returns the store. databaseURL is one of:
//
//	postgres://user:pass@host:5432/db?sslmode=disable  (or postgresql://)
//	sqlite:///abs/path/file.db, sqlite://rel/path/file.db
//	file:path/file.db?... (an SQLite URI)
//	path/to/file.db (a plain path: SQLite)
//
// For SQLite the file's parent directory is created (mode 0700) if missing.
// keys encrypts secrets; log may be nil; opts may add tracing.
func Open(ctx context.Context, databaseURL string, keys *secrets.Keyring, log *slog.Logger, opts ...Option) (*Store, error) {
	if keys == nil {
		return nil, errors.New("sqlstore: nil keyring")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t, err := parseDatabaseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	if t.dir != "" {
		if err := os.MkdirAll(t.dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlstore: create database directory: %w", err)
		}
	}
	var oo openOptions
	for _, f := range opts {
		f(&oo)
	}
	db, err := openDB(t.dialect.driverName(), t.dsn, oo)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", t.display, err)
	}
	switch t.dialect {
	case sqliteDialect:
		// SQLite allows one writer at a time. A single connection
		// serialises this process's statements in database/sql's pool,
		// where waiting is cheap and fair, instead of in SQLite's busy
		// handler; busy_timeout and BEGIN IMMEDIATE (see sqliteParams)
		// still cover other processes sharing the file. Reads are fast
		// enough that one connection is not a bottleneck at crmgate's
		// scale. Consequence for this package: no query may run outside a
		// transaction while that transaction is open (it would deadlock).
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	case postgresDialect:
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
		db.SetConnMaxLifetime(time.Hour)
	}
	s := &Store{
		db:      db,
		dialect: t.dialect,
		keys:    keys,
		log:     log.With("dialect", t.dialect.String()), // the caller names the component
		now:     func() time.Time { return time.Now() },
	}
	if err := ping(ctx, db, t.dialect); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: connect to %s: %w", t.display, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	s.log.Info("store opened", "database", t.display)
	return s, nil
}

// Close closes the database. It is safe to call more than once.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// ---- SQL helpers -----------------------------------------------------------

// rebind rewrites the ? placeholders of q as $1, $2 ... for PostgreSQL. A ?
// inside a single-quoted literal is left alone (no query here has one, but
// the helper should not be a trap).
func (s *Store) rebind(q string) string {
	if s.dialect != postgresDialect {
		return q
	}
	return rebindDollar(q)
}

func rebindDollar(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'':
			quoted = !quoted // a doubled '' toggles twice: still correct
			b.WriteByte(c)
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// ---- errors ----------------------------------------------------------------

type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// classify reports whether err is a unique or foreign-key violation, and
// the violated constraint's name as the database gives it (no values).
func (s *Store) classify(err error) (violation, string) {
	if err == nil {
		return noViolation, ""
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return uniqueViolation, pgErr.ConstraintName
		case "23503":
			return foreignKeyViolation, pgErr.ConstraintName
		}
		return noViolation, ""
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		// SQLite's messages name the columns ("UNIQUE constraint failed:
		// api_keys.hash"), never the values.
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueViolation, liteErr.Error()
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation, liteErr.Error()
		}
	}
	return noViolation, ""
}

// ping opens the first connection. For SQLite it tries again, for up to
// busyWait, while the file answers SQLITE_BUSY: a connection's set-up
// (journal_mode=WAL on a new file, or reading a WAL another connection is
// recovering) can fail with SQLITE_BUSY without going through SQLite's
// busy handler, as seen with eight stores opening one new file at once
// (TestConcurrentOpen).
func ping(ctx context.Context, db *sql.DB, d dialect) error {
	deadline := time.Now().Add(busyWait)
	delay := 5 * time.Millisecond
	for {
		err := db.PingContext(ctx)
		var liteErr *sqlite.Error
		if d != sqliteDialect || !errors.As(err, &liteErr) || liteErr.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().Add(delay).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// busyWait is how long ping waits out SQLITE_BUSY, as busy_timeout does
// for statements (see sqliteParams).
const busyWait = 5 * time.Second

// conflict wraps store.ErrConflict for a unique violation.
func conflict(what, constraint string) error {
	if constraint == "" {
		return fmt.Errorf("sqlstore: %s: %w", what, store.ErrConflict)
	}
	return fmt.Errorf("sqlstore: %s (%s): %w", what, constraint, store.ErrConflict)
}

func notFound(what string) error {
	return fmt.Errorf("sqlstore: %s: %w", what, store.ErrNotFound)
}

// ---- values ----------------------------------------------------------------

// sqliteTimeFormat is fixed-width so that text order is time order.
const sqliteTimeFormat = "2006-01-02T15:04:05.000000Z"

// stamp returns the current time as stored: UTC, microsecond precision
// (PostgreSQL's), so what Create returns equals what Get reads back.
func (s *Store) stamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// timeArg encodes t for a timestamp column.
func (s *Store) timeArg(t time.Time) any {
	if s.dialect == sqliteDialect {
		return t.UTC().Format(sqliteTimeFormat)
	}
	return t.UTC()
}

// nullTimeArg encodes t for a nullable timestamp column: NULL for the zero
// time.
func (s *Store) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.timeArg(t)
}

// nullTimeCol scans a nullable timestamp column: NULL is the zero time.
type nullTimeCol struct{ t *time.Time }

func (c nullTimeCol) Scan(v any) error {
	if v == nil {
		*c.t = time.Time{}
		return nil
	}
	return timeCol(c).Scan(v)
}

// timeCol scans a timestamp column of either dialect into a UTC time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		*c.t = x.UTC()
		return nil
	case string:
		return c.parse(x)
	case []byte:
		return c.parse(string(x))
	}
	return fmt.Errorf("sqlstore: cannot scan %T into a time", v)
}

func (c timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("sqlstore: bad stored time %q: %w", s, err)
	}
	*c.t = t.UTC()
	return nil
}

// encodeMap encodes a settings map as a JSON object ("{}" for nil).
func encodeMap(m map[string]string) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// decodeMap decodes a JSON object; the result is never nil.
func decodeMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// aad is the associated data binding a ciphertext to its row.
func aad(table, id string) []byte { return []byte(table + "/" + id) }

// seal encrypts a secrets map for the row table/id. Empty maps are
// encrypted too, so a column never reveals whether a row has secrets.
func (s *Store) seal(table, id string, m map[string]string) (string, error) {
	plain, err := encodeMap(m)
	if err != nil {
		return "", fmt.Errorf("sqlstore: encode %s/%s secrets: %w", table, id, err)
	}
	enc, err := s.keys.Encrypt([]byte(plain), aad(table, id))
	if err != nil {
		return "", fmt.Errorf("sqlstore: encrypt %s/%s secrets: %w", table, id, err)
	}
	return enc, nil
}

// unseal decrypts what seal made. Errors name the row, never the value.
func (s *Store) unseal(table, id, enc string) (map[string]string, error) {
	plain, err := s.keys.Decrypt(enc, aad(table, id))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: decrypt %s/%s secrets: %w", table, id, err)
	}
	m, err := decodeMap(string(plain))
	if err != nil {
		// json's error may quote the plaintext: drop it.
		return nil, fmt.Errorf("sqlstore: decrypted %s/%s secrets are not a JSON object of strings", table, id)
	}
	return m, nil
}

// newOrganisationID returns "org_" and 26 random base32 characters (130 bits).
func newOrganisationID() string {
	return "org_" + strings.ToLower(rand.Text())
}

// required returns an error naming the first empty field.
func required(what string, fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return fmt.Errorf("sqlstore: %s: %s is required", what, fields[i])
		}
	}
	return nil
}
