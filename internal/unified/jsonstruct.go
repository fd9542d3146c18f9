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
		b.members = make([]jsonMember, 0, 32)
		b.stack = make([]*structpb.Value, 0, 16)
	}
	d := jsonReader{Scanner: jsonscan.Scanner{S: js}, b: b}
	s, ok := d.object(0)
	// The stacks are empty again unless reading failed half-way.
	clear(b.members)
	clear(b.stack)
	b.members, b.stack = b.members[:0], b.stack[:0]
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

type jsonMember struct {
	key   string
	value *structpb.Value
}

func (d *jsonReader) object(depth int) (*structpb.Struct, bool) {
	if depth > jsonscan.MaxDepth || d.Peek() != '{' {
		return nil, false
	}
	b := d.b
	mark := len(b.members)
	ok := d.Object(func(start, end int, kind jsonscan.Kind) bool {
		k, ok := d.Text(start, end, kind)
		if !ok {
			return false
		}
		v, ok := d.value(depth)
		b.members = append(b.members, jsonMember{k, v})
		return ok
	})
	if !ok {
		return nil, false
	}
	fields := make(map[string]*structpb.Value, len(b.members)-mark)
	for _, m := range b.members[mark:] {
		fields[m.key] = m.value // in order: a repeated key keeps its last value
	}
	clear(b.members[mark:])
	b.members = b.members[:mark]
	s := b.structs.take()
	s.Fields = fields
	return s, true
}

func (d *jsonReader) value(depth int) (*structpb.Value, bool) {
	b := d.b
	out := b.values.take()
	switch c := d.Peek(); c {
	case '{':
		s, ok := d.object(depth + 1)
		if !ok {
			return nil, false
		}
		k := b.inner.take()
		k.StructValue = s
		out.Kind = k
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
		if !ok {
			return nil, false
		}
		vals := b.elemSlice(len(b.stack) - mark)
		copy(vals, b.stack[mark:])
		clear(b.stack[mark:])
		b.stack = b.stack[:mark]
		lv := b.lvs.take()
		lv.Values = vals
		k := b.lists.take()
		k.ListValue = lv
		out.Kind = k
	case '"':
		s, ok := d.Str()
		if !ok {
			return nil, false
		}
		k := b.strs.take()
		k.StringValue = s
		out.Kind = k
	case 't', 'f':
		if !d.Literal("true") && !d.Literal("false") {
			return nil, false
		}
		k := b.bools.take()
		k.BoolValue = c == 't'
		out.Kind = k
	case 'n':
		if !d.Literal("null") {
			return nil, false
		}
		out.Kind = b.nulls.take()
	default:
		f, ok := d.Number()
		if !ok {
			return nil, false
		}
		k := b.nums.take()
		k.NumberValue = f
		out.Kind = k
	}
	return out, true
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
