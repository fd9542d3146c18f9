package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/store"
)

// Demo is what --demo provisions.
type Demo struct {
	APIKey       string
	ConnectionID string
	FakeURL      string
	LocationID   string
}

// Demo location and token of the in-process GHL fake.
const (
	demoLocation = "demoLocation0000000001"
	demoToken    = "pit-demo-0000-0000-0000-000000000000" //nolint:gosec // token of the in-process fake, not a real credential
)

// StartDemo starts the GHL fake on a loopback port, seeds it with a sample
// custom object (pet) and records, and provisions an API key, a ghl
// connector config pointing at the fake and a connection. The fake stops
// when ctx is done.
func (a *App) StartDemo(ctx context.Context) (Demo, error) {
	fake := ghlfake.New(ghlfake.Options{})
	fake.AddToken(demoToken, demoLocation)
	fake.SeedDemo(demoLocation, 25)
	lis, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return Demo{}, fmt.Errorf("demo: listen: %w", err)
	}
	hs := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(lis) }()
	go func() {
		<-ctx.Done()
		_ = hs.Close()
	}()
	d := Demo{FakeURL: "http://" + lis.Addr().String(), LocationID: demoLocation}

	key, k, err := auth.CreateKey(ctx, a.Store, "default", "demo")
	if err != nil {
		return d, fmt.Errorf("demo: api key: %w", err)
	}
	d.APIKey = key
	connector, _ := a.Resolver.Connector("ghl")
	cfgSplit, err := connector.CheckConfig(map[string]string{"base_url": d.FakeURL}, nil)
	if err != nil {
		return d, fmt.Errorf("demo: connector config: %w", err)
	}
	now := time.Now().UTC()
	cfg, err := a.Store.CreateConnectorConfig(ctx, store.ConnectorConfig{
		ID: auth.NewID("ccfg_ghl_"), OrganisationID: k.OrganisationID, ConnectorName: "ghl",
		Settings: cfgSplit.Public, Secrets: cfgSplit.Secret, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return d, fmt.Errorf("demo: connector config: %w", err)
	}
	connSplit, authType, err := connector.CheckConnection(map[string]string{"location_id": demoLocation, "private_integration_token": demoToken}, nil)
	if err != nil {
		return d, fmt.Errorf("demo: connection: %w", err)
	}
	conn, err := a.Store.CreateConnection(ctx, store.Connection{
		ID: auth.NewID("conn_ghl_"), OrganisationID: k.OrganisationID, ConnectorConfigID: cfg.ID, ConnectorName: "ghl",
		CustomerID: "demo-customer", AuthType: authType, Status: store.ConnectionActive,
		Settings: connSplit.Public, Credentials: connSplit.Secret, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return d, fmt.Errorf("demo: connection: %w", err)
	}
	d.ConnectionID = conn.ID
	return d, nil
}
