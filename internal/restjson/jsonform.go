package restjson

import (
	"strconv"
	"unsafe"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/jsonscan"
	"github.com/crmgate/crmgate/internal/structwire"
)

// A REST call's page carries each record's properties in JSON form
// (structwire's JSON form: the provider's JSON object as it came, in an
// unknown field, written because the REST facade asked for it with
// structwire.WithJSONFields). The encoder writes what protojson writes
// for the Struct the JSON stands for, in one pass over the JSON: keys in
// byte order, the last of repeated keys, numbers and strings as protojson
// formats them. Turning the JSON into wire form and the wire form back
// into JSON cost twice as much. JSON the provider's adapter found
// canonical (internal/jsonscan; structwire marks its field) is what that
// pass would write, so it is copied (FuzzJSONProperties checks both
// agree).
//
// Input the pass does not take exactly as structwire.Writer would (invalid
// JSON, a number out of float64's range, nesting deeper than
// jsonscan.MaxDepth) fails it, and the fallback hands protojson a copy
// merged by structwire.MergeUnknown, which decides those cases.

// jsonProperties writes the properties a Record carries in JSON form in
// its unknown fields u, failing the encoder on JSON it does not take. It
// returns false, having written nothing, if u is not exactly one
// properties field in JSON form.
func (e *encoder) jsonProperties(r *crmv1.Record, u []byte) bool {
	js, canonical, ok := structwire.ParseJSONField(u, propertiesFieldNumber)
	if !ok {
		return false
	}
	if r.Properties != nil { // protobuf would merge the two: protojson decides
		e.fail()
		return true
	}
	if canonical {
		// Canonical JSON is what this encoder would write for it.
		e.b = append(e.b, js...)
		return true
	}
	// A read-only view for the length of this call, as in
	// splicedProperties.
	d := jsonscan.Scanner{S: unsafe.String(unsafe.SliceData(js), len(js))} //nolint:gosec // read-only view
	e.jsonObject(&d, 0)
	if e.ok && !d.End() {
		e.fail()
	}
	return true
}

// propertiesFieldNumber is crmgate.crm.v1.Record.properties.
const propertiesFieldNumber = 3

// jsonObject writes the object at d. Depth limits are structwire.Writer's.
func (e *encoder) jsonObject(d *jsonscan.Scanner, depth int) {
	if depth > jsonscan.MaxDepth || d.Peek() != '{' {
		e.fail()
		return
	}
	mark := len(e.members)
	e.b = append(e.b, '{')
	body := len(e.b)
	ok := d.Object(func(ks, ke int, kind jsonscan.Kind) bool {
		key, ok := d.Text(ks, ke, kind)
		if !ok {
			return false
		}
		if len(e.members) > mark {
			e.b = append(e.b, ',')
		}
		start := len(e.b)
		if jsonscan.Verbatim(kind, d.S[ks+1:ke-1]) {
			// Nothing to unescape, nothing protojson escapes (RawString
			// refuses control characters): the token is the output.
			e.b = append(e.b, d.S[ks:ke]...)
		} else {
			e.string(key)
		}
		e.b = append(e.b, ':')
		e.jsonValue(d, depth)
		e.members = append(e.members, structwire.Span{Key: key, Start: start, End: len(e.b)})
		return e.ok
	})
	if !ok {
		e.fail()
	}
	if e.ok {
		e.b, e.tmp = structwire.InKeyOrder(e.b, body, e.members[mark:], ',', e.tmp)
		e.b = append(e.b, '}')
	}
	clear(e.members[mark:])
	e.members = e.members[:mark]
}

// jsonValue writes the value at d.
func (e *encoder) jsonValue(d *jsonscan.Scanner, depth int) {
	switch c := d.Peek(); c {
	case '{':
		e.jsonObject(d, depth+1)
	case '[':
		if depth >= jsonscan.MaxDepth {
			e.fail()
			return
		}
		e.b = append(e.b, '[')
		first := true
		ok := d.Array(func() bool {
			if !first {
				e.b = append(e.b, ',')
			}
			first = false
			e.jsonValue(d, depth+1)
			return e.ok
		})
		if !ok {
			e.fail()
			return
		}
		e.b = append(e.b, ']')
	case '"':
		start := d.I
		kind, ok := d.RawString()
		switch {
		case !ok:
			e.fail()
		case jsonscan.Verbatim(kind, d.S[start+1:d.I-1]):
			// protojson writes the same bytes.
			e.b = append(e.b, d.S[start:d.I]...)
		default:
			s, ok := d.Text(start, d.I, kind)
			if !ok {
				e.fail()
				return
			}
			e.string(s)
		}
	case 't':
		e.literal(d, "true")
	case 'f':
		e.literal(d, "false")
	case 'n':
		e.literal(d, "null")
	default:
		start := d.I
		if !d.ScanNumber() {
			e.fail()
			return
		}
		e.number(d.S[start:d.I])
	}
}

// literal writes lit if it comes next at d.
func (e *encoder) literal(d *jsonscan.Scanner, lit string) {
	if !d.Literal(lit) {
		e.fail()
		return
	}
	e.b = append(e.b, lit...)
}

// number writes the JSON number n (JSON's grammar checked) as protojson
// writes the float64 it decodes to; an exact integer is written as it is.
func (e *encoder) number(n string) {
	if jsonscan.ExactInteger(n) {
		e.b = append(e.b, n...)
		return
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		e.fail() // out of float64's range
		return
	}
	e.float64(f)
}
