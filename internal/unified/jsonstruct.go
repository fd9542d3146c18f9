package unified

import (
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/jsonscan"
)

// A record's properties arrive as a map or, from an adapter that hands
// its provider's JSON through (crm.Record.PropertiesJSON), as a JSON
// object. The JSON is read in one pass straight into the builder's
// blocks: no map[string]any and no boxed values in between, which for a
// page of 100 records were most of the adapter's decoding cost.

// properties builds r's properties Struct from whichever form it has.
func (b *builder) properties(r crm.Record) (*structpb.Struct, error) {
	if r.PropertiesJSON == "" {
		return b.toStruct(orEmpty(r.Properties)), nil
	}
	if s, ok := b.jsonStruct(r.PropertiesJSON); ok {
		return s, nil
	}
	// Not JSON the one-pass reader takes (very deep nesting, or not JSON
	// at all): encoding/json decides, errors included.
	m, err := r.PropertyMap()
	if err != nil {
		return nil, fmt.Errorf("provider adapter broke the record contract: %w", err)
	}
	return b.toStruct(m), nil
}

// jsonStruct builds a Struct from a JSON object, as toStruct builds one
// from what encoding/json decodes the object into (FuzzJSONStruct
// compares both); strings without escapes are slices of js. It reports
// !ok on anything else: invalid JSON, a number out of float64's range, a
// value that is not an object, nesting deeper than jsonscan.MaxDepth.
func (b *builder) jsonStruct(js string) (*structpb.Struct, bool) {
	if b.members == nil { // enough for most records without growing
		b.members = make([]jsonscan.Member[*structpb.Value], 0, 32)
		b.stack = make([]*structpb.Value, 0, 16)
	}
	d := jsonReader{Scanner: jsonscan.Scanner{S: js}, b: b}
	s, ok := d.object(0)
	if !ok || !d.End() {
		return nil, false
	}
	return s, true
}

// jsonReader reads JSON into a builder's messages, using its stacks.
type jsonReader struct {
	jsonscan.Scanner
	b *builder
}

func (d *jsonReader) object(depth int) (*structpb.Struct, bool) {
	if depth > jsonscan.MaxDepth || d.Peek() != '{' {
		return nil, false
	}
	fields, ok := jsonscan.ObjectMap(&d.Scanner, &d.b.members, func() (*structpb.Value, bool) { return d.value(depth) })
	if !ok {
		return nil, false
	}
	return d.b.structOf(fields), true
}

func (d *jsonReader) value(depth int) (*structpb.Value, bool) {
	b := d.b
	switch c := d.Peek(); c {
	case '{':
		s, ok := d.object(depth + 1)
		if !ok {
			return nil, false
		}
		return b.structValue(s), true
	case '[':
		if depth >= jsonscan.MaxDepth {
			return nil, false
		}
		mark := len(b.stack)
		ok := d.Array(func() bool {
			v, ok := d.value(depth + 1)
			b.stack = append(b.stack, v)
			return ok
		})
		elems := b.stack[mark:]
		var list *structpb.Value
		if ok {
			vals := b.elemSlice(len(elems))
			copy(vals, elems)
			list = b.listValue(vals)
		}
		clear(elems) // the stack is left as it was found, as ObjectMap leaves members
		b.stack = b.stack[:mark]
		return list, ok
	case '"':
		s, ok := d.Str()
		if !ok {
			return nil, false
		}
		return b.stringValue(s), true
	case 't', 'f':
		if !d.Literal("true") && !d.Literal("false") {
			return nil, false
		}
		return b.boolValue(c == 't'), true
	case 'n':
		if !d.Literal("null") {
			return nil, false
		}
		return b.nullValue(), true
	default:
		f, ok := d.Number()
		if !ok {
			return nil, false
		}
		return b.numberValue(f), true
	}
}

// jsonObject counts the messages a JSON object becomes (for sizeFor; on
// invalid JSON the counts are partial, which only sizes blocks less well).
func (c *counts) jsonObject(d *jsonscan.Scanner, depth int) bool {
	if depth > jsonscan.MaxDepth {
		return false
	}
	c.structs++
	return d.Object(func(int, int, jsonscan.Kind) bool { return c.jsonValue(d, depth) })
}

func (c *counts) jsonValue(d *jsonscan.Scanner, depth int) bool {
	c.values++
	switch ch := d.Peek(); ch {
	case '{':
		c.inner++
		return c.jsonObject(d, depth+1)
	case '[':
		if depth >= jsonscan.MaxDepth {
			return false
		}
		c.lists++
		n := 0
		ok := d.Array(func() bool {
			n++
			return c.jsonValue(d, depth+1)
		})
		if n <= maxSharedElems {
			c.elems += n
		}
		return ok
	case '"':
		c.strs++
		_, ok := d.RawString()
		return ok
	case 't', 'f':
		c.bools++
		return d.Literal("true") || d.Literal("false")
	case 'n':
		c.nulls++
		return d.Literal("null")
	default:
		c.nums++
		return d.ScanNumber()
	}
}
