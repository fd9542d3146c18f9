// Package jsonscan reads JSON text in one pass, for the decoders on the
// hot path that replace encoding/json: the GHL adapter's record answers
// and the gateway's google.protobuf.Struct builder.
//
// Its grammar is encoding/json's, and where it decodes a value (a string,
// a number) it gives what encoding/json gives when decoding into an
// interface value. It reports !ok on anything it does not read exactly
// that way, so that a caller can fall back to encoding/json (and get its
// errors). Decoded strings without escapes are slices of the input, so a
// caller that scans one string per answer allocates one string per
// answer, not one per value.
package jsonscan

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// MaxDepth bounds nesting for Skip and CheckCanonical (encoding/json allows
// 10,000; deeper input is left to it).
const MaxDepth = 128

// Scanner reads S from position I. The zero Scanner reads "".
type Scanner struct {
	S string // the input
	I int    // the read position
}

// WS skips whitespace.
func (d *Scanner) WS() {
	for d.I < len(d.S) {
		switch d.S[d.I] {
		case ' ', '\t', '\n', '\r':
			d.I++
		default:
			return
		}
	}
}

// Peek skips whitespace and returns the next byte (0 at the end).
func (d *Scanner) Peek() byte {
	d.WS()
	if d.I < len(d.S) {
		return d.S[d.I]
	}
	return 0
}

// End tells whether only whitespace is left.
func (d *Scanner) End() bool {
	d.WS()
	return d.I == len(d.S)
}

// Literal consumes lit (true, false, null) if it comes next.
func (d *Scanner) Literal(lit string) bool {
	d.WS()
	if len(d.S)-d.I >= len(lit) && d.S[d.I:d.I+len(lit)] == lit {
		d.I += len(lit)
		return true
	}
	return false
}

// Kind tells what decoding a string token takes.
type Kind uint8

// The kinds of string token, from the cheapest to decode.
const (
	ASCII   Kind = iota // no escapes, only ASCII: its bytes are the string
	Unicode             // no escapes, bytes from 0x80 (maybe invalid UTF-8)
	Escaped             // holds escapes
)

// Object reads an object, calling field with each key's token
// (S[start:end], quotes included) and kind with the scanner at the value,
// which field must consume.
func (d *Scanner) Object(field func(start, end int, kind Kind) bool) bool {
	if d.Peek() != '{' {
		return false
	}
	d.I++
	if d.Peek() == '}' {
		d.I++
		return true
	}
	for {
		if d.Peek() != '"' {
			return false
		}
		start := d.I
		kind, ok := d.RawString()
		end := d.I
		if !ok || d.Peek() != ':' {
			return false
		}
		d.I++
		if !field(start, end, kind) {
			return false
		}
		switch d.Peek() {
		case ',':
			d.I++
		case '}':
			d.I++
			return true
		default:
			return false
		}
	}
}

// Member is one member of an object ObjectMap is reading.
type Member[V any] struct {
	Key   string
	Value V
}

// ObjectMap reads an object into a map made once at its final size,
// value reading each member's value (with the scanner at it); a repeated
// key keeps its last value, as encoding/json has it. stack holds the
// members of the objects being read: nested calls share it, and each
// leaves it as it found it.
func ObjectMap[V any](d *Scanner, stack *[]Member[V], value func() (V, bool)) (map[string]V, bool) {
	mark := len(*stack)
	ok := d.Object(func(start, end int, kind Kind) bool {
		k, ok := d.Text(start, end, kind)
		if !ok {
			return false
		}
		v, ok := value()
		*stack = append(*stack, Member[V]{k, v})
		return ok
	})
	members := (*stack)[mark:]
	var m map[string]V
	if ok {
		m = make(map[string]V, len(members))
		for _, kv := range members {
			m[kv.Key] = kv.Value
		}
	}
	clear(members) // let the values go with the answer
	*stack = (*stack)[:mark]
	return m, ok
}

// Array reads an array, calling elem with the scanner at each element,
// which elem must consume.
func (d *Scanner) Array(elem func() bool) bool {
	if d.Peek() != '[' {
		return false
	}
	d.I++
	if d.Peek() == ']' {
		d.I++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch d.Peek() {
		case ',':
			d.I++
		case ']':
			d.I++
			return true
		default:
			return false
		}
	}
}

