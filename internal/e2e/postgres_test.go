package e2e

import (
	"context"
	"database/sql"
	"testing"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/testenv"
)

// TestPostgres runs core CRUD, a record round trip and tenant isolation on
// PostgreSQL, each gateway in a fresh schema.
func TestPostgres(t *testing.T) {
	t.Parallel()
	testenv.PostgresURL(t) // skip (or fail under CI) without PostgreSQL
	o := gwOptions{postgres: true}
	t.Run("CoreCRUD", func(t *testing.T) { t.Parallel(); testCoreCRUD(t, o) })
	t.Run("RecordCRUD", func(t *testing.T) { t.Parallel(); testRecordCRUD(t, o) })
	t.Run("TenantIsolation", func(t *testing.T) { t.Parallel(); testTenantIsolation(t, o) })
	t.Run("SchemaIsolation", func(t *testing.T) {
		t.Parallel()
		// The gateway's tables live in its own schema.
		e := newEnv(t, o, 1)
		must(e.client(t, REST).ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t)
		if e.g.pgSchema == "" {
			t.Fatal("no schema recorded")
		}
		db, err := sql.Open("pgx", testenv.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM "+e.g.pgSchema+".connections").Scan(&n); err != nil {
			t.Fatalf("query the gateway's schema: %v", err)
		}
		if n != 1 {
			t.Errorf("%d connections in schema %s, want 1", n, e.g.pgSchema)
		}
		var public int
		if err := db.QueryRowContext(context.Background(),
			"SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'connections'").Scan(&public); err != nil {
			t.Fatal(err)
		}
		if public != 0 {
			var leaked int
			_ = db.QueryRowContext(context.Background(), "SELECT count(*) FROM public.connections WHERE id = $1", e.tn.connID).Scan(&leaked)
			if leaked != 0 {
				t.Errorf("the gateway wrote to public.connections, not its schema")
			}
		}
	})
}
