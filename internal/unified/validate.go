package unified

import (
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
)

// The syntax of names and ids: a byte loop, not a regexp (matching a
// regexp was ~1% of a get record's CPU, for two ids per call).
var (
	objectName = syntax{first: charset("az"), rest: charset("az", "09", "_"), max: 64}                                   // ^[a-z][a-z0-9_]{0,63}$
	idName     = syntax{first: charset("az", "AZ", "09", "_", "-"), rest: charset("az", "AZ", "09", "_", "-"), max: 128} // ^[A-Za-z0-9_-]{1,128}$
	propName   = syntax{first: charset("az", "AZ"), rest: charset("az", "AZ", "09", "_"), max: 100}                      // ^[A-Za-z][A-Za-z0-9_]{0,99}$
)

// asciiSet is a set of ASCII bytes, a bit each.
type asciiSet [2]uint64

// charset builds a set from ranges ("az": a to z) and single bytes ("_").
func charset(ranges ...string) asciiSet {
	var s asciiSet
	for _, r := range ranges {
		lo, hi := r[0], r[len(r)-1]
		for c := lo; c <= hi; c++ {
			s[c>>6] |= 1 << (c & 63)
		}
	}
	return s
}

func (s *asciiSet) has(c byte) bool { return c < 128 && s[c>>6]&(1<<(c&63)) != 0 }

// syntax is a name of 1 to max bytes: one of first, then any of rest.
type syntax struct {
	first, rest asciiSet
	max         int
}

func (x *syntax) match(v string) bool {
	if v == "" || len(v) > x.max || !x.first.has(v[0]) {
		return false
	}
	for i := 1; i < len(v); i++ {
		if !x.rest.has(v[i]) {
			return false
		}
	}
	return true
}

// Page sizes.
const (
	DefaultPageSize = 100
	MaxPageSize     = 100
)

func checkObjectName(field, v string) error {
	if v == "" {
		return crm.Invalid(field, "is required")
	}
	if !objectName.match(v) {
		return crm.Invalid(field, "%q is not a valid object name (lowercase letters, digits and _, starting with a letter, at most 64)", clip(v))
	}
	return nil
}

func checkID(field, v string) error {
	if v == "" {
		return crm.Invalid(field, "is required")
	}
	if !idName.match(v) {
		return crm.Invalid(field, "%q is not a valid id (letters, digits, _ and -, at most 128)", clip(v))
	}
	return nil
}

func checkPropertyID(field, v string) error {
	if v == "" {
		return crm.Invalid(field, "is required")
	}
	if !propName.match(v) {
		return crm.Invalid(field, "%q is not a valid property id (letters, digits and _, starting with a letter, at most 100)", clip(v))
	}
	return nil
}

// pageSize applies the default and the cap; negative sizes are refused.
func pageSize(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, crm.Invalid("page_size", "must be between 1 and %d, got %d", MaxPageSize, n)
	case n == 0:
		return DefaultPageSize, nil
	case n > MaxPageSize:
		return MaxPageSize, nil
	}
	return int(n), nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// checkPropertyDef validates a property definition for create.
func checkPropertyDef(field string, p crm.Property) []crm.FieldViolation {
	var v []crm.FieldViolation
	if err := checkPropertyID(field+".id", p.ID); err != nil {
		v = append(v, err.(*crm.ValidationError).Violations...) //nolint:errorlint // our own concrete type
	}
	if strings.TrimSpace(p.Label) == "" {
		v = append(v, crm.FieldViolation{Field: field + ".label", Description: "is required"})
	}
	if !p.Type.Valid() {
		v = append(v, crm.FieldViolation{Field: field + ".type", Description: fmt.Sprintf("%q is not a property type; use one of %s", clip(string(p.Type)), typeList())})
	}
	if p.Type == crm.TypePicklist || p.Type == crm.TypeMultipicklist {
		if len(p.Options) == 0 {
			v = append(v, crm.FieldViolation{Field: field + ".options", Description: "a " + string(p.Type) + " needs at least one option"})
		}
		seen := map[string]bool{}
		for i, o := range p.Options {
			if o.Value == "" {
				v = append(v, crm.FieldViolation{Field: fmt.Sprintf("%s.options[%d].value", field, i), Description: "is required"})
			}
			if seen[o.Value] {
				v = append(v, crm.FieldViolation{Field: fmt.Sprintf("%s.options[%d].value", field, i), Description: fmt.Sprintf("duplicate option %q", o.Value)})
			}
			seen[o.Value] = true
		}
	}
	return v
}

