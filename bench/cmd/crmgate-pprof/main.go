// Command crmgate-pprof is the gateway of cmd/gateway (serve only), built
// from internal/app, plus a net/http/pprof endpoint on BENCH_PPROF_ADDR.
// It exists for `crmbench -profile DIR`, which profiles the gateway under
// load without changing the real binary. Do not deploy it.
package main

import (
	"context"
	"fmt"
	"net/http"
	_ "net/http/pprof" //nolint:gosec // the point of this bench-only binary
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/telemetry"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "crmgate-pprof:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := app.ConfigFromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logOut := telemetry.NewBufferedWriter(os.Stderr, 100*time.Millisecond, 64<<10) // as cmd/gateway
	defer func() { _ = logOut.Close() }()
	log := telemetry.NewLogger(logOut, cfg.LogLevel)
	if addr := os.Getenv("BENCH_PPROF_ADDR"); addr != "" {
		srv := &http.Server{Addr: addr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.ListenAndServe() }()
		defer func() { _ = srv.Close() }()
	}
	defer app.TuneRuntime(os.Getenv, os.ReadFile, cfg.GCHeapFloor, log)() // as cmd/gateway does
	a, err := app.Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}
