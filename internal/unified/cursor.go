package unified

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"github.com/crmgate/crmgate/internal/crm"
)

// cursor is the envelope around a provider's own cursor. It binds the
// cursor to the connection, the operation's target and (for searches) the
// query, so a cursor replayed elsewhere is refused instead of silently
// returning the wrong page. Callers see it as opaque base64url.
type cursor struct {
	V        int    `json:"v"`
	Conn     string `json:"c"`
	Target   string `json:"t"`
	Query    string `json:"q,omitempty"`
	Provider string `json:"p"`
}

const maxCursorLen = 4096

func queryHash(q string) string {
	if q == "" {
		return ""
	}
	h := sha256.Sum256([]byte(q))
	return hex.EncodeToString(h[:8])
}

func encodeCursor(conn, target, query, provider string) string {
	if provider == "" {
		return ""
	}
	b, _ := json.Marshal(cursor{V: 1, Conn: conn, Target: target, Query: queryHash(query), Provider: provider}) //nolint:errchkjson // plain strings
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the provider cursor inside s ("" for s == "").
func decodeCursor(s, conn, target, query string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) > maxCursorLen {
		return "", crm.Invalid("cursor", "is too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", crm.Invalid("cursor", "is malformed; pass next_cursor from a previous page unchanged")
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.V != 1 || c.Provider == "" {
		return "", crm.Invalid("cursor", "is malformed; pass next_cursor from a previous page unchanged")
	}
	if c.Conn != conn || c.Target != target {
		return "", crm.Invalid("cursor", "belongs to another connection or object")
	}
	if c.Query != queryHash(query) {
		return "", crm.Invalid("cursor", "belongs to another query")
	}
	return c.Provider, nil
}
