// Command gateway runs crmgate. Its commands (cobra; `gateway help` lists
// them, `gateway help CMD` explains one):
//
//	gateway [serve] [--demo]     serve gRPC and REST; --demo also runs a seeded
//	                             GHL fake and provisions a demo connection
//	gateway config print         the effective configuration, secrets masked
//	gateway apikey create        print a new API key (--org ORG --name NAME)
//	gateway keys generate        print a new encryption key
//	gateway keys reencrypt       re-encrypt every stored secret under the
//	                             newest key of the keyring
//	gateway version              the version and VCS commit (also --version)
//
// Configuration comes from flags, GATEWAY_* environment variables and an
// optional YAML file (--config or GATEWAY_CONFIG), in that order of
// precedence (see README.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/crmgate/crmgate/internal/app"
)

func main() {
	if err := runEnv(os.Args[1:], os.Getenv, os.Environ(), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		if u := (usageError{}); errors.As(err, &u) {
			fmt.Fprintf(os.Stderr, "Run '%s --help' for usage.\n", u.path)
		}
		os.Exit(1)
	}
}

// commands are gateway's subcommands, in `gateway help` order. Adding a
// command is adding its constructor here (each lives in its own file).
func commands() []func(env) *cobra.Command {
	return []func(env) *cobra.Command{
		serveCmd,
		configCmd,
		apikeyCmd,
		adminkeyCmd,
		keysCmd,
		versionCmd,
	}
}

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
	root := rootCmd(env{getenv: getenv, environ: environ, stderr: stderr})
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

// rootCmd is `gateway`: without a subcommand it serves, as `gateway serve`.
func rootCmd(e env) *cobra.Command {
	root := serveCmd(e)
	root.Use = "gateway"
	root.Short = "crmgate: one API over CRMs (gRPC and REST)"
	root.Long = `crmgate serves one gRPC and REST API over CRM providers.

Without a command, gateway serves (as 'gateway serve'). Configuration comes
from flags, GATEWAY_* environment variables and an optional YAML file
(--config or GATEWAY_CONFIG), in that order of precedence.`
	root.Example = `  gateway --demo                      serve with a seeded in-process GHL fake
  gateway config print --config gw.yaml
  gateway apikey create --org acme --name ci`
	root.Version = versionString()
	root.SetVersionTemplate("gateway {{.Version}}\n")
	root.SilenceUsage = true  // a failing command prints its error, not its help
	root.SilenceErrors = true // main prints it once
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err, c.CommandPath()}
	})
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return usageError{fmt.Errorf("unknown help topic %q", strings.Join(args, " ")), c.Root().Name()}
			}
			return target.Help()
		},
	})
	for _, sub := range commands() {
		root.AddCommand(sub(e))
	}
	return root
}

// usageError is a command line the gateway does not understand (unknown
// command or flag, missing subcommand); path is the command whose --help
// explains it.
type usageError struct {
	error
	path string
}

func (u usageError) Unwrap() error { return u.error }

// noArgs accepts no positional arguments: an unexpected one is an unknown
// command.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return usageError{errors.New(msg), c.CommandPath()}
}

// group is a command that only holds subcommands: run alone, or with an
// unknown subcommand, it fails naming the ones it has.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			names := ""
			for _, s := range c.Commands() {
				if s.IsAvailableCommand() {
					names += " " + s.Name()
				}
			}
			return usageError{fmt.Errorf("usage: %s needs a subcommand:%s", c.CommandPath(), names), c.CommandPath()}
		},
	}
	c.AddCommand(subs...)
	return c
}

// env is where a command's configuration comes from besides its flags.
type env struct {
	getenv  func(string) string
	environ []string
	stderr  io.Writer
}

// configFlags registers the settings' flags and --config on c and returns
// the loader of its configuration (flags > env > file > defaults), to call
// once the flags are parsed.
func (e env) configFlags(c *cobra.Command) func() (*app.Loaded, error) {
	cf := app.RegisterConfigFlags(c.Flags())
	return func() (*app.Loaded, error) {
		loaded, err := cf.Load(e.getenv, e.environ)
		if err != nil {
			return nil, fmt.Errorf("configuration:\n%w", err)
		}
		return loaded, nil
	}
}
