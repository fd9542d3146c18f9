package unified

import (
	"regexp"
	"strings"
	"testing"
)

// The regular expressions the byte-loop syntaxes replaced: the oracle.
var syntaxOracles = []struct {
	name string
	s    *syntax
	re   *regexp.Regexp
}{
	{"object name", &objectName, regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)},
	{"id", &idName, regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)},
	{"property id", &propName, regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)},
}

var syntaxCases = []string{
	"", "a", "A", "0", "_", "-", "pet", "Pet", "pet_1", "1pet", "_pet", "-pet", "pet-1", "pet 1", "pet\n",
	"pet\x00", "pét", "\xff", "a/b", "a%2Fb", "6b02d7d9cc77358d7720bda2", "conn_ghl_0123456789abcdef",
	"zZ09_-", "{", "`", "@", "[", "~", "\x7f", "a\x80",
	strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65),
	strings.Repeat("a", 99), strings.Repeat("a", 100), strings.Repeat("a", 101),
	strings.Repeat("a", 127), strings.Repeat("a", 128), strings.Repeat("a", 129),
}

func TestSyntaxMatchesRegexp(t *testing.T) {
	for _, o := range syntaxOracles {
		for _, v := range syntaxCases {
			if got, want := o.s.match(v), o.re.MatchString(v); got != want {
				t.Errorf("%s %q: match %v, regexp %v", o.name, v, got, want)
			}
		}
	}
}

func FuzzSyntax(f *testing.F) {
	for _, v := range syntaxCases {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, o := range syntaxOracles {
			if got, want := o.s.match(v), o.re.MatchString(v); got != want {
				t.Errorf("%s %q: match %v, regexp %v", o.name, v, got, want)
			}
		}
	})
}
