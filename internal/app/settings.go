package app

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/crmgate/crmgate/internal/auth"
)

// Setting is one configuration setting: the single source of truth for
// its environment variable, YAML key, flag, default and documentation.
// Settings drives ConfigFromEnv, the flag set, the YAML file, `gateway
// config print` and the README check.
type Setting struct {
	Key     string // YAML key; the flag is the key with '-' for '_'
	Env     string // environment variable
	Default string // as written in the README; "" means unset
	Secret  bool   // masked by `config print`, never echoed in errors
	Help    string
	field   field
}

// Flag is the setting's command-line flag, without dashes.
func (s Setting) Flag() string { return strings.ReplaceAll(s.Key, "_", "-") }

// field parses a setting's text into a Config and formats it back.
type field struct {
	set  func(c *Config, v string) error // the error is a reason, without the value
	get  func(c *Config) string
	kind string // the flag's type in --help ("duration", "int", ...); "" is "string"
}

// Kind is the type of the setting's value as --help shows it: duration,
// int, bytes, addr, url, level or string.
func (s Setting) Kind() string {
	if s.field.kind == "" {
		return "string"
	}
	return s.field.kind
}

// ConfigFileEnv names the YAML configuration file when --config is not given.
const ConfigFileEnv = "GATEWAY_CONFIG"

