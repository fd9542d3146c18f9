// Package secrets encrypts values at rest with AES-256-GCM under a keyring
// that supports key rotation.
//
// A keyring holds one or more 32-byte keys, each with a short id. The first
// key is the newest: it encrypts every new value. The others only decrypt
// values written before a rotation, until those are re-encrypted (see
// Keyring.NeedsRotation) and the old key can be dropped.
//
// A ciphertext is the string
//
//	v1.<keyid>.<base64url(nonce || ciphertext || tag)>
//
// where base64url is unpadded (RFC 4648 §5) and the nonce is 12 random bytes.
// Callers pass associated data (AAD) that binds a ciphertext to its context,
// e.g. the table and row it is stored in, so that a ciphertext copied
// elsewhere fails to decrypt.
//
// No error or String output of this package contains key material or
// plaintext.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a key in bytes (AES-256).
const KeySize = 32

// DefaultKeyID is the id given to the key of a spec that is a single bare
// base64 key.
const DefaultKeyID = "k1"

// formatVersion prefixes every ciphertext.
const formatVersion = "v1"

// Errors returned by Decrypt. They are wrapped; test with errors.Is.
var (
	// ErrMalformed: the value is not a ciphertext of this package.
	ErrMalformed = errors.New("secrets: malformed ciphertext")
	// ErrUnknownKey: the value was encrypted under a key id this keyring
	// does not hold.
	ErrUnknownKey = errors.New("secrets: unknown key id")
	// ErrDecrypt: authentication failed: the ciphertext was tampered with,
	// or the associated data differs from the one it was encrypted with.
	ErrDecrypt = errors.New("secrets: decryption failed (tampered ciphertext or wrong associated data)")
)

// Keyring encrypts under its newest key and decrypts under any of its keys.
// It is safe for concurrent use. Its zero value is not usable; build one
// with ParseKeyring.
type Keyring struct {
	ids   []string // newest first
	aeads map[string]cipher.AEAD
}

// ParseKeyring builds a keyring from spec, which is either
//
//   - one base64 key (standard or URL alphabet, padded or not) decoding to
//     32 bytes, given the id "k1"; or
//   - a comma-separated list of id:base64key entries, the first being the
//     newest. Ids are non-empty and made of [a-z0-9].
//
// Spaces around entries are ignored. Errors name the offending entry by
// position and id, never by its key.
func ParseKeyring(spec string) (*Keyring, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("secrets: empty keyring spec")
	}
	k := &Keyring{aeads: make(map[string]cipher.AEAD)}
	// Base64 never contains ':' or ',', so a spec without either is a
	// single bare key.
	if !strings.ContainsAny(spec, ":,") {
		if err := k.add(DefaultKeyID, spec); err != nil {
			return nil, fmt.Errorf("secrets: keyring: %w", err)
		}
		return k, nil
	}
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("secrets: keyring entry %d is empty", i+1)
		}
		id, key, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("secrets: keyring entry %d has no key id (want id:base64key)", i+1)
		}
		id, key = strings.TrimSpace(id), strings.TrimSpace(key)
		if err := validID(id); err != nil {
			return nil, fmt.Errorf("secrets: keyring entry %d: %w", i+1, err)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("secrets: keyring entry %d: duplicate key id %q", i+1, id)
		}
		if err := k.add(id, key); err != nil {
			return nil, fmt.Errorf("secrets: keyring entry %d (id %q): %w", i+1, id, err)
		}
	}
	return k, nil
}

// add decodes key and appends it under id. Its errors never contain key.
func (k *Keyring) add(id, key string) error {
	raw, err := decodeKey(key)
	if err != nil {
		return err
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return fmt.Errorf("key rejected by AES: %w", err)
	}
	// The random-nonce GCM mode prepends a fresh 12-byte nonce to every
	// ciphertext and reads it back on Open, which is exactly our format.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return fmt.Errorf("key rejected by GCM: %w", err)
	}
	k.ids = append(k.ids, id)
	k.aeads[id] = aead
	return nil
}

