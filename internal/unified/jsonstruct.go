package unified

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crmgate/crmgate/internal/crm"
)

// A record's properties arrive as a map or, from an adapter that hands
// its provider's JSON through (crm.Record.PropertiesJSON), as a JSON
// object. The JSON is read token by token (jsontext, the tokenizer of
// encoding/json/v2) straight into the builder's blocks: no map[string]any
// of boxed values in between, which for a page of 100 records was half
// of the adapter's decoding cost and a third of the allocations.

// properties builds r's properties Struct from whichever form it has.
func (b *builder) properties(r crm.Record) (*structpb.Struct, error) {
	if len(r.PropertiesJSON) == 0 {
		return b.toStruct(orEmpty(r.Properties)), nil
	}
	if s, err := b.jsonStruct(r.PropertiesJSON); err == nil {
		return s, nil
	}
	// Not JSON the token reader takes as encoding/json would (a number
	// out of float64's range, say): encoding/json decides, errors
	// included.
	m, err := r.PropertyMap()
	if err != nil {
		return nil, fmt.Errorf("provider adapter broke the record contract: %w", err)
	}
	return b.toStruct(m), nil
}

var errNotObject = errors.New("not a JSON object")

// decodeOptions make jsontext accept what encoding/json accepts
// (duplicate names, invalid UTF-8); read-only.
var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// jsonStruct builds a Struct from a JSON object, as toStruct builds one
// from what encoding/json decodes the object into (duplicate names: the
// last wins; invalid UTF-8 replaced, as toStruct does).
func (b *builder) jsonStruct(js []byte) (*structpb.Struct, error) {
	b.rd.Reset(js)
	if b.dec == nil {
		b.dec = jsontext.NewDecoder(&b.rd, decodeOptions...)
	} else {
		b.dec.Reset(&b.rd, decodeOptions...)
	}
	if b.dec.PeekKind() != '{' {
		return nil, errNotObject
	}
	v, err := b.jsonValue()
	if err != nil {
		return nil, err
	}
	if _, err := b.dec.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	return v.GetStructValue(), nil
}

func (b *builder) jsonValue() (*structpb.Value, error) {
	d := b.dec
	switch d.PeekKind() {
	case '{':
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		fields := make(map[string]*structpb.Value, 8)
		for d.PeekKind() != '}' {
			raw, err := d.ReadValue()
			if err != nil {
				return nil, err
			}
			k := b.name(raw) // before the next read voids raw
			v, err := b.jsonValue()
			if err != nil {
				return nil, err
			}
			fields[k] = v
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return b.structValue(b.structOf(fields)), nil
	case '[':
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		start := len(b.stack)
		for d.PeekKind() != ']' {
			v, err := b.jsonValue()
			if err != nil {
				return nil, err
			}
			b.stack = append(b.stack, v)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		vals := b.elemSlice(len(b.stack) - start)
		copy(vals, b.stack[start:])
		clear(b.stack[start:])
		b.stack = b.stack[:start]
		return b.listValue(vals), nil
	case '0':
		raw, err := d.ReadValue()
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil { // out of range: encoding/json refuses it too
			return nil, err
		}
		return b.numberValue(f), nil
	case '"':
		raw, err := d.ReadValue()
		if err != nil {
			return nil, err
		}
		return b.stringValue(b.str(raw)), nil
	}
	tok, err := d.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 'n':
		return b.nullValue(), nil
	case 't', 'f':
		return b.boolValue(tok.Bool()), nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok.Kind())
}

// jsonCounts estimates the messages a JSON object becomes, for sizeFor:
// one value per member or element (commas + 1), a struct per object.
func (c *counts) jsonObject(js []byte) {
	n := bytes.Count(js, []byte{','}) + 1
	c.values += n
	c.strs += n
	c.nums += n / 4
	c.structs += bytes.Count(js, []byte{'{'})
	c.inner += bytes.Count(js, []byte{'{'}) - 1
	c.lists += bytes.Count(js, []byte{'['})
	c.elems += n / 2
}

// name is a member name from its raw JSON string: the property names of
// a page repeat on every record, so plain ones are made once per page.
func (b *builder) name(raw []byte) string { return b.unquote(raw, true) }

// str is a string value from its raw JSON string; short plain ones (picklist
// options, codes, ids of a few records) are made once per page too.
func (b *builder) str(raw []byte) string { return b.unquote(raw, len(raw) <= maxShared+2) }

// maxShared is the longest string value made once per page.
const maxShared = 24

func (b *builder) unquote(raw []byte, share bool) string {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		if !share {
			return string(inner)
		}
		if s, ok := b.names[string(inner)]; ok {
			return s
		}
		if b.names == nil {
			b.names = make(map[string]string, 16)
		}
		s := string(inner)
		b.names[s] = s
		return s
	}
	out, _ := jsontext.AppendUnquote(nil, raw) // invalid UTF-8 replaced
	return validUTF8(string(out))
}