// Settings lists every setting, in README order.
func Settings() []Setting {
	return []Setting{
		{Key: "grpc_addr", Env: "GATEWAY_GRPC_ADDR", Default: ":9090", Help: "gRPC listen address (health and reflection on)",
			field: addrField(func(c *Config) *string { return &c.GRPCAddr })},
		{Key: "http_addr", Env: "GATEWAY_HTTP_ADDR", Default: ":8080", Help: "REST listen address (`/v0/...`, `/healthz`, `/readyz`, `/openapi.json`)",
			field: addrField(func(c *Config) *string { return &c.HTTPAddr })},
		{Key: "data_dir", Env: "GATEWAY_DATA_DIR", Default: "data", Help: "where the embedded defaults live (SQLite database, encryption key file); unused when both the database URL and the encryption key are set",
			field: stringField(func(c *Config) *string { return &c.DataDir })},
		{Key: "database_url", Env: "GATEWAY_DATABASE_URL", Default: "", Secret: true, Help: "`postgres://user:pass@host:5432/db?sslmode=disable`, `sqlite://path`, or a path; unset: `sqlite://<data_dir>/crmgate.db` (the password is masked by `config print`)", //nolint:gosec // a documented URL shape, not a credential
			field: stringField(func(c *Config) *string { return &c.DatabaseURL })},
		{Key: "encryption_key", Env: "GATEWAY_ENCRYPTION_KEY", Default: "", Secret: true, Help: "AES-256-GCM keyring: one base64 32-byte key, or `id2:key2,id1:key1` (newest first; old ids stay readable); unset: key file `<data_dir>/encryption.key` (created 0600, logged)",
			field: stringField(func(c *Config) *string { return &c.EncryptionKey })},
		{Key: "redis_url", Env: "GATEWAY_REDIS_URL", Default: "", Secret: true, Help: "`redis://:pass@127.0.0.1:6379/0`; unset: in-process cache; a dead Redis degrades to the in-process cache with a logged warning (and /readyz answers 503)",
			field: stringField(func(c *Config) *string { return &c.RedisURL })},
		{Key: "bootstrap_api_key", Env: "GATEWAY_BOOTSTRAP_API_KEY", Default: "", Secret: true, Help: "makes sure this key (≥ 16 chars) exists for organisation `default` — for automation",
			field: field{
				set: func(c *Config, v string) error {
					if len(v) < 16 {
						return errors.New("must be at least 16 characters")
					}
					c.BootstrapAPIKey = v
					return nil
				},
				get: func(c *Config) string { return c.BootstrapAPIKey },
			}},
		{Key: "admin_key_hash", Env: "GATEWAY_ADMIN_KEY_HASH", Default: "", Help: "SHA-256 (64 hex digits) of the operators' admin key, which the Admin API (`/v0/admin`) takes in `x-admin-key`; `gateway adminkey generate` prints a key and its hash; unset: the Admin API answers 403 `ADMIN_API_DISABLED`",
			field: field{
				set: func(c *Config, v string) error {
					h, err := auth.ParseAdminKeyHash(v)
					if err != nil {
						return err
					}
					c.AdminKeyHash = hex.EncodeToString(h)
					return nil
				},
				get: func(c *Config) string { return c.AdminKeyHash },
			}},
		{Key: "ghl_base_url", Env: "GHL_BASE_URL", Default: "", Help: "default `base_url` of GHL connector configs that set none; unset: `https://services.leadconnectorhq.com`",
			field: httpURLField(func(c *Config) *string { return &c.GHLBaseURL })},
		{Key: "max_body_bytes", Env: "GATEWAY_MAX_BODY_BYTES", Default: "4MiB", Help: "request body limit; larger bodies get 413 (gRPC: RESOURCE_EXHAUSTED)",
			field: bytesField(func(c *Config) *int64 { return &c.MaxBodyBytes })},
		{Key: "schema_cache_ttl", Env: "GATEWAY_SCHEMA_CACHE_TTL", Default: "5m", Help: "how long object schemas are cached per connection",
			field: durationField(func(c *Config) *time.Duration { return &c.SchemaCacheTTL }, false)},
		{Key: "near_cache_ttl", Env: "GATEWAY_NEAR_CACHE_TTL", Default: "30s", Help: "with Redis: how long a replica keeps in-process copies of Redis entries (deletes are broadcast, this bounds staleness if a broadcast is lost)",
			field: durationField(func(c *Config) *time.Duration { return &c.NearCacheTTL }, false)},
		{Key: "connection_cache_ttl", Env: "GATEWAY_CONNECTION_CACHE_TTL", Default: "5s", Help: "how long an opened connection (store row + provider client) is reused in-process; changes through the same replica apply at once",
			field: durationField(func(c *Config) *time.Duration { return &c.ConnCacheTTL }, false)},
		{Key: "provider_timeout", Env: "GATEWAY_PROVIDER_TIMEOUT", Default: "15s", Help: "upper bound of one upstream attempt (the caller's deadline bounds the whole call, retries and queueing included)",
			field: durationField(func(c *Config) *time.Duration { return &c.ProviderTimeout }, false)},
		{Key: "rate_limit_burst", Env: "GATEWAY_RATE_LIMIT_BURST", Default: "100", Help: "provider calls per window per (connector config, location), shared by replicas through Redis",
			field: intField(func(c *Config) *int { return &c.RateBurst })},
		{Key: "rate_limit_window", Env: "GATEWAY_RATE_LIMIT_WINDOW", Default: "10s", Help: "the burst window (sliding)",
			field: durationField(func(c *Config) *time.Duration { return &c.RateWindow }, false)},
		{Key: "rate_limit_margin", Env: "GATEWAY_RATE_LIMIT_MARGIN", Default: "250ms", Help: "added to the window when pacing, to absorb the delay between granting a slot and the request reaching the provider",
			field: durationField(func(c *Config) *time.Duration { return &c.RateMargin }, false)},
		{Key: "rate_limit_daily", Env: "GATEWAY_RATE_LIMIT_DAILY", Default: "200000", Help: "provider calls per UTC day per (connector config, location)",
			field: intField(func(c *Config) *int { return &c.RateDaily })},
		{Key: "rate_limit_max_wait", Env: "GATEWAY_RATE_LIMIT_MAX_WAIT", Default: "30s", Help: "how long a call may queue for budget before a 429 (callers can lower it per call)",
			field: durationField(func(c *Config) *time.Duration { return &c.RateMaxWait }, false)},
		{Key: "retry_max_attempts", Env: "GATEWAY_RETRY_MAX_ATTEMPTS", Default: "4", Help: "attempts per provider call, first included (1 disables retries)",
			field: intField(func(c *Config) *int { return &c.RetryAttempts })},
		{Key: "max_response_bytes", Env: "GATEWAY_MAX_RESPONSE_BYTES", Default: "16MiB", Help: "largest provider answer read; larger ones fail cleanly",
			field: bytesField(func(c *Config) *int64 { return &c.MaxResponse })},
		{Key: "idempotency_ttl", Env: "GATEWAY_IDEMPOTENCY_TTL", Default: "24h", Help: "how long an `Idempotency-Key` outcome is kept",
			field: durationField(func(c *Config) *time.Duration { return &c.IdempotencyTTL }, false)},
		{Key: "log_level", Env: "GATEWAY_LOG_LEVEL", Default: "info", Help: "`debug`, `info`, `warn`, `error` (JSON logs on stderr; secrets are never logged)",
			field: field{
				set: func(c *Config, v string) error {
					if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
						return errors.New("is not a log level (debug, info, warn, error)")
					}
					return nil
				},
				get:  func(c *Config) string { return strings.ToLower(c.LogLevel.String()) },
				kind: "level",
			}},
		{Key: "oauth_refresh_skew", Env: "GATEWAY_OAUTH_REFRESH_SKEW", Default: "5m", Help: "OAuth access tokens are refreshed this long before they expire",
			field: durationField(func(c *Config) *time.Duration { return &c.OAuthRefreshSkew }, false)},
		{Key: "oauth_state_ttl", Env: "GATEWAY_OAUTH_STATE_TTL", Default: "15m", Help: "how long authorization URLs and connect page links stay valid",
			field: durationField(func(c *Config) *time.Duration { return &c.OAuthStateTTL }, false)},
		{Key: "shutdown_delay", Env: "GATEWAY_SHUTDOWN_DELAY", Default: "0s", Help: "on SIGTERM, how long the gateway keeps serving while reporting not ready, so load balancers stop sending new calls (Kubernetes: a few seconds)",
			field: durationField(func(c *Config) *time.Duration { return &c.ShutdownDelay }, true)},
		{Key: "shutdown_grace", Env: "GATEWAY_SHUTDOWN_GRACE", Default: "20s", Help: "after the delay, how long in-flight calls may take to finish before they are cut; the process then exits 0",
			field: durationField(func(c *Config) *time.Duration { return &c.ShutdownGrace }, false)},
		{Key: "readiness_interval", Env: "GATEWAY_READINESS_INTERVAL", Default: "5s", Help: "how often the gRPC health service re-checks readiness (store, and Redis when configured); `/readyz` checks on each request",
			field: durationField(func(c *Config) *time.Duration { return &c.ReadinessInterval }, false)},
		{Key: "max_in_flight", Env: "GATEWAY_MAX_IN_FLIGHT", Default: "1024", Help: "calls served at once (REST and gRPC together; a stream counts as one while it runs); over it a call queues for `in_flight_queue_wait`, then gets 503 / UNAVAILABLE `GATEWAY_OVERLOADED`, so an overload cannot grow memory without bound; 0 disables the limit",
			field: field{
				set: func(c *Config, v string) error {
					n, err := strconv.Atoi(v)
					if err != nil || n < 0 {
						return errors.New("is not a non-negative integer")
					}
					c.MaxInFlight = n
					return nil
				},
				get:  func(c *Config) string { return strconv.Itoa(c.MaxInFlight) },
				kind: "int",
			}},
		{Key: "gc_heap_floor", Env: "GATEWAY_GC_HEAP_FLOOR", Default: "64MiB", Help: "with no memory limit (no `GOMEMLIMIT`, no container limit) and no `GOGC`: the garbage collector lets the heap grow to at least this before it collects (GOGC is raised while the live heap is below half of it, Go's default above), so a small gateway does not spend its CPU collecting; 0 keeps Go's default",
			field: field{
				set: func(c *Config, v string) error {
					if strings.TrimSpace(v) == "0" {
						c.GCHeapFloor = 0
						return nil
					}
					n, err := parseBytes(v)
					if err != nil {
						return errors.New("is not a size in bytes (e.g. 67108864 or 64MiB) or 0")
					}
					c.GCHeapFloor = n
					return nil
				},
				get:  func(c *Config) string { return formatBytes(c.GCHeapFloor) },
				kind: "bytes",
			}},
		{Key: "in_flight_queue_wait", Env: "GATEWAY_IN_FLIGHT_QUEUE_WAIT", Default: "1s", Help: "how long a call over `max_in_flight` waits for a slot before it is refused (0: refused at once)",
			field: durationField(func(c *Config) *time.Duration { return &c.InFlightQueueWait }, true)},
	}
}

