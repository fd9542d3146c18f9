// Command gateway runs crmgate: `gateway` (or `gateway serve`) serves gRPC
// and REST; `gateway --demo` also runs a seeded GHL fake and provisions a
// demo connection; `gateway config print` shows the effective
// configuration with secrets masked; `gateway apikey create --org ORG
// --name NAME` prints a new API key; `gateway keys generate` prints a new
// encryption key and `gateway keys reencrypt` re-encrypts every stored
// secret under the newest key of the keyring. Configuration comes from
// flags, GATEWAY_* environment variables and an optional YAML file
// (--config or GATEWAY_CONFIG), in that order of precedence (see
// README.md).
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
	"time"

	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/telemetry"
)

func main() {
	if err := runEnv(os.Args[1:], os.Getenv, os.Environ(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

const commands = "commands: serve, config print, apikey create, adminkey generate, keys generate, keys reencrypt"

// run runs a command with the configuration from getenv (and flags).
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runEnv(args, getenv, nil, stdout, stderr)
}

// runEnv is run; environ, when given, is checked for unknown GATEWAY_*
// variables (a warning each).
func runEnv(args []string, getenv func(string) string, environ []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal starts a graceful shutdown, a second one
	// kills the process at once (the default behaviour).
	context.AfterFunc(ctx, stop)
	env := env{getenv: getenv, environ: environ, stderr: stderr}
	if len(args) > 0 {
		switch args[0] {
		case "apikey":
			return apikey(ctx, args[1:], env, stdout)
		case "keys":
			return keys(ctx, args[1:], env, stdout)
		case "adminkey":
			return adminkey(args[1:], stdout, stderr)
		case "config":
			return configCmd(args[1:], env, stdout)
		case "serve":
			args = args[1:]
		}
	}
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "also run a seeded GHL fake and provision a demo API key and connection")
	loaded, err := env.load(fs, args)
	if err != nil {
		return err
	}
	cfg := loaded.Config
	// Log lines are batched (one write per 100 ms or 64 KiB, and at exit)
	// so no call waits for a write to stderr.
	logOut := telemetry.NewBufferedWriter(stderr, 100*time.Millisecond, 64<<10)
	defer func() { _ = logOut.Close() }()
	log := telemetry.NewLogger(logOut, cfg.LogLevel) // JSON, secrets redacted
	for _, w := range loaded.Warnings {
		log.Warn("configuration: " + w)
	}
	if *demo && loaded.Sources["database_url"] == app.SourceDefault {
		// A fresh demo database each run, beside (not in) the real one.
		path := filepath.Join(cfg.DataDir, "demo.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		cfg.DatabaseURL = "sqlite://" + path
	}
	defer app.TuneRuntime(getenv, os.ReadFile, cfg.GCHeapFloor, log)()
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

// env is where a command's configuration comes from besides its flags.
type env struct {
	getenv  func(string) string
	environ []string
	stderr  io.Writer
}

// load registers the settings' flags on fs, parses args and loads the
// configuration (flags > env > file > defaults).
func (e env) load(fs *flag.FlagSet, args []string) (*app.Loaded, error) {
	fs.SetOutput(e.stderr)
	cf := app.RegisterConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unknown argument %q (%s)", fs.Arg(0), commands)
	}
	loaded, err := cf.Load(e.getenv, e.environ)
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	return loaded, nil
}

// configCmd runs `config print`: the effective configuration, secrets
// masked, each value with its source.
func configCmd(args []string, env env, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "print" {
		return errors.New("usage: gateway config print [--config FILE] [setting flags]")
	}
	loaded, err := env.load(flag.NewFlagSet("config print", flag.ContinueOnError), args[1:])
	if err != nil {
		return err
	}
	for _, w := range loaded.Warnings {
		fmt.Fprintln(env.stderr, "warning:", w)
	}
	loaded.Print(stdout)
	return nil
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

func apikey(ctx context.Context, args []string, env env, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: gateway apikey create --org ORG --name NAME")
	}
	fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
	org := fs.String("org", "", "organisation name (created if new)")
	name := fs.String("name", "", "a name for the key")
	loaded, err := env.load(fs, args[1:])
	if err != nil {
		return err
	}
	if *org == "" || *name == "" {
		return errors.New("usage: gateway apikey create --org ORG --name NAME")
	}
	stderr := env.stderr
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Build(ctx, loaded.Config, log)
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
func keys(ctx context.Context, args []string, env env, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(keysUsage)
	}
	switch args[0] {
	case "generate":
		if len(args) != 1 {
			return errors.New(keysUsage)
		}
		fmt.Fprintln(stdout, secrets.GenerateKey())
		return nil
	case "reencrypt":
	default:
		return errors.New(keysUsage)
	}
	loaded, err := env.load(flag.NewFlagSet("keys reencrypt", flag.ContinueOnError), args[1:])
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Build(ctx, loaded.Config, log)
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
