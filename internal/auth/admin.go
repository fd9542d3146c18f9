package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/crmgate/crmgate/internal/apierr"
)

// HeaderAdminKey carries the operators' admin key (AdminService calls).
const HeaderAdminKey = "x-admin-key"

// AdminKeyPrefix starts every admin key, so one is not mistaken for an
// organisation's API key.
const AdminKeyPrefix = "cga_"

// NewAdminKey returns a fresh random admin key and its hash as
// GATEWAY_ADMIN_KEY_HASH takes it (hex SHA-256, as API keys are hashed).
func NewAdminKey() (key, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate admin key: %w", err)
	}
	key = AdminKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, hex.EncodeToString(HashKey(key)), nil
}

// ParseAdminKeyHash reads a GATEWAY_ADMIN_KEY_HASH value: 64 hexadecimal
// digits (a SHA-256). The error is a reason, without the value.
func ParseAdminKeyHash(s string) ([]byte, error) {
	h, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(h) != 32 {
		return nil, errors.New("is not a SHA-256 in hex (64 hexadecimal digits, as `gateway adminkey generate` prints)")
	}
	return h, nil
}

// AdminAuthenticator checks admin keys against the configured hash. Its
// zero value (no hash) refuses every call: the Admin API is disabled.
type AdminAuthenticator struct {
	hash []byte
}

// NewAdminAuthenticator checks keys against hash (a ParseAdminKeyHash
// result); nil or empty disables the Admin API.
func NewAdminAuthenticator(hash []byte) *AdminAuthenticator {
	return &AdminAuthenticator{hash: append([]byte(nil), hash...)}
}

// Enabled reports whether an admin key hash is configured.
func (a *AdminAuthenticator) Enabled() bool { return a != nil && len(a.hash) == 32 }

// Check answers nil for the admin key, ErrAdminDisabled when none is
// configured, and an Unauthenticated error otherwise. apiKey is the call's
// x-apikey, for a clearer message when it was sent instead.
func (a *AdminAuthenticator) Check(key, apiKey string) error {
	switch {
	case !a.Enabled():
		return apierr.ErrAdminDisabled
	case key == "" && apiKey != "":
		return apierr.ErrAPIKeyOnAdminAPI
	case key == "":
		return apierr.ErrMissingAdminKey
	case len(key) > 256:
		return apierr.ErrInvalidAdminKey
	}
	if subtle.ConstantTimeCompare(HashKey(key), a.hash) != 1 {
		return apierr.ErrInvalidAdminKey
	}
	return nil
}
