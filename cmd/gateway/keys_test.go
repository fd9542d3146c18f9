package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store"
)

// TestKeysReencrypt: rows written under key k1 are re-encrypted under k2 by
// `gateway keys reencrypt`, after which a keyring without k1 reads them.
func TestKeysReencrypt(t *testing.T) {
	dir := t.TempDir()
	k1, k2 := secrets.GenerateKey(), secrets.GenerateKey()
	env := func(keys string) func(string) string {
		m := map[string]string{
			"GATEWAY_DATA_DIR":       dir,
			"GATEWAY_DATABASE_URL":   "sqlite://" + filepath.Join(dir, "crmgate.db"),
			"GATEWAY_ENCRYPTION_KEY": keys,
		}
		return func(k string) string { return m[k] }
	}
	build := func(keys string) *app.App {
		t.Helper()
		cfg, err := app.ConfigFromEnv(env(keys))
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	a := build("k1:" + k1)
	ctx := context.Background()
	org, err := a.Store.EnsureOrganisation(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cfg, err := a.Store.CreateConnectorConfig(ctx, store.ConnectorConfig{ID: "ccfg_ghl_1", OrganisationID: org.ID, ConnectorName: "ghl",
		Settings: map[string]string{"client_id": "cid"}, Secrets: map[string]string{"client_secret": "s3cret"}, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.CreateConnection(ctx, store.Connection{ID: "conn_ghl_1", OrganisationID: org.ID, ConnectorConfigID: cfg.ID, CustomerID: "c",
		AuthType: "oauth", Settings: map[string]string{"location_id": "l"}, Credentials: map[string]string{"refresh_token": "rt-1"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	a.Close()

	var out, errOut bytes.Buffer
	if err := run([]string{"keys", "reencrypt"}, env("k2:"+k2+",k1:"+k1), &out, &errOut); err != nil {
		t.Fatalf("keys reencrypt: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "re-encrypted 2 rows") {
		t.Errorf("output %q", out.String())
	}
	// A second pass has nothing left to do.
	out.Reset()
	if err := run([]string{"keys", "reencrypt"}, env("k2:"+k2+",k1:"+k1), &out, io.Discard); err != nil || !strings.Contains(out.String(), "re-encrypted 0 rows") {
		t.Errorf("second pass: %v %q", err, out.String())
	}

	b := build("k2:" + k2) // k1 dropped
	defer b.Close()
	got, err := b.Store.GetConnectorConfig(ctx, org.ID, cfg.ID)
	if err != nil || got.Secrets["client_secret"] != "s3cret" {
		t.Errorf("config under k2 only: %v", err)
	}
	conn, err := b.Store.GetConnection(ctx, org.ID, "conn_ghl_1")
	if err != nil || conn.Credentials["refresh_token"] != "rt-1" {
		t.Errorf("connection under k2 only: %v", err)
	}
}

func TestKeysGenerateAndUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"keys", "generate"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.ParseKeyring("k9:" + strings.TrimSpace(out.String())); err != nil {
		t.Errorf("generated key: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"keys"}, "usage: gateway keys needs a subcommand: generate reencrypt"},
		{[]string{"keys", "rotate"}, `unknown command "rotate" for "gateway keys"`},
		{[]string{"keys", "generate", "extra"}, `unknown command "extra" for "gateway keys generate"`},
	} {
		if err := run(tc.args, func(string) string { return "" }, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
