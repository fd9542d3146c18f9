package crm

import "testing"

func TestDomainOf(t *testing.T) {
	for in, want := range map[string]string{
		"acme.example":                     "acme.example",
		"https://WWW.Acme.example/about?x": "acme.example",
		"http://acme.example:8080":         "acme.example",
		"//acme.example/":                  "acme.example",
		"acme.example.":                    "acme.example",
		"https://user@acme.example":        "acme.example",
		"sub.acme.example":                 "sub.acme.example",
		"":                                 "",
		"https://":                         "",
		"acme example":                     "",
		"..":                               "",
		".acme.example":                    "",
	} {
		if got := DomainOf(in); got != want {
			t.Errorf("DomainOf(%q) = %q, want %q", in, got, want)
		}
	}
}
