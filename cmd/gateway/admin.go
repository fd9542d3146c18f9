package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/secrets"
)

// configCmd is `gateway config print`.
func configCmd(e env) *cobra.Command {
	print := &cobra.Command{
		Use:   "print",
		Short: "Print the effective configuration, secrets masked, each value with its source",
		Args:  noArgs,
	}
	load := e.configFlags(print)
	print.RunE = func(c *cobra.Command, _ []string) error {
		loaded, err := load()
		if err != nil {
			return err
		}
		for _, w := range loaded.Warnings {
			fmt.Fprintln(c.ErrOrStderr(), "warning:", w)
		}
		loaded.Print(c.OutOrStdout())
		return nil
	}
	return group("config", "Inspect the configuration", print)
}

// apikeyCmd is `gateway apikey create --org ORG --name NAME`.
func apikeyCmd(e env) *cobra.Command {
	create := &cobra.Command{
		Use:   "create --org ORG --name NAME",
		Short: "Create an API key for an organisation (created if new) and print it once",
		Args:  noArgs,
	}
	org := create.Flags().String("org", "", "organisation name (created if new)")
	name := create.Flags().String("name", "", "a name for the key")
	load := e.configFlags(create)
	create.RunE = func(c *cobra.Command, _ []string) error {
		if *org == "" || *name == "" {
			return usageError{fmt.Errorf("usage: %s --org ORG --name NAME (both required, not empty)", c.CommandPath()), c.CommandPath()}
		}
		loaded, err := load()
		if err != nil {
			return err
		}
		a, err := buildQuiet(c.Context(), loaded.Config, e)
		if err != nil {
			return err
		}
		defer a.Close()
		key, k, err := auth.CreateKey(c.Context(), a.Store, *org, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.ErrOrStderr(), "created API key %s (%s) for organisation %q; it is shown once:\n", k.ID, k.Name, *org)
		fmt.Fprintln(c.OutOrStdout(), key)
		return nil
	}
	return group("apikey", "Manage API keys", create)
}

// reencrypter is the store's key-rotation pass (sqlstore.Store.ReencryptAll).
type reencrypter interface {
	ReencryptAll(ctx context.Context) (int, error)
}

// keysCmd is `gateway keys generate` (print a new random key, for a new
// keyring entry) and `gateway keys reencrypt` (rewrite every secret
// encrypted under an older key of GATEWAY_ENCRYPTION_KEY under its newest
// key).
func keysCmd(e env) *cobra.Command {
	generate := &cobra.Command{
		Use:   "generate",
		Short: "Print a new random encryption key (base64, 32 bytes) for a keyring entry",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(c.OutOrStdout(), secrets.GenerateKey())
			return nil
		},
	}
	reencrypt := &cobra.Command{
		Use:   "reencrypt",
		Short: "Re-encrypt every stored secret under the newest key of GATEWAY_ENCRYPTION_KEY",
		Args:  noArgs,
	}
	load := e.configFlags(reencrypt)
	reencrypt.RunE = func(c *cobra.Command, _ []string) error {
		loaded, err := load()
		if err != nil {
			return err
		}
		a, err := buildQuiet(c.Context(), loaded.Config, e)
		if err != nil {
			return err
		}
		defer a.Close()
		r, ok := a.Store.(reencrypter)
		if !ok {
			return fmt.Errorf("the store %T cannot re-encrypt", a.Store)
		}
		n, err := r.ReencryptAll(c.Context())
		if err != nil {
			return fmt.Errorf("re-encrypt (%d rows done; rerun to finish): %w", n, err)
		}
		fmt.Fprintf(c.OutOrStdout(), "re-encrypted %d rows under the newest key; the older keys can be dropped from GATEWAY_ENCRYPTION_KEY once every replica runs with the new keyring\n", n)
		return nil
	}
	return group("keys", "Manage the encryption keyring", generate, reencrypt)
}

// buildQuiet assembles the gateway for an administrative command: only
// warnings are logged, as text on stderr.
func buildQuiet(ctx context.Context, cfg app.Config, e env) (*app.App, error) {
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return app.Build(ctx, cfg, log)
}
