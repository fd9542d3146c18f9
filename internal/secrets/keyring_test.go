package secrets

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fixedKey returns a deterministic 32-byte key whose bytes are all b.
func fixedKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustParse(t *testing.T, spec string) *Keyring {
	t.Helper()
	k, err := ParseKeyring(spec)
	if err != nil {
		t.Fatalf("ParseKeyring: %v", err)
	}
	return k
}

func TestParseKeyring(t *testing.T) {
	// Bytes chosen so the std and url alphabets differ ('+/' vs '-_').
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = byte(0xfb + i)
	}
	std := base64.StdEncoding.EncodeToString(raw)
	if !strings.ContainsAny(std, "+/") || !strings.HasSuffix(std, "=") {
		t.Fatalf("test key %q does not exercise the alphabets and padding", std)
	}
	rawStd := base64.RawStdEncoding.EncodeToString(raw)
	url := base64.URLEncoding.EncodeToString(raw)
	rawURL := base64.RawURLEncoding.EncodeToString(raw)
	other := base64.StdEncoding.EncodeToString(fixedKey(7))
	short := base64.StdEncoding.EncodeToString(raw[:16])
	long := base64.StdEncoding.EncodeToString(append(raw, 1))

	tests := []struct {
		name    string
		spec    string
		wantIDs []string
		wantErr string // substring; "" means success
	}{
		{"bare std padded", std, []string{"k1"}, ""},
		{"bare std unpadded", rawStd, []string{"k1"}, ""},
		{"bare url padded", url, []string{"k1"}, ""},
		{"bare url unpadded", rawURL, []string{"k1"}, ""},
		{"bare with spaces", "  " + std + "\n", []string{"k1"}, ""},
		{"single entry", "main:" + std, []string{"main"}, ""},
		{"list newest first", "k2:" + other + ",k1:" + rawURL, []string{"k2", "k1"}, ""},
		{"list with spaces", " k2 : " + other + " , k1:" + std + " ", []string{"k2", "k1"}, ""},
		{"empty", "", nil, "empty keyring spec"},
		{"blank", "   ", nil, "empty keyring spec"},
		{"bare short", short, nil, "decodes to 16 bytes, want 32"},
		{"bare long", long, nil, "decodes to 33 bytes, want 32"},
		{"bare not base64", "not*base64!", nil, "not valid base64"},
		{"entry short", "k1:" + short, nil, `entry 1 (id "k1"): key decodes to 16 bytes`},
		{"entry empty key", "k1:", nil, "key is empty"},
		{"uppercase id", "K1:" + std, nil, `key id "K1": only [a-z0-9] allowed`},
		{"dotted id", "k.1:" + std, nil, "only [a-z0-9] allowed"},
		{"empty id", ":" + std, nil, "empty key id"},
		{"duplicate id", "k1:" + std + ",k1:" + other, nil, `entry 2: duplicate key id "k1"`},
		{"empty entry", "k1:" + std + ",,k2:" + other, nil, "entry 2 is empty"},
		{"trailing comma", "k1:" + std + ",", nil, "entry 2 is empty"},
		{"entry without id", "k1:" + std + "," + other, nil, "entry 2 has no key id"},
		{"bad second key", "k2:" + other + ",k1:zzzz", nil, `entry 2 (id "k1")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeyring(tt.spec)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseKeyring succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				// No key material in errors.
				for _, secret := range []string{std, rawStd, url, rawURL, other, short, long, strings.TrimRight(short, "=")} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error %q leaks key material", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeyring: %v", err)
			}
			if got := k.KeyIDs(); fmt.Sprint(got) != fmt.Sprint(tt.wantIDs) {
				t.Fatalf("KeyIDs = %v, want %v", got, tt.wantIDs)
			}
			if got := k.NewestKeyID(); got != tt.wantIDs[0] {
				t.Fatalf("NewestKeyID = %q, want %q", got, tt.wantIDs[0])
			}
		})
	}
}

// All four encodings of one key must yield the same key: a value encrypted
// under one decrypts under the others.
func TestParseKeyringEncodingsAgree(t *testing.T) {
	raw := fixedKey(0xfe)
	specs := []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
	}
	ct, err := mustParse(t, specs[0]).Encrypt([]byte("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range specs[1:] {
		pt, err := mustParse(t, spec).Decrypt(ct, nil)
		if err != nil || string(pt) != "hello" {
			t.Fatalf("spec %q: Decrypt = %q, %v", spec, pt, err)
		}
	}
}

func TestEncryptDecrypt(t *testing.T) {
	k := mustParse(t, GenerateKey())
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"empty", nil, nil},
		{"empty with aad", []byte{}, []byte("connections/c1")},
		{"text", []byte(`{"access_token":"abc"}`), []byte("connections/c1")},
		{"binary", []byte{0, 1, 2, 0xff, 0}, []byte{0}},
		{"large", bytes.Repeat([]byte("x"), 1<<16), []byte("a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := k.Encrypt(tt.plaintext, tt.aad)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(ct, "v1.k1.") {
				t.Fatalf("ciphertext %q lacks the v1.k1. prefix", ct[:min(len(ct), 20)])
			}
			if len(tt.plaintext) > 0 && bytes.Contains([]byte(ct), tt.plaintext) {
				t.Fatal("ciphertext contains the plaintext")
			}
			pt, err := k.Decrypt(ct, tt.aad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pt, tt.plaintext) {
				t.Fatalf("Decrypt = %q, want %q", pt, tt.plaintext)
			}
			if k.NeedsRotation(ct) {
				t.Fatal("NeedsRotation true for a value under the newest key")
			}
		})
	}
}

func TestEncryptUsesFreshNonces(t *testing.T) {
	k := mustParse(t, GenerateKey())
	seen := make(map[string]bool)
	for range 100 {
		ct, err := k.Encrypt([]byte("same"), []byte("same"))
		if err != nil {
			t.Fatal(err)
		}
		if seen[ct] {
			t.Fatal("two encryptions of the same plaintext are identical")
		}
		seen[ct] = true
	}
}

func TestDecryptErrors(t *testing.T) {
	const secret = "super-secret-token"
	k1 := base64.StdEncoding.EncodeToString(fixedKey(1))
	k2 := base64.StdEncoding.EncodeToString(fixedKey(2))
	ring := mustParse(t, "k1:"+k1+",k2:"+k2)
	aad := []byte("connections/c1")
	ct, err := ring.Encrypt([]byte(secret), aad)
	if err != nil {
		t.Fatal(err)
	}
	id, body, _ := split(ct)
	if id != "k1" {
		t.Fatalf("encrypted under %q, want k1", id)
	}
	sealed, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return "v1.k1." + base64.RawURLEncoding.EncodeToString(b)
	}

	tests := []struct {
		name    string
		value   string
		ring    *Keyring
		aad     []byte
		wantErr error
	}{
		{"flipped nonce byte", flip(0), ring, aad, ErrDecrypt},
		{"flipped ciphertext byte", flip(12), ring, aad, ErrDecrypt},
		{"flipped tag byte", flip(len(sealed) - 1), ring, aad, ErrDecrypt},
		{"truncated", "v1.k1." + base64.RawURLEncoding.EncodeToString(sealed[:len(sealed)-1]), ring, aad, ErrDecrypt},
		{"appended", "v1.k1." + base64.RawURLEncoding.EncodeToString(append(bytes.Clone(sealed), 0)), ring, aad, ErrDecrypt},
		{"too short", "v1.k1." + base64.RawURLEncoding.EncodeToString(sealed[:10]), ring, aad, ErrMalformed},
		{"relabelled to another known key", "v1.k2." + body, ring, aad, ErrDecrypt},
		{"wrong aad", ct, ring, []byte("connections/c2"), ErrDecrypt},
		{"missing aad", ct, ring, nil, ErrDecrypt},
		{"unknown key id", ct, mustParse(t, "k2:"+k2), aad, ErrUnknownKey},
		{"same key under another id", ct, mustParse(t, "other:"+k1), aad, ErrUnknownKey},
		{"wrong key same id", ct, mustParse(t, "k1:"+k2), aad, ErrDecrypt},
		{"bad version", "v2.k1." + body, ring, aad, ErrMalformed},
		{"no dots", "plaintext-secret", ring, aad, ErrMalformed},
		{"no body separator", "v1.k1", ring, aad, ErrMalformed},
		{"bad key id", "v1.K1." + body, ring, aad, ErrMalformed},
		{"bad base64", "v1.k1.@@@" + body, ring, aad, ErrMalformed},
		{"padded base64", "v1.k1." + base64.URLEncoding.EncodeToString(sealed) + "=", ring, aad, ErrMalformed},
		{"empty", "", ring, aad, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := tt.ring.Decrypt(tt.value, tt.aad)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decrypt = %q, %v; want %v", pt, err, tt.wantErr)
			}
			if pt != nil {
				t.Fatal("Decrypt returned plaintext with an error")
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || (len(body) > 8 && strings.Contains(msg, body[:8])) || strings.Contains(msg, k1) || strings.Contains(msg, k2) {
				t.Fatalf("error %q leaks the value or a key", msg)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	old := mustParse(t, "k1:"+oldKey)
	aad := []byte("connector_configs/cc1")
	oldCT, err := old.Encrypt([]byte("client-secret"), aad)
	if err != nil {
		t.Fatal(err)
	}

	// After rotation the keyring lists the new key first and keeps the old.
	rotated := mustParse(t, "k2:"+newKey+",k1:"+oldKey)
	if rotated.NewestKeyID() != "k2" {
		t.Fatalf("NewestKeyID = %q", rotated.NewestKeyID())
	}
	if !rotated.NeedsRotation(oldCT) {
		t.Fatal("old value does not need rotation")
	}
	pt, err := rotated.Decrypt(oldCT, aad)
	if err != nil || string(pt) != "client-secret" {
		t.Fatalf("old value under rotated keyring: %q, %v", pt, err)
	}
	newCT, err := rotated.Encrypt(pt, aad)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(newCT, "v1.k2.") || rotated.NeedsRotation(newCT) {
		t.Fatalf("re-encrypted value %q is not under k2", newCT[:8])
	}
	// Once everything is re-encrypted the old key can go.
	onlyNew := mustParse(t, "k2:"+newKey)
	if pt, err := onlyNew.Decrypt(newCT, aad); err != nil || string(pt) != "client-secret" {
		t.Fatalf("new value under new-only keyring: %q, %v", pt, err)
	}
	if _, err := onlyNew.Decrypt(oldCT, aad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old value under new-only keyring: %v, want ErrUnknownKey", err)
	}
	// Garbage needs rotation (so a re-encryption pass surfaces it).
	if !rotated.NeedsRotation("garbage") {
		t.Fatal("NeedsRotation(garbage) = false")
	}
}

func TestGenerateKey(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	if a == b {
		t.Fatal("GenerateKey returned the same key twice")
	}
	raw, err := base64.StdEncoding.DecodeString(a)
	if err != nil || len(raw) != KeySize {
		t.Fatalf("GenerateKey = %d bytes, %v", len(raw), err)
	}
}

func TestKeyringStringHidesKeys(t *testing.T) {
	key := GenerateKey()
	k := mustParse(t, "k2:"+key+",k1:"+GenerateKey())
	for _, s := range []string{k.String(), fmt.Sprintf("%v", k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k)} {
		if s != "secrets.Keyring{k2,k1}" {
			t.Fatalf("formatted keyring = %q", s)
		}
	}
}

func TestEmptyKeyring(t *testing.T) {
	var k *Keyring
	if _, err := k.Encrypt([]byte("x"), nil); err == nil {
		t.Fatal("Encrypt on nil keyring succeeded")
	}
	if _, err := k.Decrypt("v1.k1.AAAA", nil); err == nil {
		t.Fatal("Decrypt on nil keyring succeeded")
	}
	if k.NewestKeyID() != "" || k.KeyIDs() != nil || !k.NeedsRotation("v1.k1.AAAA") {
		t.Fatal("nil keyring accessors misbehave")
	}
}
