package secrets

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateKeyFileCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "keyring")
	spec, created, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("created = false for a new file")
	}
	if _, err := ParseKeyring(spec); err != nil {
		t.Fatalf("created spec does not parse: %v", err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Fatalf("key file mode = %#o, want 0600", perm)
		}
		di, err := os.Stat(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if perm := di.Mode().Perm(); perm != 0o700 {
			t.Fatalf("key dir mode = %#o, want 0700", perm)
		}
	}
	// No temporary file left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("key dir holds %d entries, want 1", len(entries))
	}

	again, created, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if created || again != spec {
		t.Fatalf("second call: created=%v, same spec=%v", created, again == spec)
	}
}

func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring")
	const n = 16
	specs := make([]string, n)
	createdCount := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			spec, created, err := LoadOrCreateKeyFile(path)
			if err != nil {
				t.Error(err)
				return
			}
			specs[i] = spec
			if created {
				mu.Lock()
				createdCount++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if createdCount != 1 {
		t.Fatalf("%d callers created the file, want 1", createdCount)
	}
	for _, s := range specs[1:] {
		if s != specs[0] {
			t.Fatal("concurrent callers got different keys")
		}
	}
}

func TestLoadOrCreateKeyFileExisting(t *testing.T) {
	k1, k2 := GenerateKey(), GenerateKey()
	tests := []struct {
		name     string
		content  string
		mode     os.FileMode
		wantSpec string
		wantErr  string
	}{
		{"bare key", k1 + "\n", 0o600, k1, ""},
		{"read-only", k1, 0o400, k1, ""},
		{"comma list", "k2:" + k2 + ",k1:" + k1, 0o600, "k2:" + k2 + ",k1:" + k1, ""},
		{"one entry per line with comments", "# rotated 2025-01\nk2:" + k2 + "\n\n  k1:" + k1 + "  \n", 0o600, "k2:" + k2 + ",k1:" + k1, ""},
		{"group readable", k1, 0o640, "", "chmod 600"},
		{"world readable", k1, 0o644, "", "lets other users access it"},
		{"empty", "\n# nothing\n", 0o600, "", "holds no key"},
		{"invalid", "k1:short", 0o600, "", "key is not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.mode&0o077 != 0 {
				t.Skip("Unix modes do not apply on Windows")
			}
			path := filepath.Join(t.TempDir(), "keyring")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			spec, created, err := LoadOrCreateKeyFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), k1) || strings.Contains(err.Error(), k2) {
					t.Fatalf("error %q leaks the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if created || spec != tt.wantSpec {
				t.Fatalf("created=%v spec matches=%v", created, spec == tt.wantSpec)
			}
			// The file is left as it was.
			data, _ := os.ReadFile(path)
			if string(data) != tt.content {
				t.Fatal("existing key file was modified")
			}
		})
	}
}

func TestLoadOrCreateKeyFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadOrCreateKeyFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v, want 'not a regular file'", err)
	}
}
