package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/telemetry"
)

// serveCmd is `gateway serve`: serve gRPC and REST until SIGTERM/SIGINT.
func serveCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve gRPC and REST (the default command)",
		Long: `Serve gRPC and REST until SIGTERM or SIGINT, then shut down gracefully
(shutdown_delay, shutdown_grace); a second signal exits at once.

--demo also runs an in-process GHL fake seeded with sample data and
provisions a demo API key and connection against it, printed on stdout.`,
		Args: noArgs,
	}
	demo := c.Flags().Bool("demo", false, "also run a seeded GHL fake and provision a demo API key and connection")
	load := e.configFlags(c)
	c.RunE = func(c *cobra.Command, _ []string) error {
		loaded, err := load()
		if err != nil {
			return err
		}
		return serve(c, e, loaded, *demo)
	}
	return c
}

func serve(c *cobra.Command, e env, loaded *app.Loaded, demo bool) error {
	ctx := c.Context()
	cfg := loaded.Config
	// Log lines are batched (one write per 100 ms or 64 KiB, and at exit)
	// so no call waits for a write to stderr.
	logOut := telemetry.NewBufferedWriter(e.stderr, 100*time.Millisecond, 64<<10)
	defer func() { _ = logOut.Close() }()
	log := telemetry.NewLogger(logOut, cfg.LogLevel) // JSON, secrets redacted
	for _, w := range loaded.Warnings {
		log.Warn("configuration: " + w)
	}
	if demo && loaded.Sources["database_url"] == app.SourceDefault {
		// A fresh demo database each run, beside (not in) the real one.
		path := filepath.Join(cfg.DataDir, "demo.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		cfg.DatabaseURL = "sqlite://" + path
	}
	defer app.TuneRuntime(e.getenv, os.ReadFile, cfg.GCHeapFloor, log)()
	a, err := app.Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if demo {
		d, err := a.StartDemo(ctx)
		if err != nil {
			return err
		}
		printDemo(c.OutOrStdout(), cfg, d)
	}
	return a.Run(ctx)
}

func printDemo(w io.Writer, cfg app.Config, d app.Demo) {
	httpAddr := cfg.HTTPAddr
	if httpAddr[0] == ':' {
		httpAddr = "localhost" + httpAddr
	}
	grpcAddr := cfg.GRPCAddr
	if grpcAddr[0] == ':' {
		grpcAddr = "localhost" + grpcAddr
	}
	fmt.Fprintf(w, `
crmgate demo is running against an in-process GHL fake at %s (location %s).

  API key:        %s
  Connection id:  %s

Try:
  curl -s -H 'x-apikey: %s' -H 'x-connection-id: %s' http://%s/v0/unified/crm/custom_objects/pet?page_size=5

  grpcurl -plaintext -H 'x-apikey: %s' -H 'x-connection-id: %s' -d '{"object_name":"pet"}' %s crmgate.crm.v1.CrmService/ListProperties

`, d.FakeURL, d.LocationID, d.APIKey, d.ConnectionID, d.APIKey, d.ConnectionID, httpAddr, d.APIKey, d.ConnectionID, grpcAddr)
}
