package ghl

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A one-pass decoder for the two record answers on the hot path, GET/POST
// {"record": {...}} and search {"records": [...], "total": n}.
// encoding/json scans such an answer three times (a json.Decoder copy and
// scan, the RawMessage of each record, then the record itself) and
// reflects over ghlRecord; this reads the bytes once into the same values.
//
// It is a fast path, not a second implementation: it succeeds only on
// input where it gives exactly what encoding/json gives (the fuzz test
// FuzzFastRecordDecoder compares both) and reports !ok on anything else —
// invalid JSON, a value of an unexpected type, a duplicate or
// case-folded field name, an escaped or non-ASCII field name, a number
// encoding/json would refuse, very deep nesting — so that the caller
// decodes the answer the old way, errors included.

// maxFastDepth bounds nesting on the fast path (encoding/json allows
// 10,000; deeper input takes the slow path).
const maxFastDepth = 128

// recordFields are ghlRecord's JSON names; encoding/json also matches
// them case-insensitively, which the fast path leaves to the slow one.
var recordFields = []string{"id", "owner", "followers", "properties", "dateAdded", "dateUpdated", "createdAt", "updatedAt", "searchAfter"}

type fastDecoder struct {
	b []byte
	i int
	// s is b as one string: the decoded strings without escapes (nearly
	// all: ids, names, values, timestamps) are slices of it, one
	// allocation for the answer instead of one per string.
	s string
	// members is a stack of the members of the objects being read, so
	// that each map is made once at its final size.
	members []member
}

type member struct {
	key   string
	value any
}

