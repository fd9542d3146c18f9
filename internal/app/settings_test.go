package app

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/crmgate/crmgate/internal/server"
)

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// loadArgs loads the configuration as cmd/gateway does: flags parsed from
// args, then env, then the file.
func loadArgs(t *testing.T, args []string, env map[string]string) (*Loaded, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cf := RegisterConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err // a flag's value is checked as it is parsed
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	return cf.Load(mapEnv(env), environ)
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigDefaults(t *testing.T) {
	c, err := ConfigFromEnv(mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		GRPCAddr: ":9090", HTTPAddr: ":8080", DataDir: "data", DatabaseURL: "sqlite://data/crmgate.db",
		MaxBodyBytes: server.DefaultMaxBodyBytes, SchemaCacheTTL: 5 * time.Minute, NearCacheTTL: 30 * time.Second,
		ConnCacheTTL: 5 * time.Second, ProviderTimeout: 15 * time.Second, RateBurst: 100, RateWindow: 10 * time.Second,
		RateMargin: 250 * time.Millisecond, RateDaily: 200000, RateMaxWait: 30 * time.Second, RetryAttempts: 4,
		MaxResponse: 16 << 20, IdempotencyTTL: 24 * time.Hour, LogLevel: slog.LevelInfo,
		OAuthRefreshSkew: 5 * time.Minute, OAuthStateTTL: 15 * time.Minute,
		ShutdownDelay: 0, ShutdownGrace: 20 * time.Second, ReadinessInterval: 5 * time.Second,
		MaxInFlight: 1024, InFlightQueueWait: time.Second, GCHeapFloor: 64 << 20,
	}
	if c != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

// TestConfigPrecedence: flags > env > file > defaults, and Sources says
// which won.
func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "# comment\nrate_limit_window: 11s\nrate_limit_burst: 7\nretry_max_attempts: 2\nlog_level: debug\n")
	env := map[string]string{
		ConfigFileEnv:                file,
		"GATEWAY_RATE_LIMIT_WINDOW":  "12s",
		"GATEWAY_RATE_LIMIT_BURST":   "8",
		"GATEWAY_RETRY_MAX_ATTEMPTS": "  ", // blank: unset
	}
	l, err := loadArgs(t, []string{"--rate-limit-window=13s"}, env)
	if err != nil {
		t.Fatal(err)
	}
	c := l.Config
	if c.RateWindow != 13*time.Second || c.RateBurst != 8 || c.RetryAttempts != 2 || c.LogLevel != slog.LevelDebug || c.RateDaily != 200000 {
		t.Errorf("got window %v burst %d attempts %d level %v daily %d", c.RateWindow, c.RateBurst, c.RetryAttempts, c.LogLevel, c.RateDaily)
	}
	for key, want := range map[string]Source{"rate_limit_window": SourceFlag, "rate_limit_burst": SourceEnv, "retry_max_attempts": SourceFile, "rate_limit_daily": SourceDefault} {
		if l.Sources[key] != want {
			t.Errorf("source of %s = %s, want %s", key, l.Sources[key], want)
		}
	}
	if l.File != file {
		t.Errorf("file = %q", l.File)
	}

	// --config beats GATEWAY_CONFIG.
	other := writeFile(t, "rate_limit_daily: 5\n")
	l, err = loadArgs(t, []string{"--config", other}, env)
	if err != nil || l.Config.RateDaily != 5 || l.Config.RetryAttempts != 4 {
		t.Errorf("--config: %v %+v", err, l)
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		file string
		want []string
	}{
		{name: "env duration", env: map[string]string{"GATEWAY_RATE_LIMIT_WINDOW": "abc"}, want: []string{`GATEWAY_RATE_LIMIT_WINDOW: "abc" is not a duration`}},
		{name: "flag duration", args: []string{"--shutdown-grace", "-1s"}, want: []string{`invalid argument "-1s" for "--shutdown-grace" flag: must be positive`}},
		{name: "flag int", args: []string{"--max-in-flight=-3"}, want: []string{`invalid argument "-3" for "--max-in-flight" flag: is not a non-negative integer`}},
		{name: "zero delay allowed, negative not", env: map[string]string{"GATEWAY_SHUTDOWN_DELAY": "-2s"}, want: []string{`GATEWAY_SHUTDOWN_DELAY: "-2s" must not be negative`}},
		{name: "file value", file: "grpc_addr: \":9090\"\nrate_limit_burst: many\n", want: []string{`gateway.yaml:2: rate_limit_burst: "many" is not a positive integer`}},
		{name: "unknown yaml key", file: "rate_limit_windw: 10s\n", want: []string{`gateway.yaml:1: unknown setting "rate_limit_windw"`}},
		{name: "yaml non-scalar", file: "grpc_addr:\n  - a\n", want: []string{`grpc_addr: want a single value`}},
		{name: "yaml not a mapping", file: "- a\n", want: []string{`want a mapping`}},
		{name: "yaml syntax", file: "a: [\n", want: []string{`gateway.yaml`}},
		{name: "address", env: map[string]string{"GATEWAY_HTTP_ADDR": "8080"}, want: []string{`GATEWAY_HTTP_ADDR: "8080" is not a listen address`}},
		{name: "bytes", env: map[string]string{"GATEWAY_MAX_BODY_BYTES": "4MB"}, want: []string{`GATEWAY_MAX_BODY_BYTES: "4MB" is not a positive size`}},
		{name: "heap floor", env: map[string]string{"GATEWAY_GC_HEAP_FLOOR": "-1"}, want: []string{`GATEWAY_GC_HEAP_FLOOR: "-1" is not a size in bytes`}},
		{name: "level", env: map[string]string{"GATEWAY_LOG_LEVEL": "loud"}, want: []string{`GATEWAY_LOG_LEVEL: "loud" is not a log level`}},
		{name: "url", env: map[string]string{"GHL_BASE_URL": "ftp://x"}, want: []string{`GHL_BASE_URL: "ftp://x" is not an http(s) URL`}},
		{name: "all errors at once", env: map[string]string{"GATEWAY_RATE_LIMIT_DAILY": "0", "GATEWAY_IDEMPOTENCY_TTL": "1d"},
			want: []string{`GATEWAY_RATE_LIMIT_DAILY: "0" is not a positive integer`, `GATEWAY_IDEMPOTENCY_TTL: "1d" is not a duration`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = v
			}
			if tc.file != "" {
				env[ConfigFileEnv] = writeFile(t, tc.file)
			}
			_, err := loadArgs(t, tc.args, env)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, err := loadArgs(t, nil, map[string]string{ConfigFileEnv: filepath.Join(t.TempDir(), "missing.yaml")}); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// TestConfigSecretErrorsHideValue: a bad secret is named, never echoed.
func TestConfigSecretErrorsHideValue(t *testing.T) {
	_, err := ConfigFromEnv(mapEnv(map[string]string{"GATEWAY_BOOTSTRAP_API_KEY": "short-s3cret"}))
	if err == nil || !strings.Contains(err.Error(), "GATEWAY_BOOTSTRAP_API_KEY") || strings.Contains(err.Error(), "short-s3cret") {
		t.Errorf("error %v: want the setting named and the value hidden", err)
	}
	// A secret flag is checked by Load, not while parsing (which would
	// echo the value).
	_, err = loadArgs(t, []string{"--bootstrap-api-key", "short-s3cret"}, nil)
	if err == nil || !strings.Contains(err.Error(), "--bootstrap-api-key") || strings.Contains(err.Error(), "short-s3cret") {
		t.Errorf("flag: error %v: want the flag named and the value hidden", err)
	}
}

func TestConfigWarnsAboutUnknownEnv(t *testing.T) {
	l, err := loadArgs(t, nil, map[string]string{"GATEWAY_RATE_LIMT_WINDOW": "5s", "GATEWAY_LOG_LEVEL": "warn", "HOME": "/root"})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], "GATEWAY_RATE_LIMT_WINDOW") {
		t.Errorf("warnings = %q", l.Warnings)
	}
}

// TestConfigPrintMasksSecrets: every secret, set through env, file or
// flag, is absent from `config print`; other values and sources are shown.
func TestConfigPrintMasksSecrets(t *testing.T) {
	const (
		encKey   = "k1:c2VjcmV0LWVuY3J5cHRpb24ta2V5LXZhbHVlLTMyYg=="
		apiKey   = "bootstrap-secret-api-key-123"
		dbPass   = "pgPa$$w0rd"
		redisPas = "r3dis-secret"
	)
	file := writeFile(t, "redis_url: \"redis://:"+redisPas+"@cache:6379/0\"\nencryption_key: \""+encKey+"\"\n")
	env := map[string]string{
		ConfigFileEnv:               file,
		"GATEWAY_DATABASE_URL":      "postgres://gw:" + dbPass + "@db:5432/crm?sslmode=require&password=" + dbPass,
		"GATEWAY_REDIS_URL":         "redis://:" + redisPas + "@cache:6379/0", // env beats the file
		"GATEWAY_RATE_LIMIT_WINDOW": "12s",
	}
	l, err := loadArgs(t, []string{"--bootstrap-api-key", apiKey}, env)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	l.Print(&out)
	got := out.String()
	for _, secret := range []string{encKey, "c2VjcmV0LWVuY3J5cHRpb24", apiKey, dbPass, "Pa$$w0rd", "w0rd", redisPas} {
		if strings.Contains(got, secret) {
			t.Errorf("config print shows secret %q:\n%s", secret, got)
		}
	}
	for _, want := range []string{
		`encryption_key: "*****" # file`,
		`bootstrap_api_key: "*****" # flag --bootstrap-api-key`,
		`redis_url: "redis://:*****@cache:6379/0" # env GATEWAY_REDIS_URL`,
		`database_url: "postgres://gw:*****@db:5432/crm?password=*****&sslmode=require" # env GATEWAY_DATABASE_URL`,
		`rate_limit_window: "12s" # env GATEWAY_RATE_LIMIT_WINDOW`,
		`max_body_bytes: "4MiB" # default`,
		`shutdown_grace: "20s" # default`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config print lacks %q:\n%s", want, got)
		}
	}
	// Every setting is printed.
	for _, s := range Settings() {
		if !strings.Contains(got, "\n"+s.Key+": ") {
			t.Errorf("config print lacks %s", s.Key)
		}
	}
}

func TestMaskURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@h:5432/db":                     "postgres://u:*****@h:5432/db",
		"postgres://u:12/34@h/db":                      Mask,
		"postgres://u:a#b?c@h/db?sslmode=disable":      Mask,
		"postgres://u:a%40b@h/db?x=1#frag":             Mask,
		"postgres://u:p@h/db?application_name=a@b":     Mask,
		"postgres://u:p%2Fq%40r@h/db":                  "postgres://u:*****@h/db",
		"postgres://u@h/db?sslpassword=x&sslmode=v":    "postgres://u@h/db?sslmode=v&sslpassword=*****",
		"postgres://h/db?password=%zz":                 Mask,
		"redis://:secret@h:6379/0":                     "redis://:*****@h:6379/0",
		"rediss://user:secret@h:6380":                  "rediss://user:*****@h:6380",
		"redis://h:6379":                               "redis://h:6379",
		"sqlite://data/crmgate.db":                     "sqlite://data/crmgate.db",
		"data/crmgate.db":                              "data/crmgate.db",
		"host=db user=u password=secret":               Mask,
		"file:data/x.db?_pragma=busy_timeout(5000)&x=": "file:data/x.db?_pragma=busy_timeout(5000)&x=",
		"file:data/x.db?_auth_pass=x":                  Mask,
	} {
		if got := MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestREADMESettingsTable: the README's settings table is exactly the one
// Settings describes (run the test with -v to see the table to paste).
func TestREADMESettingsTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	table := settingsTable()
	if !strings.Contains(string(readme), table) {
		t.Errorf("README.md's settings table is not the one Settings() describes; paste this:\n\n%s", table)
	}
}