// RawString reads the string token at I (its opening quote checked by
// the caller), validating it as JSON's scanner does, and tells its kind.
func (d *Scanner) RawString() (Kind, bool) {
	s := d.S
	i := d.I + 1 // opening quote
	kind := ASCII
	// Eight bytes at a time first (ids, timestamps, names: most strings
	// end within a few words); the byte loop takes over from the first
	// word that needs a look.
	i = SkipPlain(s, i)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			d.I = i + 1
			return kind, true
		case c < 0x20:
			return 0, false
		case c >= 0x80:
			kind = max(kind, Unicode)
			i++
		case c == '\\':
			kind = Escaped
			if i+1 >= len(s) {
				return 0, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) {
					return 0, false
				}
				for j := i + 2; j < i+6; j++ {
					if h := s[j]; !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return 0, false
					}
				}
				i += 6
			default:
				return 0, false
			}
		default:
			i++
		}
	}
	return 0, false
}

// SkipPlain returns the position of the first eight-byte word of s from
// i that holds a quote, a backslash, a control character or a byte from
// 0x80, or of the last bytes too few for a word: everything from i to it
// can be copied into a JSON string as it is.
func SkipPlain(s string, i int) int {
	for i+8 <= len(s) && !special(load64(s, i)) {
		i += 8
	}
	return i
}

// load64 reads s[i:i+8] as a little-endian word (the compiler makes it
// one load).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// special tells whether any byte of w is '"', '\\', below 0x20 or from
// 0x80 (the classic has-zero-byte test on w itself and on w with '"' and
// '\\' made zero, and w's own high bits).
func special(w uint64) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	quote := w ^ ('"' * ones)
	slash := w ^ ('\\' * ones)
	return ((w-0x20*ones)|(quote-ones)|(slash-ones)|w)&highs != 0
}

// Str reads a string value as encoding/json decodes it.
func (d *Scanner) Str() (string, bool) {
	start := d.I
	kind, ok := d.RawString()
	if !ok {
		return "", false
	}
	return d.Text(start, d.I, kind)
}

// Text decodes the string token S[start:end] of kind (quotes included, as
// Object and RawString delimit it).
func (d *Scanner) Text(start, end int, kind Kind) (string, bool) {
	s := d.S[start+1 : end-1]
	if kind == Escaped || kind == Unicode && !utf8.ValidString(s) {
		// Escapes, or bytes encoding/json replaces with U+FFFD: let it
		// unquote this one string.
		var v string
		if json.Unmarshal([]byte(d.S[start:end]), &v) != nil {
			return "", false
		}
		return v, true
	}
	return s, true
}

// Number reads a JSON number as a float64, as encoding/json decodes one
// into an interface value (a number out of float64's range is refused).
func (d *Scanner) Number() (float64, bool) {
	d.WS()
	start := d.I
	if !d.ScanNumber() {
		return 0, false
	}
	f, err := strconv.ParseFloat(d.S[start:d.I], 64)
	return f, err == nil
}

// ScanNumber consumes a number with JSON's grammar.
func (d *Scanner) ScanNumber() bool {
	s, i := d.S, d.I
	digits := func() bool {
		n := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i > n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		digits()
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	d.I = i
	return true
}

// Skip validates and consumes one value at nesting depth (Skip(0) for a
// top-level value), as encoding/json's scanner does for a value it does
// not decode. (CheckCanonical checks a value that will be decoded.)
func (d *Scanner) Skip(depth int) bool {
	if depth > MaxDepth {
		return false
	}
	switch c := d.Peek(); {
	case c == '{':
		return d.Object(func(int, int, Kind) bool { return d.Skip(depth + 1) })
	case c == '[':
		return d.Array(func() bool { return d.Skip(depth + 1) })
	case c == '"':
		_, ok := d.RawString()
		return ok
	case c == 't':
		return d.Literal("true")
	case c == 'f':
		return d.Literal("false")
	case c == 'n':
		return d.Literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return d.ScanNumber()
	}
	return false
}