// decodeKey decodes a base64 key in any of the four common variants and
// checks its length.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("key is empty")
	}
	trimmed := strings.TrimRight(s, "=")
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(trimmed); err == nil {
			break
		}
	}
	if err != nil {
		// err from encoding/base64 names only a byte offset, but keep even
		// that out: it says nothing useful to an operator.
		return nil, errors.New("key is not valid base64")
	}
	if len(raw) != KeySize {
		return nil, fmt.Errorf("key decodes to %d bytes, want %d", len(raw), KeySize)
	}
	return raw, nil
}

func validID(id string) error {
	if id == "" {
		return errors.New("empty key id")
	}
	for _, r := range id {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return fmt.Errorf("key id %q: only [a-z0-9] allowed", id)
		}
	}
	return nil
}

// GenerateKey returns a new random 32-byte key, base64-encoded (standard,
// padded), suitable as a keyring spec or entry.
func GenerateKey() string {
	key := make([]byte, KeySize)
	// crypto/rand.Read never returns an error; it aborts the program if the
	// system's randomness source fails.
	_, _ = rand.Read(key)
	return base64.StdEncoding.EncodeToString(key)
}

// NewestKeyID returns the id of the key new values are encrypted under ("" for
// a nil keyring).
func (k *Keyring) NewestKeyID() string {
	if k == nil || len(k.ids) == 0 {
		return ""
	}
	return k.ids[0]
}

// KeyIDs returns the ids of the keyring's keys, newest first.
func (k *Keyring) KeyIDs() []string {
	if k == nil {
		return nil
	}
	return append([]string(nil), k.ids...)
}

// Encrypt encrypts plaintext under the newest key, binding it to aad (which
// may be nil), and returns "v1.<keyid>.<base64url>".
func (k *Keyring) Encrypt(plaintext, aad []byte) (string, error) {
	if k == nil || len(k.ids) == 0 {
		return "", errors.New("secrets: encrypt with an empty keyring")
	}
	id := k.ids[0]
	sealed := k.aeads[id].Seal(nil, nil, plaintext, aad) //nolint:gosec // NewGCMWithRandomNonce draws a random nonce itself
	return formatVersion + "." + id + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Decrypt decrypts a value made by Encrypt with the same aad, under whichever
// key of the keyring its id names. Errors wrap ErrMalformed, ErrUnknownKey or
// ErrDecrypt and never contain s.
func (k *Keyring) Decrypt(s string, aad []byte) ([]byte, error) {
	if k == nil || len(k.ids) == 0 {
		return nil, errors.New("secrets: decrypt with an empty keyring")
	}
	id, body, err := split(s)
	if err != nil {
		return nil, err
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %q (keyring has %s)", ErrUnknownKey, id, strings.Join(k.ids, ", "))
	}
	sealed, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	if len(sealed) < aead.Overhead() {
		return nil, fmt.Errorf("%w: payload too short", ErrMalformed)
	}
	plaintext, err := aead.Open(nil, nil, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("%w (key id %q)", ErrDecrypt, id)
	}
	return plaintext, nil
}

// NeedsRotation reports whether s is not encrypted under the newest key, so
// should be re-encrypted. A value that is not a ciphertext at all also needs
// rotation (Decrypt will then say what is wrong with it).
func (k *Keyring) NeedsRotation(s string) bool {
	id, _, err := split(s)
	return err != nil || id != k.NewestKeyID()
}

// split parses "v1.<keyid>.<body>".
func split(s string) (id, body string, err error) {
	version, rest, ok := strings.Cut(s, ".")
	if !ok {
		return "", "", fmt.Errorf("%w: no version prefix", ErrMalformed)
	}
	if version != formatVersion {
		// The version is at most a few characters of a well-formed value;
		// do not echo it in case s is something else entirely.
		return "", "", fmt.Errorf("%w: unsupported format version", ErrMalformed)
	}
	id, body, ok = strings.Cut(rest, ".")
	if !ok || validID(id) != nil {
		return "", "", fmt.Errorf("%w: bad key id", ErrMalformed)
	}
	return id, body, nil
}

// String describes the keyring by its key ids only, so that printing or
// logging a Keyring cannot leak keys.
func (k *Keyring) String() string {
	if k == nil {
		return "secrets.Keyring(nil)"
	}
	return "secrets.Keyring{" + strings.Join(k.ids, ",") + "}"
}

// GoString is String, for %#v.
func (k *Keyring) GoString() string { return k.String() }