// init readies d to read body.
func (d *fastDecoder) init(body []byte) {
	d.b, d.s = body, string(body)
	d.members = make([]member, 0, 16)
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
	ok := d.object(func(key []byte) bool {
		switch string(key) {
		case "record":
			if seen {
				return false
			}
			seen = true
			d.ws()
			start := d.i
			if !d.record(&r) {
				return false
			}
			raw = d.b[start:d.i:d.i]
			return true
		default:
			return !foldsTo(key, "record") && d.skip(0)
		}
	})
	if !ok || !seen || !d.end() {
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
	ok := d.object(func(key []byte) bool {
		switch string(key) {
		case "records":
			if seenRecs {
				return false
			}
			seenRecs = true
			if d.literal("null") {
				return true
			}
			recs = make([]ghlRecord, 0, 100)
			return d.array(func() bool {
				recs = append(recs, ghlRecord{})
				d.ws()
				start := d.i
				if !d.record(&recs[len(recs)-1]) {
					return false
				}
				if raw {
					raws = append(raws, d.b[start:d.i:d.i])
				}
				return true
			})
		case "total":
			if seenTotal {
				return false
			}
			seenTotal = true
			if d.literal("null") {
				return true
			}
			f, ok := d.number()
			total = &f
			return ok
		default:
			return !foldsTo(key, "records", "total") && d.skip(0)
		}
	})
	if !ok || !d.end() {
		return nil, nil, nil, false
	}
	return recs, raws, total, true
}

// record decodes one GHL record object into r.
func (d *fastDecoder) record(r *ghlRecord) bool {
	var seen uint16
	return d.object(func(key []byte) bool {
		field := -1
		for i, name := range recordFields {
			if string(key) == name {
				field = i
				break
			}
		}
		if field < 0 {
			return !foldsTo(key, recordFields...) && d.skip(0)
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
			if d.literal("null") {
				return true
			}
			if d.peek() != '{' {
				return false
			}
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
			d.ws()
			start := d.i
			if !d.skip(0) {
				return false
			}
			r.SearchAfter = d.b[start:d.i:d.i]
			return true
		}
	})
}

// foldsTo tells whether an unknown key could still match one of names
// under encoding/json's case-insensitive (Unicode) matching.
func foldsTo(key []byte, names ...string) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	for _, n := range names {
		// Both are ASCII here, so only keys of the same length fold.
		if len(key) == len(n) && strings.EqualFold(string(key), n) {
			return true
		}
	}
	return false
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// end tells whether only whitespace is left.
func (d *fastDecoder) end() bool {
	d.ws()
	return d.i == len(d.b)
}

// literal consumes lit (true, false, null) if it comes next.
func (d *fastDecoder) literal(lit string) bool {
	d.ws()
	if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	return false
}

// object reads an object, calling field with each key (escape-free and
// ASCII, else the fast path gives up) with the decoder at its value.
func (d *fastDecoder) object(field func(key []byte) bool) bool {
	return d.objectTokens(func(start, end int, esc bool) bool {
		return !esc && field(d.b[start+1:end-1])
	})
}

// objectTokens reads an object, calling field with each key's token
// (d.b[start:end], quotes included; esc: it holds escapes) with the
// decoder at its value.
func (d *fastDecoder) objectTokens(field func(start, end int, esc bool) bool) bool {
	if d.peek() != '{' {
		return false
	}
	d.i++
	if d.peek() == '}' {
		d.i++
		return true
	}
	for {
		if d.peek() != '"' {
			return false
		}
		start := d.i
		_, esc, ok := d.rawString()
		end := d.i
		if !ok || d.peek() != ':' {
			return false
		}
		d.i++
		if !field(start, end, esc) {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// array reads an array, calling elem with the decoder at each element.
func (d *fastDecoder) array(elem func() bool) bool {
	if d.peek() != '[' {
		return false
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

// rawString reads a string at d.i (after its opening quote is checked by
// the caller), validating it as JSON's scanner does; it returns its
// contents and whether they hold escapes.
func (d *fastDecoder) rawString() (s []byte, esc, ok bool) {
	d.i++ // opening quote
	start := d.i
	// Eight bytes at a time while none is a quote, a backslash or a
	// control character (ids, timestamps, names: most strings end within
	// a few words); the byte loop below takes over from the first one.
	for d.i+8 <= len(d.b) {
		w := binary.LittleEndian.Uint64(d.b[d.i:])
		if special(w) {
			break
		}
		d.i += 8
	}
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s = d.b[start:d.i]
			d.i++
			return s, esc, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			esc = true
			if d.i+1 >= len(d.b) {
				return nil, false, false
			}
			switch d.b[d.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i += 2
			case 'u':
				if d.i+6 > len(d.b) {
					return nil, false, false
				}
				for _, h := range d.b[d.i+2 : d.i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, false, false
					}
				}
				d.i += 6
			default:
				return nil, false, false
			}
		default:
			d.i++
		}
	}
	return nil, false, false
}

// special tells whether any byte of w is '"', '\\' or below 0x20 (the
// classic has-zero-byte test on w itself and on w with '"' and '\\' made
// zero; it can report a byte above 0x80 too, which only costs the byte
// loop a look).
func special(w uint64) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	quote := w ^ ('"' * ones)
	slash := w ^ ('\\' * ones)
	return ((w-0x20*ones)|(quote-ones)|(slash-ones))&highs != 0
}

// str reads a string value as encoding/json decodes it.
func (d *fastDecoder) str() (string, bool) {
	start := d.i
	_, esc, ok := d.rawString()
	if !ok {
		return "", false
	}
	return d.text(start, d.i, esc)
}

// text decodes the string token d.b[start:end] (quotes included).
func (d *fastDecoder) text(start, end int, esc bool) (string, bool) {
	if esc || !utf8.Valid(d.b[start+1:end-1]) {
		// Escapes, or bytes encoding/json replaces with U+FFFD: let it
		// unquote this one string.
		var v string
		if json.Unmarshal(d.b[start:end], &v) != nil {
			return "", false
		}
		return v, true
	}
	return d.s[start+1 : end-1], true
}

// optString reads a string or null (leaving *dst as it is) into *dst.
func (d *fastDecoder) optString(dst *string) bool {
	switch d.peek() {
	case '"':
		v, ok := d.str()
		*dst = v
		return ok
	case 'n':
		return d.literal("null")
	}
	return false
}

// stringList reads an array of strings (a null element is ""), or null.
func (d *fastDecoder) stringList(dst *[]string) bool {
	if d.literal("null") {
		*dst = nil
		return true
	}
	list := []string{}
	ok := d.array(func() bool {
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

// number reads a JSON number as a float64, as encoding/json decodes one
// into an interface value (a number out of float64's range is refused).
func (d *fastDecoder) number() (float64, bool) {
	d.ws()
	start := d.i
	if !d.scanNumber() {
		return 0, false
	}
	f, err := strconv.ParseFloat(d.s[start:d.i], 64)
	return f, err == nil
}

// scanNumber consumes a number with JSON's grammar.
func (d *fastDecoder) scanNumber() bool {
	b, i := d.b, d.i
	digits := func() bool {
		n := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		digits()
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	d.i = i
	return true
}

// anyValue reads any JSON value as encoding/json decodes it into an
// interface value: map[string]any, []any, string, float64, bool or nil.
func (d *fastDecoder) anyValue(depth int) (any, bool) {
	switch c := d.peek(); {
	case c == '{':
		return d.anyObject(depth + 1)
	case c == '[':
		if depth >= maxFastDepth {
			return nil, false
		}
		list := make([]any, 0)
		ok := d.array(func() bool {
			v, ok := d.anyValue(depth + 1)
			list = append(list, v)
			return ok
		})
		return list, ok
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	}
	return nil, false
}

// anyObject reads an object into a map[string]any.
func (d *fastDecoder) anyObject(depth int) (map[string]any, bool) {
	if depth > maxFastDepth || d.peek() != '{' {
		return nil, false
	}
	mark := len(d.members)
	ok := d.objectTokens(func(start, end int, esc bool) bool {
		k, ok := d.text(start, end, esc)
		if !ok {
			return false
		}
		v, ok := d.anyValue(depth)
		d.members = append(d.members, member{k, v})
		return ok
	})
	if !ok {
		return nil, false
	}
	m := make(map[string]any, len(d.members)-mark)
	for _, kv := range d.members[mark:] {
		m[kv.key] = kv.value // in order: a repeated key keeps its last value
	}
	clear(d.members[mark:]) // let the values go with the answer
	d.members = d.members[:mark]
	return m, true
}

// skip validates and consumes one value.
func (d *fastDecoder) skip(depth int) bool {
	if depth > maxFastDepth {
		return false
	}
	switch c := d.peek(); {
	case c == '{':
		return d.objectTokens(func(int, int, bool) bool { return d.skip(depth + 1) })
	case c == '[':
		return d.array(func() bool { return d.skip(depth + 1) })
	case c == '"':
		_, _, ok := d.rawString()
		return ok
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return d.scanNumber()
	}
	return false
}
