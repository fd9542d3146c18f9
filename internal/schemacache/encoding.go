package schemacache

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"io"
)

// Encoded entries are JSON compressed with DEFLATE behind a one-byte
// marker: a schema's JSON (GHL's raw object, every property's raw details)
// is mostly repeated keys, so it shrinks about four times, which is what
// lets thousands of connections' schemas stay in memory (and in Redis)
// cheaply. Entries without the marker are plain JSON (written by earlier
// versions) and still read.
const markerFlate = 0x01

// maxDecoded bounds what decode inflates, against a corrupt or hostile
// entry.
const maxDecoded = 16 << 20

func encode(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/3 + 16)
	buf.WriteByte(markerFlate)
	w, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decode(b []byte, v any) error {
	if len(b) == 0 {
		return errors.New("empty entry")
	}
	if b[0] != markerFlate {
		return json.Unmarshal(b, v)
	}
	r := flate.NewReader(bytes.NewReader(b[1:]))
	defer func() { _ = r.Close() }()
	raw, err := io.ReadAll(io.LimitReader(r, maxDecoded+1))
	if err != nil {
		return err
	}
	if len(raw) > maxDecoded {
		return errors.New("entry inflates beyond the limit")
	}
	return json.Unmarshal(raw, v)
}