func settingsTable() string {
	var b strings.Builder
	b.WriteString("| environment | YAML key / flag | default | meaning |\n|---|---|---|---|\n")
	for _, s := range Settings() {
		def := "unset"
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		secret := ""
		if s.Secret {
			secret = " **Secret.**"
		}
		b.WriteString("| `" + s.Env + "` | `" + s.Key + "` / `--" + s.Flag() + "` | " + def + " | " + s.Help + secret + " |\n")
	}
	return b.String()
}

// TestSettingsAreConsistent: keys, flags and variables are unique, and
// every default parses.
func TestSettingsAreConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Settings() {
		for _, name := range []string{s.Key, s.Env} {
			if seen[name] {
				t.Errorf("%s appears twice", name)
			}
			seen[name] = true
		}
		if s.Default != "" {
			var c Config
			if err := s.field.set(&c, s.Default); err != nil {
				t.Errorf("%s: default %q: %v", s.Env, s.Default, err)
			}
			if got := s.field.get(&c); got != s.Default {
				t.Errorf("%s: default %q prints as %q", s.Env, s.Default, got)
			}
		}
	}
}

func TestGCHeapFloorSetting(t *testing.T) {
	for v, want := range map[string]int64{"0": 0, "128MiB": 128 << 20, "1048576": 1 << 20} {
		c, err := ConfigFromEnv(mapEnv(map[string]string{"GATEWAY_GC_HEAP_FLOOR": v}))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if c.GCHeapFloor != want {
			t.Fatalf("%q: GCHeapFloor %d, want %d", v, c.GCHeapFloor, want)
		}
	}
}
