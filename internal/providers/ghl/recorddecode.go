package ghl

import (
	"strings"
	"unsafe"

	"github.com/crmgate/crmgate/internal/jsonscan"
)

// A one-pass decoder for the two record answers on the hot path, GET/POST
// {"record": {...}} and search {"records": [...], "total": n}.
// encoding/json scans such an answer three times (a json.Decoder copy and
// scan, the RawMessage of each record, then the record itself) and
// reflects over ghlRecord; this reads the bytes once into the same values.
// Properties already in the neutral shape (no TEXTBOX_LIST keys to
// regroup) are checked and handed through as JSON, crm.Record's
// PropertiesJSON: the gateway builds its answer from them directly, and no
// map[string]any of boxed values is made only to be read once.
//
// It is a fast path, not a second implementation: it succeeds only on
// input where it gives exactly what encoding/json gives (the fuzz test
// FuzzFastRecordDecoder compares both) and reports !ok on anything else —
// invalid JSON, a value of an unexpected type, a duplicate or
// case-folded field name, an escaped or non-ASCII field name, a number
// encoding/json would refuse, very deep nesting — so that the caller
// decodes the answer the old way, errors included.

// recordFields are ghlRecord's JSON names; encoding/json also matches
// them case-insensitively, which the fast path leaves to the slow one.
var recordFields = []string{"id", "owner", "followers", "properties", "dateAdded", "dateUpdated", "createdAt", "updatedAt", "searchAfter"}

type fastDecoder struct {
	// Scanner reads the answer as one string: the decoded strings without
	// escapes (nearly all: ids, names, values, timestamps) and the
	// properties handed through are slices of it, one allocation for the
	// answer instead of one per string.
	jsonscan.Scanner
	b []byte // the answer: raw JSON is sliced from it
	// members is the stack jsonscan.ObjectMap reads objects with.
	members []jsonscan.Member[any]
}

// init readies d to read body, which must not change afterwards: the
// strings decoded from it are views of its bytes. The answer's buffer
// (readBody's) is written only while it is read, so the view saves
// copying it (80 KB for a page of 100 records) into a string.
func (d *fastDecoder) init(body []byte) {
	d.b, d.S = body, unsafe.String(unsafe.SliceData(body), len(body)) //nolint:gosec // read-only view, see above
	d.members = make([]jsonscan.Member[any], 0, 16)
}

// fastRecordAnswer decodes {"record": {...}}: the record and its raw JSON
// (a slice of body, capped so that an append copies it).
func fastRecordAnswer(body []byte) (ghlRecord, []byte, bool) {
	var d fastDecoder
	d.init(body)
	var (
		r    ghlRecord
		raw  []byte
		seen bool
	)
	ok := d.object(func(key string) bool {
		switch key {
		case "record":
			if seen {
				return false
			}
			seen = true
			d.WS()
			start := d.I
			if !d.record(&r) {
				return false
			}
			raw = d.b[start:d.I:d.I]
			return true
		default:
			return !foldsTo(key, "record") && d.Skip(0)
		}
	})
	if !ok || !seen || !d.End() {
		return ghlRecord{}, nil, false
	}
	return r, raw, true
}

// fastSearchAnswer decodes {"records": [...], "total": n}: the records,
// their raw JSON when raw is set (slices of body), and total (nil if
// absent or null).
func fastSearchAnswer(body []byte, raw bool) ([]ghlRecord, [][]byte, *float64, bool) {
	var d fastDecoder
	d.init(body)
	var (
		recs      []ghlRecord
		raws      [][]byte
		total     *float64
		seenRecs  bool
		seenTotal bool
	)
	ok := d.object(func(key string) bool {
		switch key {
		case "records":
			if seenRecs {
				return false
			}
			seenRecs = true
			if d.Literal("null") {
				return true
			}
			recs = make([]ghlRecord, 0, 100)
			return d.Array(func() bool {
				recs = append(recs, ghlRecord{})
				d.WS()
				start := d.I
				if !d.record(&recs[len(recs)-1]) {
					return false
				}
				if raw {
					raws = append(raws, d.b[start:d.I:d.I])
				}
				return true
			})
		case "total":
			if seenTotal {
				return false
			}
			seenTotal = true
			if d.Literal("null") {
				return true
			}
			f, ok := d.Number()
			total = &f
			return ok
		default:
			return !foldsTo(key, "records", "total") && d.Skip(0)
		}
	})
	if !ok || !d.End() {
		return nil, nil, nil, false
	}
	return recs, raws, total, true
}

