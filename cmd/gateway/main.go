// Command gateway runs crmgate: `gateway` (or `gateway serve`) serves gRPC
// and REST; `gateway --demo` also runs a seeded GHL fake and provisions a
// demo connection; `gateway apikey create --org ORG --name NAME` prints a
// new API key; `gateway keys generate` prints a new encryption key and
// `gateway keys reencrypt` re-encrypts every stored secret under the newest
// key of the keyring. Configuration comes from GATEWAY_* environment
// variables (see README.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/secrets"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && args[0] == "apikey" {
		return apikey(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "keys" {
		return keys(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demo := fs.Bool("demo", false, "also run a seeded GHL fake and provision a demo API key and connection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unknown argument %q (commands: serve, apikey create, keys generate, keys reencrypt)", fs.Arg(0))
	}
	cfg, err := app.ConfigFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if *demo && getenv("GATEWAY_DATABASE_URL") == "" {
		// A fresh demo database each run, beside (not in) the real one.
		path := filepath.Join(cfg.DataDir, "demo.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		cfg.DatabaseURL = "sqlite://" + path
	}
	a, err := app.Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if *demo {
		d, err := a.StartDemo(ctx)
		if err != nil {
			return err
		}
		printDemo(stdout, cfg, d)
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

func apikey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: gateway apikey create --org ORG --name NAME")
	}
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.String("org", "", "organisation name (created if new)")
	name := fs.String("name", "", "a name for the key")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *org == "" || *name == "" {
		return errors.New("usage: gateway apikey create --org ORG --name NAME")
	}
	cfg, err := app.ConfigFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	key, k, err := auth.CreateKey(ctx, a.Store, *org, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created API key %s (%s) for organisation %q; it is shown once:\n", k.ID, k.Name, *org)
	fmt.Fprintln(stdout, key)
	return nil
}

// reencrypter is the store's key-rotation pass (sqlstore.Store.ReencryptAll).
type reencrypter interface {
	ReencryptAll(ctx context.Context) (int, error)
}

const keysUsage = "usage: gateway keys generate | gateway keys reencrypt"

// keys runs `keys generate` (print a new random key, for a new keyring
// entry) and `keys reencrypt` (rewrite every secret encrypted under an older
// key of GATEWAY_ENCRYPTION_KEY under its newest key).
func keys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return errors.New(keysUsage)
	}
	switch args[0] {
	case "generate":
		fmt.Fprintln(stdout, secrets.GenerateKey())
		return nil
	case "reencrypt":
	default:
		return errors.New(keysUsage)
	}
	cfg, err := app.ConfigFromEnv(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	r, ok := a.Store.(reencrypter)
	if !ok {
		return fmt.Errorf("the store %T cannot re-encrypt", a.Store)
	}
	n, err := r.ReencryptAll(ctx)
	if err != nil {
		return fmt.Errorf("re-encrypt (%d rows done; rerun to finish): %w", n, err)
	}
	fmt.Fprintf(stdout, "re-encrypted %d rows under the newest key; the older keys can be dropped from GATEWAY_ENCRYPTION_KEY once every replica runs with the new keyring\n", n)
	return nil
}
