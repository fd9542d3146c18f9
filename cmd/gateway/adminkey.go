package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/crmgate/crmgate/internal/auth"
)

const adminkeyUsage = "usage: gateway adminkey generate"

// adminkey runs `adminkey generate`: it prints a new random admin key
// (first line; operators send it as x-admin-key, it is shown once) and its
// hash (second line: the value of GATEWAY_ADMIN_KEY_HASH), with a note on
// stderr. Nothing is stored: the gateway only ever sees the hash.
func adminkey(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "generate" {
		return errors.New(adminkeyUsage)
	}
	key, hash, err := auth.NewAdminKey()
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "new admin key (line 1, send it as x-admin-key; it is shown once) and its hash (line 2: set GATEWAY_ADMIN_KEY_HASH to it):")
	fmt.Fprintln(stdout, key)
	fmt.Fprintln(stdout, hash)
	return nil
}