// Source says where a setting's effective value came from.
type Source string

// Sources, lowest precedence first.
const (
	SourceDefault Source = "default"
	SourceFile    Source = "file"
	SourceEnv     Source = "env"
	SourceFlag    Source = "flag"
)

// Loaded is an effective configuration and where each value came from.
type Loaded struct {
	Config  Config
	Sources map[string]Source // by setting key
	File    string            // the YAML file read, if any
	// Warnings are worth logging but do not stop the gateway (e.g. an
	// unknown GATEWAY_* environment variable).
	Warnings []string
}

// ConfigFlags binds the settings to a flag set: one typed flag per setting
// (e.g. --rate-limit-window, a duration) plus --config for the YAML file.
type ConfigFlags struct {
	fs   *pflag.FlagSet
	file *string
	vals map[string]*settingValue // by setting key
}

// settingValue is a setting's flag: Set checks the value as the setting
// would (a duration, a positive integer, ...) so a bad flag fails while
// the flags are parsed, naming the flag. Secret settings are only checked
// by Load, which never echoes them.
type settingValue struct {
	s    Setting
	text string
}

var _ pflag.Value = (*settingValue)(nil)

func (v *settingValue) String() string { return v.text }
func (v *settingValue) Type() string   { return v.s.Kind() }
func (v *settingValue) Set(text string) error {
	if !v.s.Secret {
		var scratch Config
		if err := v.s.field.set(&scratch, strings.TrimSpace(text)); err != nil {
			return err
		}
	}
	v.text = text
	return nil
}

