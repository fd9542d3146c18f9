// Package restrules derives the REST facade's routing rules from the
// protos' google.api.http annotations, once at start-up: which query
// parameters a route accepts (the request fields bound to neither the path
// nor the body, as grpc-gateway reads them) and which methods a path
// allows (the Allow header of a 405).
package restrules

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Route is one REST route of an RPC.
type Route struct {
	// Method is the HTTP method, e.g. "GET".
	Method string
	// Template is the path template as written in the proto, e.g.
	// "/v0/core/connections/{id}".
	Template string
	// RPC is the full method name, e.g. "crmgate.core.v1.CoreService.GetConnection".
	RPC string
	// Body is the rule's body: "" (none), "*" (the whole request) or a
	// field name.
	Body string
	// Query lists the query parameters the route accepts, by proto name,
	// sorted: the request's fields (nested singular messages flattened
	// with dots) bound to neither the path nor the body. grpc-gateway
	// also reads a field by its JSON (lowerCamel) name; so does Unknown.
	Query []string

	segments []string        // template split at "/" ("{x}" for a variable), without the verb
	verb     string          // custom verb of "/v1/things/{id}:run", "" if none
	query    map[string]bool // proto and JSON names
	maps     map[string]bool // names of map fields (name[key]=value)
}

// Routes lists the REST routes of every service in files, in declaration
// order. RPCs without a google.api.http option (streams) have none. A
// template this package cannot read (a variable spanning segments,
// "{x=**}", "{x=things/*}") is an error, so a proto change that
// needs more than it knows fails at start-up rather than misroutes.
func Routes(files ...protoreflect.FileDescriptor) ([]Route, error) {
	var out []Route
	for _, fd := range files {
		for i := 0; i < fd.Services().Len(); i++ {
			svc := fd.Services().Get(i)
			for j := 0; j < svc.Methods().Len(); j++ {
				m := svc.Methods().Get(j)
				rule, ok := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
				if !ok || rule == nil || rule.GetPattern() == nil {
					continue
				}
				for _, rl := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
					r, err := newRoute(m, rl)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", m.FullName(), err)
					}
					out = append(out, r)
				}
			}
		}
	}
	return out, nil
}

var variable = regexp.MustCompile(`^\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\}$`)

func newRoute(m protoreflect.MethodDescriptor, rule *annotations.HttpRule) (Route, error) {
	r := Route{RPC: string(m.FullName()), Body: rule.GetBody()}
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		r.Method, r.Template = "GET", p.Get
	case *annotations.HttpRule_Post:
		r.Method, r.Template = "POST", p.Post
	case *annotations.HttpRule_Put:
		r.Method, r.Template = "PUT", p.Put
	case *annotations.HttpRule_Patch:
		r.Method, r.Template = "PATCH", p.Patch
	case *annotations.HttpRule_Delete:
		r.Method, r.Template = "DELETE", p.Delete
	default:
		return Route{}, fmt.Errorf("unsupported http pattern %T", p)
	}
	if !strings.HasPrefix(r.Template, "/") {
		return Route{}, fmt.Errorf("unsupported path template %q", r.Template)
	}
	path := r.Template[1:]
	if i := strings.LastIndexByte(path, ':'); i >= 0 {
		path, r.verb = path[:i], path[i+1:]
		if r.verb == "" || strings.ContainsAny(r.verb, "/{}*=") {
			return Route{}, fmt.Errorf("unsupported path template %q", r.Template)
		}
	}
	bound := map[string]bool{}
	r.segments = strings.Split(path, "/")
	for _, s := range r.segments {
		if strings.ContainsAny(s, "{}*=") {
			v := variable.FindStringSubmatch(s)
			if v == nil {
				return Route{}, fmt.Errorf("unsupported path segment %q in %q", s, r.Template)
			}
			bound[v[1]] = true
		}
	}
	in := m.Input()
	if r.Body != "" && r.Body != "*" {
		if in.Fields().ByName(protoreflect.Name(r.Body)) == nil {
			return Route{}, fmt.Errorf("body field %q is not a field of %s", r.Body, in.FullName())
		}
		bound[r.Body] = true
	}
	r.query, r.maps = map[string]bool{}, map[string]bool{}
	if r.Body != "*" { // with body "*" grpc-gateway reads no query parameter
		r.Query = queryFields(in, "", "", bound, r.query, r.maps, 0, nil)
	}
	sort.Strings(r.Query)
	return r, nil
}