func typeList() string {
	s := make([]string, len(crm.PropertyTypes))
	for i, t := range crm.PropertyTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// validateRecord checks record properties against the object's schema.
// On update (partial) required properties may be absent.
func validateRecord(s crm.Schema, props map[string]any, partial bool) error {
	var v []crm.FieldViolation
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := "record.properties." + k
		p, ok := s.Property(k)
		if !ok {
			v = append(v, crm.FieldViolation{Field: field, Description: fmt.Sprintf("unknown property of object %q", s.Object.Name)})
			continue
		}
		if msg := checkValue(p, props[k]); msg != "" {
			v = append(v, crm.FieldViolation{Field: field, Description: msg})
		}
	}
	if !partial {
		for _, p := range s.Properties {
			if _, ok := props[p.ID]; p.IsRequired && !ok {
				v = append(v, crm.FieldViolation{Field: "record.properties." + p.ID, Description: "is required"})
			}
		}
	}
	if len(v) > 0 {
		return &crm.ValidationError{Violations: v}
	}
	return nil
}

// checkValue returns "" if val suits p, else what is wrong.
func checkValue(p crm.Property, val any) string {
	if val == nil {
		if p.IsRequired {
			return "is required and cannot be null"
		}
		return ""
	}
	switch p.Type {
	case crm.TypeText, crm.TypeTextarea, crm.TypePhone:
		if _, ok := val.(string); !ok {
			return want("a string", val)
		}
	case crm.TypeEmail:
		s, ok := val.(string)
		if !ok {
			return want("a string", val)
		}
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
			return fmt.Sprintf("%q is not an email address", clip(s))
		}
	case crm.TypeURL:
		s, ok := val.(string)
		if !ok {
			return want("a string", val)
		}
		if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Sprintf("%q is not an absolute URL", clip(s))
		}
	case crm.TypeNumber:
		f, ok := val.(float64)
		if !ok {
			return want("a number", val)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "must be a finite number"
		}
	case crm.TypeCurrency:
		m, ok := val.(map[string]any)
		if !ok {
			return want(`an object {"currency": string, "value": number}`, val)
		}
		for k := range m {
			if k != "currency" && k != "value" {
				return fmt.Sprintf("unexpected key %q; a currency is {\"currency\", \"value\"}", clip(k))
			}
		}
		if _, ok := m["value"].(float64); !ok {
			return "value must be a number"
		}
		if c, ok := m["currency"]; ok {
			if _, ok := c.(string); !ok {
				return "currency must be a string"
			}
		}
	case crm.TypeBoolean:
		if _, ok := val.(bool); !ok {
			return want("true or false", val)
		}
	case crm.TypePicklist:
		s, ok := val.(string)
		if !ok {
			return want("one option value (a string)", val)
		}
		if !hasOption(p, s) {
			return fmt.Sprintf("%q is not an option; options: %s", clip(s), optionList(p))
		}
	case crm.TypeMultipicklist:
		arr, ok := val.([]any)
		if !ok {
			return want("an array of option values", val)
		}
		for i, e := range arr {
			s, ok := e.(string)
			if !ok {
				return fmt.Sprintf("[%d] %s", i, want("an option value (a string)", e))
			}
			if !hasOption(p, s) {
				return fmt.Sprintf("[%d] %q is not an option; options: %s", i, clip(s), optionList(p))
			}
		}
	case crm.TypeDate:
		s, ok := val.(string)
		if !ok {
			return want(`a date "YYYY-MM-DD"`, val)
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return fmt.Sprintf(`%q is not a date "YYYY-MM-DD"`, clip(s))
		}
	case crm.TypeDatetime:
		s, ok := val.(string)
		if !ok {
			return want("an RFC 3339 date-time string", val)
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return fmt.Sprintf("%q is not an RFC 3339 date-time", clip(s))
		}
	case crm.TypeFile:
		arr, ok := val.([]any)
		if !ok {
			return want(`an array of {"url": string}`, val)
		}
		for i, e := range arr {
			m, ok := e.(map[string]any)
			if !ok {
				return fmt.Sprintf(`[%d] %s`, i, want(`an object {"url": string}`, e))
			}
			if u, ok := m["url"].(string); !ok || u == "" {
				return fmt.Sprintf("[%d].url must be a non-empty string", i)
			}
		}
	}
	return ""
}

func hasOption(p crm.Property, v string) bool {
	for _, o := range p.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

func optionList(p crm.Property) string {
	vals := make([]string, 0, len(p.Options))
	for _, o := range p.Options {
		vals = append(vals, o.Value)
	}
	if len(vals) > 20 {
		vals = append(vals[:20], "...")
	}
	return strings.Join(vals, ", ")
}

func want(what string, got any) string {
	return fmt.Sprintf("must be %s, got %s", what, jsonKind(got))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
