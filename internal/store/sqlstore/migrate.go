package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// migrationFiles holds migrations/<dialect>/NNNN_name.sql. Versions are the
// numeric prefixes; they are applied in order, each once, and recorded in
// schema_migrations. A released migration is never edited: a change is a
// new file (for both dialects).
//
// Kept rather than pressly/goose (evaluated at v3.28–v3.30): goose has no
// lock for SQLite (pressly/goose#1022), and eight goose providers opening
// one fresh SQLite file at once failed in 8 of 20 rounds ("table ...
// already exists"), which TestConcurrentOpen forbids; goose also keeps its
// own goose_db_version table, so existing databases' schema_migrations
// would need a carry-over and a database goose created would break an
// older binary. docs/design.md has the whole decision.
//
//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string // file name
	sql     string
}

// loadMigrations reads and orders the migrations under dir of fsys.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %s: name must start with a positive version number", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("sqlstore: migrations %s and %s share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// migrate applies pending migrations in one transaction, so a failure leaves
// the schema as it was (DDL is transactional in both dialects).
//
// Concurrent starts: on PostgreSQL a transaction-scoped advisory lock, keyed
// by the current schema, serialises migrators (CREATE TABLE IF NOT EXISTS
// alone races on the catalog); on SQLite, BEGIN IMMEDIATE (see sqliteParams)
// takes the database's write lock. Either way the applied versions are read
// after the lock is held, so a second process finds the first one's work
// done.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFiles, path.Join("migrations", s.dialect.String()))
	if err != nil {
		return err
	}
	var applied []int
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect == postgresDialect {
			if _, err := tx.ExecContext(ctx,
				`SELECT pg_advisory_xact_lock(hashtext('crmgate.sqlstore.migrate:' || coalesce(current_schema(), '')))`); err != nil {
				return fmt.Errorf("sqlstore: take migration lock: %w", err)
			}
		}
		tsType := "TEXT"
		if s.dialect == postgresDialect {
			tsType = "TIMESTAMPTZ"
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at `+tsType+` NOT NULL
		)`); err != nil {
			return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
		}
		done, err := s.appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		if len(done) > 0 && len(ms) > 0 && done[len(done)-1] > ms[len(ms)-1].version {
			// A newer binary migrated this database. Carry on (a rolling
			// deploy does this) but say so: this binary may not know the
			// newer schema.
			s.log.Warn("database schema is newer than this binary",
				"database_version", done[len(done)-1], "binary_version", ms[len(ms)-1].version)
		}
		for _, m := range ms {
			if slices.Contains(done, m.version) {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx,
				s.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, s.timeArg(s.stamp())); err != nil {
				return fmt.Errorf("sqlstore: record migration %s: %w", m.name, err)
			}
			applied = append(applied, m.version)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		s.log.Info("applied migrations", "versions", applied)
	}
	return nil
}

// appliedVersions returns the recorded migration versions, ascending.
func (s *Store) appliedVersions(ctx context.Context, q querier) ([]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlstore: read schema_migrations: %w", err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}
	return vs, nil
}