// leafMessages are read from one query value, as grpc-gateway does.
var leafMessages = map[protoreflect.FullName]bool{
	"google.protobuf.Timestamp": true, "google.protobuf.Duration": true, "google.protobuf.FieldMask": true,
	"google.protobuf.DoubleValue": true, "google.protobuf.FloatValue": true, "google.protobuf.Int64Value": true,
	"google.protobuf.UInt64Value": true, "google.protobuf.Int32Value": true, "google.protobuf.UInt32Value": true,
	"google.protobuf.BoolValue": true, "google.protobuf.StringValue": true, "google.protobuf.BytesValue": true,
	"google.protobuf.Struct": true, "google.protobuf.Value": true, "google.protobuf.ListValue": true,
	"google.protobuf.NullValue": true,
}

// maxDepth bounds the flattening of nested (possibly recursive) messages.
const maxDepth = 5

// queryFields appends md's query parameters (proto names under prefix) to
// out and records them, and their JSON names under jsonPrefix, in names
// (maps: map fields).
func queryFields(md protoreflect.MessageDescriptor, prefix, jsonPrefix string, bound, names, maps map[string]bool, depth int, out []string) []string {
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		name, jsonName := prefix+string(f.Name()), jsonPrefix+f.JSONName()
		if bound[name] {
			continue
		}
		leaf := f.Message() == nil || leafMessages[f.Message().FullName()]
		switch {
		case f.IsMap():
			maps[name], maps[jsonName] = true, true
		case !leaf && !f.IsList():
			if depth < maxDepth {
				out = queryFields(f.Message(), name+".", jsonName+".", bound, names, maps, depth+1, out)
			}
			continue
		case !leaf:
			continue // grpc-gateway cannot read repeated messages from a query
		}
		names[name], names[jsonName] = true, true
		out = append(out, name)
	}
	return out
}

// Unknown returns the names in q the route does not accept, sorted.
func (r *Route) Unknown(q url.Values) []string {
	var bad []string
	for k := range q {
		if r.query[k] {
			continue
		}
		// name[key]=value sets a map entry.
		if i := strings.IndexByte(k, '['); i > 0 && strings.HasSuffix(k, "]") && r.maps[k[:i]] {
			continue
		}
		bad = append(bad, k)
	}
	sort.Strings(bad)
	return bad
}

// matches tells whether an escaped path fits the route's template: the same
// number of segments, literals equal, variables non-empty.
func (r *Route) matches(segs []string) bool {
	if len(segs) != len(r.segments) {
		return false
	}
	if r.verb != "" {
		last := segs[len(segs)-1]
		if !strings.HasSuffix(last, ":"+r.verb) {
			return false
		}
		segs = append(segs[:len(segs)-1:len(segs)-1], strings.TrimSuffix(last, ":"+r.verb))
	}
	for i, s := range r.segments {
		if strings.HasPrefix(s, "{") {
			if segs[i] == "" {
				return false
			}
		} else if s != segs[i] {
			return false
		}
	}
	return true
}

// GatewayPattern is the route's template as grpc-gateway's
// runtime.Pattern.String writes it ("{id}" becomes "{id=*}").
func (r *Route) GatewayPattern() string {
	segs := make([]string, len(r.segments))
	for i, s := range r.segments {
		if strings.HasPrefix(s, "{") {
			s = s[:len(s)-1] + "=*}"
		}
		segs[i] = s
	}
	p := "/" + strings.Join(segs, "/")
	if r.verb != "" {
		p += ":" + r.verb
	}
	return p
}

// Table finds routes by grpc-gateway pattern and by path.
type Table struct {
	routes    []Route
	byPattern map[string]*Route // method + " " + GatewayPattern
}

// NewTable indexes routes.
func NewTable(routes []Route) *Table {
	t := &Table{routes: routes, byPattern: make(map[string]*Route, len(routes))}
	for i := range t.routes {
		r := &t.routes[i]
		t.byPattern[r.Method+" "+r.GatewayPattern()] = r
	}
	return t
}

// Routes returns the table's routes.
func (t *Table) Routes() []Route { return t.routes }

// Lookup finds the route grpc-gateway matched, by method and the
// runtime.Pattern's String.
func (t *Table) Lookup(method, gatewayPattern string) (*Route, bool) {
	r, ok := t.byPattern[method+" "+gatewayPattern]
	return r, ok
}

// Allow lists, sorted, the methods of the routes whose template fits the
// escaped path (r.URL.EscapedPath()); none when no route does.
func (t *Table) Allow(escapedPath string) []string {
	if !strings.HasPrefix(escapedPath, "/") {
		return nil
	}
	segs := strings.Split(escapedPath[1:], "/")
	var methods []string
	for i := range t.routes {
		if r := &t.routes[i]; r.matches(segs) && !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
	}
	sort.Strings(methods)
	return methods
}