// RegisterConfigFlags adds the settings' flags and --config to fs.
func RegisterConfigFlags(fs *pflag.FlagSet) *ConfigFlags {
	f := &ConfigFlags{fs: fs, vals: map[string]*settingValue{}}
	f.file = fs.String("config", "", "YAML configuration file (env "+ConfigFileEnv+"); precedence: flags > env > file > defaults")
	for _, s := range Settings() {
		def := s.Default
		if def == "" {
			def = "unset"
		}
		v := &settingValue{s: s}
		f.vals[s.Key] = v
		fs.Var(v, s.Flag(), fmt.Sprintf("%s (env %s, default %s)", stripTicks(s.Help), s.Env, def))
	}
	return f
}

func stripTicks(s string) string { return strings.ReplaceAll(s, "`", "") }

// ConfigFromEnv reads and validates the configuration from environment
// variables alone (no flags, no file): what tests and tools use.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	l, err := load(nil, getenv, nil)
	if err != nil {
		return Config{}, err
	}
	return l.Config, nil
}

// Load merges defaults, the YAML file (--config or GATEWAY_CONFIG), the
// environment and the flags that were set, in increasing precedence, and
// validates the result. environ (os.Environ()) is only used to warn about
// unknown GATEWAY_* variables; it may be nil. Every error names the bad
// setting and where it was set.
func (f *ConfigFlags) Load(getenv func(string) string, environ []string) (*Loaded, error) {
	flags := map[string]string{}
	for key, v := range f.vals {
		if fl := f.fs.Lookup(v.s.Flag()); fl != nil && fl.Changed {
			flags[key] = v.text
		}
	}
	file := *f.file
	if file == "" {
		file = strings.TrimSpace(getenv(ConfigFileEnv))
	}
	var fileVals map[string]fileValue
	if file != "" {
		data, err := os.ReadFile(file) //nolint:gosec // the operator names the file
		if err != nil {
			return nil, fmt.Errorf("configuration file: %w", err)
		}
		fileVals, err = parseYAML(file, data)
		if err != nil {
			return nil, err
		}
	}
	l, err := load(flags, getenv, fileVals)
	if err != nil {
		return nil, err
	}
	l.File = file
	known := map[string]bool{ConfigFileEnv: true}
	for _, s := range Settings() {
		known[s.Env] = true
	}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GATEWAY_") && !known[name] {
			l.Warnings = append(l.Warnings, fmt.Sprintf("unknown environment variable %s is ignored", name))
		}
	}
	return l, nil
}

