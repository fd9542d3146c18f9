package schemacache

import (
	"github.com/crmgate/crmgate/internal/crm"
)

// compact makes a schema decoded from an encoded entry, about to be kept
// in the decoded hot set, share what repeats instead of holding a copy of
// it: property types are the package's constants, and raw details keys,
// and string values equal to the previous property's under the same key
// (a folder id on every property, a provider type on several), are that
// property's strings. The decoder allocated each of them anew. No value
// changes; a property's map keeps its size (keys are replaced in place).
func compact(s *crm.Schema) {
	var prev, cur []rawEntry
	var bufs [2][8]rawEntry
	for i := range s.Properties {
		p := &s.Properties[i]
		p.Type = canonicalType(p.Type)
		cur = bufs[i%2][:0]
		for k, v := range p.RawDetails {
			e := rawEntry{key: k, v: v}
			for _, pe := range prev {
				if pe.key != k {
					continue
				}
				e.key, e.shared = pe.key, true
				if str, ok := v.(string); ok {
					if pstr, ok := pe.v.(string); ok && pstr == str {
						e.v = pe.v
					}
				}
				break
			}
			cur = append(cur, e)
		}
		for _, e := range cur {
			if e.shared {
				delete(p.RawDetails, e.key)
				p.RawDetails[e.key] = e.v
			}
		}
		prev = cur
	}
}

// rawEntry is one raw details entry of a property.
type rawEntry struct {
	key    string
	v      any
	shared bool // key (and maybe v) are the previous property's
}

// canonicalType returns the package constant equal to t, or t.
func canonicalType(t crm.PropertyType) crm.PropertyType {
	for _, c := range crm.PropertyTypes {
		if c == t {
			return c
		}
	}
	return t
}
