package connections

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/cache"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/schemacache"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store"
	"github.com/crmgate/crmgate/internal/store/sqlstore"
)

type nopProvider struct{}

func (nopProvider) Check(context.Context) error { return nil }

type nopConnector struct{}

func (nopConnector) Name() string { return "nop" }
func (nopConnector) CheckConfig(map[string]string, *crm.SplitSettings) (crm.SplitSettings, error) {
	return crm.SplitSettings{}, nil
}

func (nopConnector) CheckConnection(map[string]string, *crm.SplitSettings) (crm.SplitSettings, string, error) {
	return crm.SplitSettings{}, "pit", nil
}
func (nopConnector) Open(crm.ConnectionParams) (crm.Provider, error) { return nopProvider{}, nil }

// The table of opened connections drops expired entries as it goes, so it
// holds about the connections used within one TTL, not every one ever
// opened.
func TestOpenedTableSweepsExpired(t *testing.T) {
	ctx := context.Background()
	keys, err := secrets.ParseKeyring(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "t.db"), keys, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	org, err := st.EnsureOrganisation(ctx, "org")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateConnectorConfig(ctx, store.ConnectorConfig{ID: "cfg", OrganisationID: org.ID, ConnectorName: "nop"}); err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		if _, err := st.CreateConnection(ctx, store.Connection{ID: fmt.Sprintf("c%d", i), OrganisationID: org.ID, ConnectorConfigID: "cfg",
			ConnectorName: "nop", CustomerID: "cust", AuthType: "pit", Status: store.ConnectionActive}); err != nil {
			t.Fatal(err)
		}
	}
	clock := time.Unix(1_800_000_000, 0)
	r := NewResolver(st, Registry{"nop": nopConnector{}}, schemacache.Tiers{Epochs: cache.NewMemory(10)}, time.Minute, 5*time.Second, log)
	r.now = func() time.Time { return clock }

	for i := range n {
		if _, err := r.Open(ctx, org.ID, fmt.Sprintf("c%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(r.open); got != n {
		t.Fatalf("table holds %d, want %d", got, n)
	}
	// Within the TTL a second open is served from the table.
	if _, err := r.Open(ctx, org.ID, "c0"); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(6 * time.Second) // every entry expired
	if _, err := r.Open(ctx, org.ID, "c1"); err != nil {
		t.Fatal(err)
	}
	if got := len(r.open); got != 1 {
		t.Fatalf("after the TTL the table holds %d entries, want 1 (expired ones swept)", got)
	}
}
