package main

import (
	"bytes"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/crmgate/crmgate/internal/auth"
)

// TestAdminkeyGenerate: the key's hash is the second line, and the
// Admin API's check accepts the key against it.
func TestAdminkeyGenerate(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"adminkey", "generate"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], auth.AdminKeyPrefix) {
		t.Fatalf("output %q", out.String())
	}
	if hex.EncodeToString(auth.HashKey(lines[0])) != lines[1] {
		t.Fatalf("hash %q is not the key's", lines[1])
	}
	h, err := auth.ParseAdminKeyHash(lines[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.NewAdminAuthenticator(h).Check(lines[0], ""); err != nil {
		t.Fatalf("Check(generated key) = %v", err)
	}
	for _, args := range [][]string{{"adminkey", "rotate"}, {"adminkey", "generate", "extra"}} {
		if err := run(args, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