type fileValue struct {
	text string
	line int
	file string
}

// parseYAML reads a flat mapping of setting keys to scalars; unknown keys
// and non-scalar values are errors.
func parseYAML(file string, data []byte) (map[string]fileValue, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return map[string]fileValue{}, nil // empty file
		}
		return nil, fmt.Errorf("configuration file %s: %w", file, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("configuration file %s: want a mapping of setting names to values", file)
	}
	known := map[string]bool{}
	for _, s := range Settings() {
		known[s.Key] = true
	}
	vals := map[string]fileValue{}
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch {
		case !known[k.Value]:
			errs = append(errs, fmt.Errorf("%s:%d: unknown setting %q (see `gateway --help` or the README for the list)", file, k.Line, k.Value))
		case v.Kind != yaml.ScalarNode || v.Tag == "!!null":
			errs = append(errs, fmt.Errorf("%s:%d: %s: want a single value", file, v.Line, k.Value))
		case vals[k.Value].line != 0:
			errs = append(errs, fmt.Errorf("%s:%d: %s is set twice", file, k.Line, k.Value))
		default:
			vals[k.Value] = fileValue{text: v.Value, line: v.Line, file: file}
		}
	}
	return vals, errors.Join(errs...)
}

// load applies defaults < file < env < flags.
func load(flags map[string]string, getenv func(string) string, file map[string]fileValue) (*Loaded, error) {
	l := &Loaded{Sources: map[string]Source{}}
	var errs []error
	for _, s := range Settings() {
		text, src, where := s.Default, SourceDefault, "default of "+s.Env
		if fv, ok := file[s.Key]; ok {
			text, src, where = strings.TrimSpace(fv.text), SourceFile, fmt.Sprintf("%s:%d: %s", fv.file, fv.line, s.Key)
		}
		if v := strings.TrimSpace(getenv(s.Env)); v != "" {
			text, src, where = v, SourceEnv, s.Env
		}
		if v, ok := flags[s.Key]; ok {
			text, src, where = strings.TrimSpace(v), SourceFlag, "--"+s.Flag()
		}
		l.Sources[s.Key] = src
		if text == "" {
			continue
		}
		if err := s.field.set(&l.Config, text); err != nil {
			if s.Secret {
				errs = append(errs, fmt.Errorf("%s: the value (hidden, it is secret) %s", where, err.Error()))
			} else {
				errs = append(errs, fmt.Errorf("%s: %q %s", where, text, err.Error()))
			}
		}
	}
	if l.Config.DatabaseURL == "" {
		l.Config.DatabaseURL = "sqlite://" + filepath.Join(l.Config.DataDir, "crmgate.db")
	}
	return l, errors.Join(errs...)
}

// Print writes the effective configuration as YAML, one setting a line
// with its source, secrets masked.
func (l *Loaded) Print(w io.Writer) {
	fmt.Fprintln(w, "# effective configuration (flags > environment > file > defaults); secrets masked")
	if l.File != "" {
		fmt.Fprintf(w, "# file: %s\n", l.File)
	}
	for _, s := range Settings() {
		v := s.field.get(&l.Config)
		if s.Secret {
			v = maskSecret(s.Key, v)
		}
		src := string(l.Sources[s.Key])
		if src == string(SourceEnv) {
			src += " " + s.Env
		} else if src == string(SourceFlag) {
			src += " --" + s.Flag()
		}
		fmt.Fprintf(w, "%s: %s # %s\n", s.Key, strconv.Quote(v), src)
	}
}

// Mask is what `config print` shows in place of a secret.
const Mask = "*****"