// record decodes one GHL record object into r.
func (d *fastDecoder) record(r *ghlRecord) bool {
	var seen uint16
	return d.object(func(key string) bool {
		field := -1
		for i, name := range recordFields {
			if key == name {
				field = i
				break
			}
		}
		if field < 0 {
			return !foldsTo(key, recordFields...) && d.Skip(0)
		}
		if seen&(1<<field) != 0 {
			return false // encoding/json merges or overwrites: slow path
		}
		seen |= 1 << field
		switch field {
		case 0:
			return d.optString(&r.ID)
		case 1:
			return d.stringList(&r.Owner)
		case 2:
			return d.stringList(&r.Followers)
		case 3:
			if d.Literal("null") {
				return true
			}
			if d.Peek() != '{' {
				return false
			}
			start := d.I
			if ok, canonical := d.neutralProperties(); ok {
				r.propsJSON, r.propsCanonical = d.S[start:d.I], canonical
				return true
			}
			d.I = start
			m, ok := d.anyObject(1)
			r.Properties = m
			return ok
		case 4:
			return d.optString(&r.DateAdded)
		case 5:
			return d.optString(&r.DateUpdated)
		case 6:
			return d.optString(&r.CreatedAt)
		case 7:
			return d.optString(&r.UpdatedAt)
		default: // searchAfter: its JSON as it is
			d.WS()
			start := d.I
			if !d.Skip(0) {
				return false
			}
			r.SearchAfter = d.b[start:d.I:d.I]
			return true
		}
	})
}

// object reads an object, calling field with each key (escape-free and
// ASCII, else the fast path gives up) with the decoder at its value.
func (d *fastDecoder) object(field func(key string) bool) bool {
	return d.Object(func(start, end int, kind jsonscan.Kind) bool {
		return kind == jsonscan.ASCII && field(d.S[start+1:end-1])
	})
}

// neutralProperties reads a properties object that is already in the
// neutral shape, to be handed through as JSON: no key holds a dot (the
// TEXTBOX_LIST entries PropertiesFromGHL regroups) or an escape (which
// could spell one), and every value decodes as encoding/json decodes it.
// It also tells whether the object is canonical JSON (jsonscan), which
// GHL's compact answers with keys in order usually are: the gateway's
// JSON answers then copy it instead of reading it again.
func (d *fastDecoder) neutralProperties() (ok, canonical bool) {
	return d.CheckObject(0, func(start, end int, kind jsonscan.Kind) bool {
		return kind != jsonscan.Escaped && !strings.Contains(d.S[start+1:end-1], ".")
	})
}

// foldsTo tells whether an unknown key could still match one of names
// under encoding/json's case-insensitive matching. The key is ASCII
// (object refuses others, which could fold by Unicode rules), so only
// keys of the same length fold.
func foldsTo(key string, names ...string) bool {
	for _, n := range names {
		if len(key) == len(n) && strings.EqualFold(key, n) {
			return true
		}
	}
	return false
}

// optString reads a string or null (leaving *dst as it is) into *dst.
func (d *fastDecoder) optString(dst *string) bool {
	switch d.Peek() {
	case '"':
		v, ok := d.Str()
		*dst = v
		return ok
	case 'n':
		return d.Literal("null")
	}
	return false
}

// stringList reads an array of strings (a null element is ""), or null.
func (d *fastDecoder) stringList(dst *[]string) bool {
	if d.Literal("null") {
		*dst = nil
		return true
	}
	list := []string{}
	ok := d.Array(func() bool {
		var s string
		if !d.optString(&s) {
			return false
		}
		list = append(list, s)
		return true
	})
	*dst = list
	return ok
}

// anyValue reads any JSON value as encoding/json decodes it into an
// interface value: map[string]any, []any, string, float64, bool or nil.
func (d *fastDecoder) anyValue(depth int) (any, bool) {
	switch c := d.Peek(); {
	case c == '{':
		return d.anyObject(depth + 1)
	case c == '[':
		if depth >= jsonscan.MaxDepth {
			return nil, false
		}
		list := make([]any, 0)
		ok := d.Array(func() bool {
			v, ok := d.anyValue(depth + 1)
			list = append(list, v)
			return ok
		})
		return list, ok
	case c == '"':
		return d.Str()
	case c == 't':
		return true, d.Literal("true")
	case c == 'f':
		return false, d.Literal("false")
	case c == 'n':
		return nil, d.Literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return d.Number()
	}
	return nil, false
}

// anyObject reads an object into a map[string]any.
func (d *fastDecoder) anyObject(depth int) (map[string]any, bool) {
	if depth > jsonscan.MaxDepth || d.Peek() != '{' {
		return nil, false
	}
	return jsonscan.ObjectMap(&d.Scanner, &d.members, func() (any, bool) { return d.anyValue(depth) })
}
