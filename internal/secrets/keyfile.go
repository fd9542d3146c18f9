package secrets

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// maxKeyFileSize bounds what LoadOrCreateKeyFile reads; a keyring of a few
// dozen keys is a few kilobytes.
const maxKeyFileSize = 64 << 10

// LoadOrCreateKeyFile returns the keyring spec stored in the file at path,
// creating the file with a new random key (see GenerateKey) if it does not
// exist; created reports whether it did. A created file has mode 0600 and
// any directories created for it 0700.
//
// The file holds a keyring spec as ParseKeyring accepts it; entries may also
// be given one per line, and blank lines and lines starting with '#' are
// ignored. The returned spec is normalised to ParseKeyring's comma form and
// has been checked to parse.
//
// An existing file readable or writable by group or others is refused with
// an error saying how to fix it (on Windows, where Unix modes do not apply,
// this check is skipped). Two processes creating the file at once agree on
// one key: the file appears atomically and the loser reads the winner's.
func LoadOrCreateKeyFile(path string) (spec string, created bool, err error) {
	spec, err = readKeyFile(path)
	if err == nil {
		return spec, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("secrets: create key directory: %w", err)
	}
	spec = GenerateKey()
	// Write the key to a temporary file (CreateTemp uses mode 0600) and link
	// it into place: the link fails if path appeared meanwhile, so the file
	// is never seen half-written and a concurrent creator's key is never
	// overwritten.
	tmp, err := os.CreateTemp(dir, ".keyring-*.tmp")
	if err != nil {
		return "", false, fmt.Errorf("secrets: create key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if _, err := tmp.WriteString(spec + "\n"); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("secrets: write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("secrets: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", false, fmt.Errorf("secrets: write key file: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			spec, err = readKeyFile(path)
			return spec, false, err
		}
		return "", false, fmt.Errorf("secrets: install key file: %w", err)
	}
	return spec, true, nil
}

// readKeyFile reads, checks and normalises the key file at path. A missing
// file answers an error wrapping fs.ErrNotExist.
func readKeyFile(path string) (string, error) {
	f, err := os.Open(path) //nolint:gosec // the key file path is operator configuration
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("secrets: open key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("secrets: stat key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("secrets: key file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return "", fmt.Errorf("secrets: key file %s has mode %#o, which lets other users access it; "+
			"restrict it with: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return "", fmt.Errorf("secrets: read key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return "", fmt.Errorf("secrets: key file %s is larger than %d bytes", path, maxKeyFileSize)
	}
	var entries []string
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		entries = append(entries, line)
	}
	if len(entries) == 0 {
		return "", fmt.Errorf("secrets: key file %s holds no key", path)
	}
	spec := strings.Join(entries, ",")
	if _, err := ParseKeyring(spec); err != nil {
		return "", fmt.Errorf("secrets: key file %s: %w", path, err)
	}
	return spec, nil
}
