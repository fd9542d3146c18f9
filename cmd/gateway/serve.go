package main

import (
	"errors"
	"fmt"
	"io"
	"os"
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
	var demo demoFlags
	c.Flags().BoolVar(&demo.on, "demo", false, "also run a seeded GHL fake and provision a demo API key and connection (kept between runs in <data-dir>/demo.db)")
	c.Flags().BoolVar(&demo.reset, "demo-reset", false, "with --demo: start from an empty demo database and a new demo API key")
	load := e.configFlags(c)
	c.RunE = func(c *cobra.Command, _ []string) error {
		if demo.reset && !demo.on {
			return usageError{errors.New("--demo-reset needs --demo"), c.CommandPath()}
		}
		loaded, err := load()
		if err != nil {
			return err
		}
		return serve(c, e, loaded, demo)
	}
	return c
}

// demoFlags are serve's --demo and --demo-reset.
type demoFlags struct{ on, reset bool }

func serve(c *cobra.Command, e env, loaded *app.Loaded, demo demoFlags) error {
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
	defer app.TuneRuntime(e.getenv, os.ReadFile, cfg.GCHeapFloor, log)()
	if !demo.on {
		a, err := app.Build(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer a.Close()
		return a.Run(ctx)
	}
	// The demo keeps its own database beside (not in) the real one unless
	// database_url is set.
	a, d, err := app.BuildDemo(ctx, cfg, log, app.DemoOptions{
		OwnDatabase: loaded.Sources["database_url"] == app.SourceDefault,
		Reset:       demo.reset,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	printDemo(c.OutOrStdout(), a.Config, d)
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
	switch {
	case d.Reset != "":
		fmt.Fprintf(w, "  Demo data reset: %s.\n\n", d.Reset)
	case d.Reused:
		fmt.Fprintf(w, "  Reusing the demo API key and connection of the previous run (database %s; --demo-reset starts afresh).\n\n", app.MaskURL(cfg.DatabaseURL))
	default:
		fmt.Fprintf(w, "  New demo data in %s, kept for the next run (--demo-reset starts afresh).\n\n", app.MaskURL(cfg.DatabaseURL))
	}
}
