package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/crmgate/crmgate/internal/auth"
)

// adminkeyCmd is `adminkey generate`: it prints a new random admin key
// (first line; operators send it as x-admin-key, it is shown once) and its
// hash (second line: the value of GATEWAY_ADMIN_KEY_HASH), with a note on
// stderr. Nothing is stored: the gateway only ever sees the hash.
func adminkeyCmd(env) *cobra.Command {
	generate := &cobra.Command{
		Use:   "generate",
		Short: "Print a new admin key and its hash (for GATEWAY_ADMIN_KEY_HASH)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return adminkeyGenerate(c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	return group("adminkey", "Bootstrap the Admin API's key", generate)
}

func adminkeyGenerate(stdout, stderr io.Writer) error {
	key, hash, err := auth.NewAdminKey()
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "new admin key (line 1, send it as x-admin-key; it is shown once) and its hash (line 2: set GATEWAY_ADMIN_KEY_HASH to it):")
	fmt.Fprintln(stdout, key)
	fmt.Fprintln(stdout, hash)
	return nil
}
