package jsonscan

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
)

// scanSeeds cover the grammar's corners; the fuzz target grows them.
//
//	go test ./internal/jsonscan -run '^$' -fuzz FuzzScanner -fuzztime 30s
var scanSeeds = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `tru`, `0`, `-0`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `1E-2`, `-12.5e-3`,
	`1e308`, `1e309`, `-1e400`, `123456789012345678901234567890`,
	`""`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\uD83D\uDE00"`, `"\ud800"`, `"\x"`, `"\u12"`, `"\u12g4"`,
	"\"a\x01\"", "\"\xff\"", "\"caf\xc3\xa9\"", `"abcdefghijklmnopqrstuvwxyz"`, `"abcdefg\"hij"`, `"unterminated`,
	`{}`, `[]`, `{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `[1,]`, `[,1]`, `[1 2]`, ` [ 1 , { "x" : [ ] } ] `,
	`{"a":{"b":[1,{"c":null}]},"d":"e"}`, `{"a":1}x`, `[1e999]`, `{"n":1e999}`,
	// canonical, and nearly
	`{"a":1,"b":[1,-2,true,null,{}],"c":{"d":"e"}}`, `{"b":1,"a":2}`, `{"a":1,"a":2}`, `{"a": 1}`, `{"a" :1}`, `{ "a":1}`,
	`{"a":1 }`, `{"a":1 ,"b":2}`, `{"a":1, "b":2}`, `[1 ,2]`, `[ 1]`, `[1, 2]`, `[1 ]`, `[ ]`, `{ }`, "{\"\xc3\xa9\":\"\xc3\xbc\u2028\"}",
	"{\"k\xff\":1}", `{"a":1.5}`, `{"a":1e2}`, `{"a":123456789012345}`, `{"a":1234567890123456}`, `{"a":-0}`, `{"a":"\u00e9"}`,
	`{"":1,"a":2}`, `{"a":[[[]]]}`,
	strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	strings.Repeat("[", MaxDepth+2) + strings.Repeat("]", MaxDepth+2),
}

func FuzzScanner(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkScan(t, s) })
}

func TestScanner(t *testing.T) {
	for _, s := range scanSeeds {
		checkScan(t, s)
	}
}

// checkScan: Skip accepts exactly what json.Valid does, Check exactly
// what json.Unmarshal into an interface value accepts, and Str and Number
// decode as encoding/json does (within MaxDepth; deeper input may be
// refused).
func checkScan(t *testing.T, s string) {
	t.Helper()
	deep := strings.Count(s, "[")+strings.Count(s, "{") > MaxDepth
	d := Scanner{S: s}
	skipped := d.Skip(0) && d.End()
	if valid := json.Valid([]byte(s)); skipped != valid && !(deep && valid) {
		t.Errorf("Skip(%q) = %v, json.Valid %v", s, skipped, valid)
	}
	var v any
	err := json.Unmarshal([]byte(s), &v)
	d = Scanner{S: s}
	vok, vcanon := d.CheckCanonical(0)
	canonical := vcanon && d.I == len(s) // the whole input
	checked := vok && d.End()
	if checked != (err == nil) && !(deep && err == nil) {
		t.Errorf("CheckCanonical(%q) = %v, json.Unmarshal: %v", s, checked, err)
	}
	if want := checked && canonicalRef(s); canonical != want {
		t.Errorf("CheckCanonical(%q): canonical %v, want %v", s, canonical, want)
	}
	d = Scanner{S: s}
	keys := 0
	// CheckObject does not count whitespace before the object.
	if ook, ocanon := d.CheckObject(0, func(int, int, Kind) bool { keys++; return true }); strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "{") {
		if lead := len(s) - len(strings.TrimLeft(s, " \t\r\n")); ook != vok || lead == 0 && ocanon != vcanon {
			t.Errorf("CheckObject(%q) = %v, %v; CheckCanonical %v, %v", s, ook, ocanon, vok, vcanon)
		}
	} else if ook || keys != 0 {
		t.Errorf("CheckObject(%q) took a value that is not an object", s)
	}
	d = Scanner{S: s}
	switch d.Peek() {
	case '"':
		start := d.I
		if kind, ok := d.RawString(); ok {
			tok := s[start+1 : d.I-1]
			want := ASCII
			for i := range len(tok) {
				switch {
				case tok[i] == '\\':
					want = Escaped
				case tok[i] >= 0x80 && want == ASCII:
					want = Unicode
				}
			}
			if kind != want {
				t.Errorf("RawString(%q): kind %d, want %d", s, kind, want)
			}
		}
		d.I = start
		got, ok := d.Str()
		if ok = ok && d.End(); ok != (err == nil) || ok && got != v {
			t.Errorf("Str(%q) = %q, %v; encoding/json %q, %v", s, got, ok, v, err)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		got, ok := d.Number()
		if ok = ok && d.End(); ok != (err == nil) || ok && got != v {
			t.Errorf("Number(%q) = %v, %v; encoding/json %v, %v", s, got, ok, v, err)
		}
	}
}

// TestSpecial checks the eight-byte test of the string scanner for every
// byte value at every position: a quote, a backslash, a control character
// or a byte from 0x80 is always found, other ASCII never is.
func TestSpecial(t *testing.T) {
	for pos := range 8 {
		for v := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(v)
			if load64(string(w), 0) != binary.LittleEndian.Uint64(w) {
				t.Fatalf("load64 of %q", w)
			}
			got := special(binary.LittleEndian.Uint64(w))
			if want := v == '"' || v == '\\' || v < 0x20 || v >= 0x80; got != want {
				t.Errorf("byte %#x at %d: special %v, want %v", v, pos, got, want)
			}
		}
	}
}

// canonicalRef tells whether s is canonical JSON, by another route: no
// backslash anywhere, every number an integer of at most 15 digits, and
// s is what encoding/json writes for its decoding (keys sorted, no HTML
// escaping, compact), but for U+2028 and U+2029, which encoding/json
// always escapes.
func canonicalRef(s string) bool {
	if strings.Contains(s, `\`) {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() || !integersOnly(v) {
		return false
	}
	var out strings.Builder
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return false
	}
	got := strings.TrimSuffix(out.String(), "\n")
	got = strings.NewReplacer(`\u2028`, "\u2028", `\u2029`, "\u2029").Replace(got)
	return got == s
}

// integersOnly tells whether every number in v is an integer of at most
// 15 digits.
func integersOnly(v any) bool {
	switch x := v.(type) {
	case json.Number:
		n := strings.TrimPrefix(string(x), "-")
		return len(n) <= 15 && strings.Trim(n, "0123456789") == ""
	case map[string]any:
		for _, e := range x {
			if !integersOnly(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !integersOnly(e) {
				return false
			}
		}
	}
	return true
}