// maskMarker stands for Mask inside URLs until they are encoded.
const maskMarker = "crmgateMASKEDvalue"

// maskSecret hides a secret: URLs keep their shape with the password and
// sensitive query parameters masked; anything else is masked whole.
func maskSecret(key, v string) string {
	if v == "" {
		return ""
	}
	if key != "database_url" && key != "redis_url" {
		return Mask
	}
	return MaskURL(v)
}

// MaskURL masks the password of a URL (user:password@) and the values of
// query parameters that may hold secrets. A value that is not a clean URL
// (unparsable, a fragment, or an '@' outside the user information, as an
// unescaped '@' or '/' in a password gives) is masked whole, so that no
// piece of a password can leak. Plain paths (SQLite) are returned as they
// are unless they look like they carry a secret.
func MaskURL(v string) string {
	if !strings.Contains(v, "://") {
		if strings.Contains(v, "@") || sensitiveName(v) {
			return Mask
		}
		return v // a path or an SQLite file: URI
	}
	u, err := url.Parse(v)
	if err != nil || u.Fragment != "" || u.Opaque != "" {
		return Mask
	}
	ats := strings.Count(v, "@")
	if (u.User == nil && ats > 0) || (u.User != nil && ats != 1) {
		return Mask
	}
	if _, hasPass := u.User.Password(); hasPass {
		u.User = url.UserPassword(u.User.Username(), maskMarker)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Mask
	}
	for k, vals := range q {
		if sensitiveName(k) {
			for i := range vals {
				vals[i] = maskMarker
			}
		}
	}
	u.RawQuery = q.Encode()
	return strings.ReplaceAll(u.String(), maskMarker, Mask)
}

// sensitiveName reports whether a parameter name suggests a secret.
func sensitiveName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "auth"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func stringField(p func(*Config) *string) field {
	return field{
		set: func(c *Config, v string) error { *p(c) = v; return nil },
		get: func(c *Config) string { return *p(c) },
	}
}

func addrField(p func(*Config) *string) field {
	return field{
		kind: "host:port",
		set: func(c *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return errors.New("is not a listen address (want host:port or :port)")
			}
			*p(c) = v
			return nil
		},
		get: func(c *Config) string { return *p(c) },
	}
}

func httpURLField(p func(*Config) *string) field {
	return field{
		kind: "url",
		set: func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("is not an http(s) URL")
			}
			*p(c) = v
			return nil
		},
		get: func(c *Config) string { return *p(c) },
	}
}

// durationField parses a Go duration ("10s", "5m"); zero is allowed only
// when allowZero.
func durationField(p func(*Config) *time.Duration, allowZero bool) field {
	return field{
		kind: "duration",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			switch {
			case err != nil:
				return errors.New(`is not a duration (e.g. "10s", "5m", "250ms")`)
			case d < 0 || (d == 0 && !allowZero):
				if allowZero {
					return errors.New("must not be negative")
				}
				return errors.New("must be positive")
			}
			*p(c) = d
			return nil
		},
		get: func(c *Config) string { return formatDuration(*p(c)) },
	}
}

// formatDuration is time.Duration.String without zero trailing units
// ("5m", not "5m0s").
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func intField(p func(*Config) *int) field {
	return field{
		kind: "int",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return errors.New("is not a positive integer")
			}
			*p(c) = n
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(*p(c)) },
	}
}

func bytesField(p func(*Config) *int64) field {
	return field{
		kind: "bytes",
		set: func(c *Config, v string) error {
			n, err := parseBytes(v)
			if err != nil {
				return errors.New("is not a positive size in bytes (e.g. 4194304 or 4MiB)")
			}
			*p(c) = n
			return nil
		},
		get: func(c *Config) string { return formatBytes(*p(c)) },
	}
}

// parseBytes reads "4194304", "4MiB", "512KiB".
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a positive size in bytes (e.g. 4194304 or 4MiB)", s)
	}
	return n * mult, nil
}

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}

func formatBytes(n int64) string {
	for _, u := range byteUnits {
		if n >= u.mult && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
