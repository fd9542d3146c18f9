package sqlstore

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// dialect is the SQL flavour of a database.
type dialect int

const (
	sqliteDialect dialect = iota + 1
	postgresDialect
)

func (d dialect) String() string {
	switch d {
	case sqliteDialect:
		return "sqlite"
	case postgresDialect:
		return "postgres"
	}
	return "unknown"
}

// driverName is the database/sql driver serving d.
func (d dialect) driverName() string {
	if d == postgresDialect {
		return "pgx"
	}
	return "sqlite"
}

// sqliteParams are appended to every SQLite DSN:
//   - busy_timeout waits for another connection's (or process's) write lock
//     instead of failing at once with SQLITE_BUSY; it is applied first.
//   - WAL lets readers proceed while a write is in progress.
//   - foreign_keys is off by default in SQLite and per connection.
//   - _txlock=immediate makes BEGIN take the write lock up front, so a
//     transaction that reads then writes waits in busy_timeout rather than
//     failing with SQLITE_BUSY when it tries to upgrade its lock.
const sqliteParams = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// target is a parsed database URL.
type target struct {
	dialect dialect
	dsn     string // handed to sql.Open
	dir     string // SQLite: the database file's directory, to create; "" for none
	display string // safe to log: no password
}

// parseDatabaseURL maps the URL forms Open accepts to a driver DSN:
//
//	postgres://user:pass@host:5432/db?sslmode=disable   PostgreSQL (also postgresql://)
//	sqlite:///abs/path/crmgate.db                       SQLite, absolute path
//	sqlite://relative/path/crmgate.db                   SQLite, relative path (also sqlite:relative/...)
//	file:/path/crmgate.db?mode=rwc                      SQLite URI, passed to SQLite as is
//	/path/crmgate.db, ./crmgate.db, crmgate.db          SQLite, plain path
//
// Query parameters of the SQLite forms are handed to the driver (e.g.
// _pragma=synchronous(NORMAL)); they come before sqliteParams, so for
// single-valued keys such as _txlock the caller's value wins.
func parseDatabaseURL(raw string) (target, error) {
	if strings.TrimSpace(raw) == "" {
		return target{}, errors.New("sqlstore: empty database URL")
	}
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			// url's error quotes the input, which may hold a password.
			return target{}, errors.New("sqlstore: malformed postgres URL")
		}
		return target{dialect: postgresDialect, dsn: raw, display: u.Redacted()}, nil

	case strings.HasPrefix(lower, "sqlite:"):
		rest := raw[len("sqlite:"):]
		rest = strings.TrimPrefix(rest, "//")
		path, query, _ := strings.Cut(rest, "?")
		if path == "" {
			return target{}, errors.New("sqlstore: sqlite URL has no file path (want sqlite://path/to/file.db)")
		}
		return sqlitePath(path, query), nil

	case strings.HasPrefix(lower, "file:"):
		// An SQLite URI (https://sqlite.org/uri.html). Work out the file's
		// directory to create it; hand the URI over unchanged.
		t := target{dialect: sqliteDialect, display: raw}
		t.dsn = raw + querySep(raw) + sqliteParams
		if p := uriFilePath(raw); p != "" {
			t.dir = filepath.Dir(p)
		}
		return t, nil

	case strings.Contains(raw, "://"):
		scheme, _, _ := strings.Cut(raw, "://")
		return target{}, fmt.Errorf("sqlstore: unsupported database URL scheme %q (want postgres://, postgresql://, sqlite://, file: or a file path)", scheme)
	}
	path, query, _ := strings.Cut(raw, "?")
	return sqlitePath(path, query), nil
}

// sqlitePath builds the target of a plain SQLite file path.
func sqlitePath(path, query string) target {
	t := target{dialect: sqliteDialect, display: path}
	params := sqliteParams
	if query != "" {
		params = query + "&" + sqliteParams
	}
	t.dsn = path + "?" + params
	if path != ":memory:" {
		t.dir = filepath.Dir(path)
	}
	return t
}

func querySep(s string) string {
	if strings.Contains(s, "?") {
		return "&"
	}
	return "?"
}

// uriFilePath returns the file path of an SQLite "file:" URI, or "" for an
// in-memory database.
func uriFilePath(uri string) string {
	rest := uri[len("file:"):]
	rest, query, _ := strings.Cut(rest, "?")
	rest, _, _ = strings.Cut(rest, "#")
	if q, err := url.ParseQuery(query); err == nil && q.Get("mode") == "memory" {
		return ""
	}
	// file://host/path and file:///path: drop the authority.
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		i := strings.IndexByte(after, '/')
		if i < 0 {
			return ""
		}
		rest = after[i:]
	}
	if p, err := url.PathUnescape(rest); err == nil {
		rest = p
	}
	if rest == "" || rest == ":memory:" {
		return ""
	}
	return rest
}
