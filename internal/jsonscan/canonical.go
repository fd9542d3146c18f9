package jsonscan

import "unicode/utf8"

// Canonical JSON, here: a value written with no whitespace, the keys of
// every object unique and in byte order, every string (keys included)
// free of escapes and valid UTF-8, and every number an integer of at most
// 15 digits (exact in a float64, so written back the same). It is what an
// encoder that sorts keys, escapes only what JSON requires and writes
// numbers in Go's shortest form (protojson for a google.protobuf.Struct)
// writes for the value it decodes to: such an encoder may copy canonical
// JSON instead of reading it. A decoder that checks a value anyway learns
// whether it is canonical at the cost of a few comparisons
// (CheckCanonical, CheckObject).

// maxExactDigits is the most digits of an integer every one of which a
// float64 holds exactly (2^53 has 16 digits).
const maxExactDigits = 15

// CheckCanonical is Skip for a value that will be decoded into an
// interface value later: it also refuses what encoding/json refuses then
// (a number out of float64's range). And it tells whether the value is
// canonical.
func (d *Scanner) CheckCanonical(depth int) (ok, canonical bool) {
	canonical = true
	ok = d.canon(depth, &canonical)
	return ok, ok && canonical
}

// CheckObject checks an object (its opening brace next, after any
// whitespace) as CheckCanonical does, with key deciding about each key token
// S[start:end] (quotes included) before its value is read, and tells
// whether the object is canonical. Whitespace before the object does not
// count.
func (d *Scanner) CheckObject(depth int, key func(start, end int, kind Kind) bool) (ok, canonical bool) {
	if depth > MaxDepth || d.Peek() != '{' {
		return false, false
	}
	canonical = true
	ok = d.canonObject(depth, &canonical, key)
	return ok, ok && canonical
}

// canon checks the value at I (no whitespace before it, or *c is
// cleared), clearing *c if it is not canonical.
func (d *Scanner) canon(depth int, c *bool) bool {
	if depth > MaxDepth {
		return false
	}
	at := d.I
	ch := d.Peek()
	if d.I != at {
		*c = false
	}
	switch {
	case ch == '{':
		return d.canonObject(depth, c, nil)
	case ch == '[':
		// end is where the closing bracket belongs: after the opening
		// one, then after each element.
		end, first := d.I+1, true
		ok := d.Array(func() bool {
			if d.I != next(end, first) {
				*c = false // whitespace before the element
			}
			first = false
			ok := d.canon(depth+1, c)
			end = d.I
			return ok
		})
		if ok && d.I != end+1 {
			*c = false
		}
		return ok
	case ch == '"':
		start := d.I
		kind, ok := d.RawString()
		if ok && !Verbatim(kind, d.S[start+1:d.I-1]) {
			*c = false
		}
		return ok
	case ch == 't':
		return d.Literal("true")
	case ch == 'f':
		return d.Literal("false")
	case ch == 'n':
		return d.Literal("null")
	case ch == '-' || '0' <= ch && ch <= '9':
		start := d.I
		if !d.ScanNumber() {
			return false
		}
		if ExactInteger(d.S[start:d.I]) {
			return true // in float64's range
		}
		*c = false
		d.I = start
		_, ok := d.Number() // out of float64's range: refused, as encoding/json does
		return ok
	}
	return false
}

// canonObject checks the object at I as canon does, with key (if not nil)
// deciding about each key token first.
func (d *Scanner) canonObject(depth int, c *bool, key func(start, end int, kind Kind) bool) bool {
	end, first := d.I+1, true // as for arrays in canon
	prev := ""
	ok := d.Object(func(ks, ke int, kind Kind) bool {
		if key != nil && !key(ks, ke, kind) {
			return false
		}
		k := d.S[ks+1 : ke-1]
		switch {
		case ks != next(end, first), // whitespace before the key
			d.I != ke+1, // or around the colon
			!Verbatim(kind, k),
			!first && k <= prev: // out of order, or repeated
			*c = false
		}
		first, prev = false, k
		ok := d.canon(depth+1, c)
		end = d.I
		return ok
	})
	if ok && d.I != end+1 {
		*c = false
	}
	return ok
}

// next is where a compact array's element or object's member starts:
// right after the opening bracket (end) or the comma after the last one.
func next(end int, first bool) int {
	if first {
		return end
	}
	return end + 1
}

// Verbatim tells whether a string token of kind with body (its bytes
// between the quotes) decodes to exactly those bytes and they are valid
// UTF-8: no escapes, and nothing encoding/json would replace. An encoder
// that escapes only what JSON requires writes such a string as it is.
func Verbatim(kind Kind, body string) bool {
	return kind == ASCII || kind == Unicode && utf8.ValidString(body)
}

// ExactInteger tells whether the number token n (JSON's grammar already
// checked) is an integer of at most 15 digits: exact in a float64, so Go's
// shortest formatting of the float64 it decodes to writes n back.
func ExactInteger(n string) bool {
	if n[0] == '-' {
		n = n[1:]
	}
	if len(n) > maxExactDigits {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}
