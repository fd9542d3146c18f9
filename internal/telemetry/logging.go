package telemetry

import (
	"io"
	"log/slog"
	"strings"
)

// Redacted replaces a secret in a log line.
const Redacted = "[REDACTED]"

// secretKeyParts mark an attribute key as naming a secret.
var secretKeyParts = []string{"token", "secret", "password", "passwd", "apikey", "api_key", "api-key", "authorization", "cookie", "credential", "private_key"}

// SecretKey tells whether a log attribute key names a secret.
func SecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, p := range secretKeyParts {
		if strings.Contains(k, p) {
			return true
		}
	}
	return false
}

// RedactAttr is a slog.HandlerOptions.ReplaceAttr that replaces the value
// of any attribute whose key names a secret (SecretKey), and any string
// that is an HTTP credential ("Bearer ...", "Basic ..."), with Redacted.
// crmgate never logs secrets on purpose (none of its log calls pass one);
// this is the net under that rule.
func RedactAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		return a
	}
	if SecretKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	if a.Value.Kind() == slog.KindString && credential(a.Value.String()) {
		return slog.String(a.Key, Redacted)
	}
	return a
}

// credential tells whether a string is an HTTP credential ("Bearer ...",
// "Basic ...", any case).
func credential(v string) bool {
	return len(v) > 6 && (strings.EqualFold(v[:7], "bearer ") || strings.EqualFold(v[:6], "basic "))
}

// NewLogger returns crmgate's logger: JSON lines on w at level, secrets
// redacted (RedactAttr), by slog's JSONHandler except the calls' "rpc"
// lines, which LogRPC renders itself (the same bytes, cheaper). Writes to
// w are serialised unless w is a *BufferedWriter (which serialises them).
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(newJSONHandler(w, level))
}
