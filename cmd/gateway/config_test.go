package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmgate/crmgate/internal/secrets"
)

// TestConfigPrint: `gateway config print` shows every source's values and
// none of the secrets, whichever way they were given.
func TestConfigPrint(t *testing.T) {
	encKey, apiKey := secrets.GenerateKey(), "bootstrap-key-s3cret-0123456789"
	file := filepath.Join(t.TempDir(), "gw.yaml")
	if err := os.WriteFile(file, []byte("encryption_key: k1:"+encKey+"\nprovider_timeout: 7s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GATEWAY_CONFIG":            file,
		"GATEWAY_DATABASE_URL":      "postgres://gw:db-pa55word@db:5432/crm?sslmode=disable",
		"GATEWAY_REDIS_URL":         "redis://default:redis-pa55word@cache:6379/0",
		"GATEWAY_BOOTSTRAP_API_KEY": apiKey,
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"config", "print", "--log-level", "warn"}, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatalf("config print: %v\n%s", err, errOut.String())
	}
	got := out.String() + errOut.String()
	for _, secret := range []string{encKey, apiKey, "db-pa55word", "redis-pa55word"} {
		if strings.Contains(got, secret) {
			t.Errorf("config print shows a secret:\n%s", got)
		}
	}
	for _, want := range []string{`provider_timeout: "7s" # file`, `log_level: "warn" # flag --log-level`, `database_url: "postgres://gw:*****@db:5432/crm?sslmode=disable" # env GATEWAY_DATABASE_URL`} {
		if !strings.Contains(got, want) {
			t.Errorf("config print lacks %q:\n%s", want, got)
		}
	}
}

// TestBadConfigStopsStartUp: serve and the other commands refuse a bad
// setting with a message naming it, before opening anything.
func TestBadConfigStopsStartUp(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		return map[string]string{"GATEWAY_DATA_DIR": dir, "GATEWAY_SHUTDOWN_GRACE": "soon"}[k]
	}
	for _, args := range [][]string{nil, {"serve"}, {"config", "print"}, {"apikey", "create", "--org", "o", "--name", "n"}, {"keys", "reencrypt"}} {
		err := run(args, env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), `GATEWAY_SHUTDOWN_GRACE: "soon" is not a duration`) {
			t.Errorf("%v: %v", args, err)
		}
	}
	err := run([]string{"--rate-limit-burst", "0"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `invalid argument "0" for "--rate-limit-burst" flag: is not a positive integer`) {
		t.Errorf("flag: %v", err)
	}
	if err := run([]string{"config"}, env, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "usage: gateway config needs a subcommand: print") {
		t.Errorf("config without print: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a bad configuration still created %d files in the data dir", len(entries))
	}
}
