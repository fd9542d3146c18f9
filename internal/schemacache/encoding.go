package schemacache

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"io"
	"sync"
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

// maxPooled is the largest scratch buffer kept for reuse; a rare huge
// entry's buffer goes to the garbage collector instead of staying pinned
// in a pool.
const maxPooled = 256 << 10

// A DEFLATE compressor holds about a megabyte of tables and a
// decompressor tens of kilobytes: allocating one per entry made every
// cache miss (and, for the reader, every decoded-tier miss) churn that
// much garbage, which is what raised the heap's peak when thousands of
// connections' schemas were fetched at once. They are reused instead.
// These pools hold scratch state only, nothing that outlives a call.
var (
	encoders = sync.Pool{New: func() any { return new(encoder) }}
	decoders = sync.Pool{New: func() any { return new(decoder) }}
)

// encoder compresses JSON into out.
type encoder struct {
	out bytes.Buffer
	zw  *flate.Writer
	enc *json.Encoder // writes into zw
}

// encode returns v's entry. The bytes belong to e: they are valid until
// e is released.
func (e *encoder) encode(v any) ([]byte, error) {
	e.out.Reset()
	e.out.WriteByte(markerFlate)
	if e.zw == nil {
		zw, err := flate.NewWriter(&e.out, flate.BestSpeed)
		if err != nil {
			return nil, err
		}
		e.zw, e.enc = zw, json.NewEncoder(zw)
	} else {
		e.zw.Reset(&e.out)
	}
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	if err := e.zw.Close(); err != nil {
		return nil, err
	}
	return e.out.Bytes(), nil
}

func (e *encoder) release() {
	if e.out.Cap() > maxPooled {
		e.out = bytes.Buffer{}
	}
	encoders.Put(e)
}

// encode returns v's entry in a new slice (tests; the Provider encodes
// with a pooled encoder and hands its bytes to a cache, which copies them).
func encode(v any) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer e.release()
	b, err := e.encode(v)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

// decoder inflates entries into raw.
type decoder struct {
	src bytes.Reader
	zr  io.ReadCloser // a flate.Resetter
	raw bytes.Buffer
}

func decode(b []byte, v any) error {
	if len(b) == 0 {
		return errors.New("empty entry")
	}
	if b[0] != markerFlate {
		return json.Unmarshal(b, v)
	}
	d := decoders.Get().(*decoder)
	defer d.release()
	d.src.Reset(b[1:])
	if d.zr == nil {
		d.zr = flate.NewReader(&d.src)
	} else if err := d.zr.(flate.Resetter).Reset(&d.src, nil); err != nil {
		return err
	}
	d.raw.Reset()
	if _, err := d.raw.ReadFrom(io.LimitReader(d.zr, maxDecoded+1)); err != nil {
		return err
	}
	if d.raw.Len() > maxDecoded {
		return errors.New("entry inflates beyond the limit")
	}
	// json.Unmarshal copies what it keeps (strings, RawMessage), so the
	// buffer can be reused.
	return json.Unmarshal(d.raw.Bytes(), v)
}

func (d *decoder) release() {
	d.src.Reset(nil)
	if d.raw.Cap() > maxPooled {
		d.raw = bytes.Buffer{}
	}
	decoders.Put(d)
}
