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
// cheaply. Entries are written with markerFlateDict; the other forms
// (written by earlier versions) are still read.
const (
	markerFlate     = 0x01 // DEFLATE
	markerFlateDict = 0x02 // DEFLATE with flateDict as preset dictionary
)

// flateDict primes the compressor with what every entry repeats: the
// neutral schema's JSON keys and the common provider attributes. An entry
// is about 1 KB compressed, too short for DEFLATE to find much of that in
// the entry itself: with it, the GHL pet schema takes 790 bytes instead of
// 1,091. It must never change under the same marker (entries outlive a
// deployment in Redis): a new dictionary takes a new marker.
const flateDict = `{"Object":{"Name":"","Type":"custom","Labels":{"Singular":"","Plural":""},"Description":"","PrimaryFieldID":"",` +
	`"CreatedAt":"0001-01-01T00:00:00Z","UpdatedAt":"0001-01-01T00:00:00Z","Raw":{"id":"","standard":false,"key":"custom_objects.",` +
	`"labels":{"singular":"","plural":""},"description":"","locationId":"","primaryDisplayProperty":"custom_objects.","dateAdded":"",` +
	`"dateUpdated":"","type":"USER_DEFINED","searchableProperties":["custom_objects."]}},"Properties":[{"ID":"","Label":"",` +
	`"Description":"","Type":"text","IsRequired":false,"Options":null,"Precision":0,"Scale":0,"GroupName":"","RawDetails":` +
	`{"ghl_data_type":"TEXT","id":"","parentId":"","showInForms":true}},{"ID":"","Label":"","Description":"","Type":"picklist",` +
	`"IsRequired":false,"Options":[{"Label":"","Value":"","Description":"","Hidden":false}],"Precision":0,"Scale":0,"GroupName":"",` +
	`"RawDetails":{"ghl_data_type":"SINGLE_OPTIONS","id":"","parentId":"","showInForms":true}}]}`

// flateLevel: with the dictionary, level 4 is smaller than BestSpeed and
// no slower (BestSpeed does not use a dictionary well).
const flateLevel = 4

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
	e.out.WriteByte(markerFlateDict)
	if e.zw == nil {
		zw, err := flate.NewWriterDict(&e.out, flateLevel, []byte(flateDict))
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
	src  bytes.Reader
	zr   io.ReadCloser // a flate.Resetter
	raw  bytes.Buffer
	dict []byte // flateDict
}

func decode(b []byte, v any) error {
	if len(b) == 0 {
		return errors.New("empty entry")
	}
	if b[0] != markerFlate && b[0] != markerFlateDict {
		return json.Unmarshal(b, v)
	}
	d := decoders.Get().(*decoder)
	defer d.release()
	var dict []byte
	if b[0] == markerFlateDict {
		if d.dict == nil {
			d.dict = []byte(flateDict)
		}
		dict = d.dict
	}
	d.src.Reset(b[1:])
	if d.zr == nil {
		d.zr = flate.NewReaderDict(&d.src, dict)
	} else if err := d.zr.(flate.Resetter).Reset(&d.src, dict); err != nil {
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
