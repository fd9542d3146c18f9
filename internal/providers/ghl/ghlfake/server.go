package ghlfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"
)

// Defaults for Options, matching HighLevel's documented limits.
const (
	DefaultBurstLimit  = 100
	DefaultBurstWindow = 10 * time.Second
	DefaultDailyLimit  = 200000
)

// maxBodyBytes bounds how much of a request body the fake reads.
const maxBodyBytes = 4 << 20

// Options configures a Server. The zero value gives HighLevel's limits and
// the wall clock.
type Options struct {
	// BurstLimit is the number of requests a location may make per
	// BurstWindow: 0 means 100, negative disables the burst limit.
	BurstLimit int
	// BurstWindow is the sliding window of the burst limit: 0 means 10s.
	BurstWindow time.Duration
	// DailyLimit is the number of requests a location may make per UTC day:
	// 0 means 200000, negative disables the daily limit.
	DailyLimit int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is an in-memory fake of HighLevel's API v2 (objects, records,
// custom fields, associations and relations). It implements http.Handler;
// serve it with httptest.NewServer(fake) or any http.Server. It is safe for
// concurrent use.
type Server struct {
	now     func() time.Time
	limiter *limiter
	ids     *idGen

	mu        sync.Mutex
	locations map[string]*location
	tokens    map[string]string // token -> locationId
	counts    map[string]int
	// rateLimited counts the 429s the rate limiter answered.
	rateLimited int
	total       int

	faults faultState // fault injection (faults.go); zero value: none

	oauth *oauthState // OAuth apps, codes and tokens (oauth.go); nil until used
}

// New returns a Server with no locations and no tokens.
func New(opts Options) *Server {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Server{
		now:       now,
		limiter:   newLimiter(opts),
		ids:       newIDGen(),
		locations: make(map[string]*location),
		tokens:    make(map[string]string),
		counts:    make(map[string]int),
	}
}

// AddLocation creates a location (sub-account) with its standard objects
// (contact, opportunity, business). Adding an existing location does nothing.
func (s *Server) AddLocation(locationID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLocation(locationID)
}

// AddToken registers a bearer token (a Private Integration Token or a
// location access token) valid for exactly one location, creating the
// location if needed. Re-adding a token rebinds it.
func (s *Server) AddToken(token, locationID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLocation(locationID)
	s.tokens[token] = locationID
}

// RevokeToken makes a token invalid; later requests with it answer 401.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// RateLimitedCount is how many requests the fake refused with 429 because
// a location's burst or daily limit was exceeded (injected faults aside).
func (s *Server) RateLimitedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

// RequestCount returns how many requests matched route, written as
// "METHOD /pattern" exactly as HighLevel's spec names the path, e.g.
// "GET /objects/{key}" or "POST /objects/{schemaKey}/records/search".
// Every request that matched a route counts, whatever its answer (401, 429...).
func (s *Server) RequestCount(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// TotalRequests returns how many requests the server received, including
// ones that matched no route.
func (s *Server) TotalRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// ResetCounts sets every request count to zero. Rate-limit budgets are not
// affected.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = make(map[string]int)
	s.total = 0
}

// RecordCount returns how many records of objectKey are stored in the
// location (0 if either is unknown).
func (s *Server) RecordCount(locationID, objectKey string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.locations[locationID]
	if loc == nil {
		return 0
	}
	obj := loc.object(objectKey)
	if obj == nil {
		return 0
	}
	return len(obj.records)
}

func (s *Server) ensureLocation(id string) *location {
	if loc := s.locations[id]; loc != nil {
		return loc
	}
	loc := newLocation(id)
	s.locations[id] = loc
	s.seedStandardObjects(loc)
	return loc
}

// ---------------------------------------------------------------------------
// Routing

type handlerFunc func(s *Server, c *reqCtx) reply

type route struct {
	method  string
	pattern string
	segs    []string
	score   int
	handler handlerFunc
}

// name is the route's key for RequestCount.
func (rt *route) name() string { return rt.method + " " + rt.pattern }

var routes = buildRoutes([]struct {
	method, pattern string
	h               handlerFunc
}{
	{http.MethodGet, "/objects/", (*Server).listObjects},
	{http.MethodPost, "/objects/", (*Server).createObject},
	{http.MethodGet, "/objects/{key}", (*Server).getObject},
	{http.MethodPut, "/objects/{key}", (*Server).updateObject},
	{http.MethodPost, "/objects/{schemaKey}/records", (*Server).createRecord},
	{http.MethodPost, "/objects/{schemaKey}/records/search", (*Server).searchRecords},
	{http.MethodGet, "/objects/{schemaKey}/records/{id}", (*Server).getRecord},
	{http.MethodPut, "/objects/{schemaKey}/records/{id}", (*Server).updateRecord},
	{http.MethodDelete, "/objects/{schemaKey}/records/{id}", (*Server).deleteRecord},

	{http.MethodGet, "/custom-fields/object-key/{objectKey}", (*Server).listFields},
	{http.MethodPost, "/custom-fields/", (*Server).createField},
	{http.MethodGet, "/custom-fields/{id}", (*Server).getField},
	{http.MethodPut, "/custom-fields/{id}", (*Server).updateField},
	{http.MethodDelete, "/custom-fields/{id}", (*Server).deleteField},
	{http.MethodPost, "/custom-fields/folder", (*Server).createFolder},
	{http.MethodPut, "/custom-fields/folder/{id}", (*Server).updateFolder},
	{http.MethodDelete, "/custom-fields/folder/{id}", (*Server).deleteFolder},

	{http.MethodGet, "/associations/", (*Server).listAssociations},
	{http.MethodPost, "/associations/", (*Server).createAssociation},
	{http.MethodGet, "/associations/key/{key_name}", (*Server).getAssociationByKey},
	{http.MethodGet, "/associations/objectKey/{objectKey}", (*Server).getAssociationsByObjectKey},
	{http.MethodGet, "/associations/{associationId}", (*Server).getAssociation},
	{http.MethodPut, "/associations/{associationId}", (*Server).updateAssociation},
	{http.MethodDelete, "/associations/{associationId}", (*Server).deleteAssociation},
	{http.MethodPost, "/associations/relations", (*Server).createRelation},
	{http.MethodGet, "/associations/relations/{recordId}", (*Server).listRelations},
	{http.MethodDelete, "/associations/relations/{relationId}", (*Server).deleteRelation},

	{http.MethodPost, "/contacts/", (*Server).createContact},
	{http.MethodGet, "/contacts/", (*Server).listContacts},
	{http.MethodPost, "/contacts/upsert", (*Server).upsertContact},
	{http.MethodPost, "/contacts/search", (*Server).searchContacts},
	{http.MethodGet, "/contacts/{contactId}", (*Server).getContact},
	{http.MethodPut, "/contacts/{contactId}", (*Server).updateContact},
	{http.MethodDelete, "/contacts/{contactId}", (*Server).deleteContact},
	{http.MethodGet, "/contacts/{contactId}/notes", (*Server).listNotes},
	{http.MethodPost, "/contacts/{contactId}/notes", (*Server).createNote},
	{http.MethodGet, "/contacts/{contactId}/notes/{id}", (*Server).getNote},
	{http.MethodPut, "/contacts/{contactId}/notes/{id}", (*Server).updateNote},
	{http.MethodDelete, "/contacts/{contactId}/notes/{id}", (*Server).deleteNote},

	{http.MethodPost, "/opportunities/", (*Server).createOpportunity},
	{http.MethodGet, "/opportunities/search", (*Server).searchOpportunities},
	{http.MethodGet, "/opportunities/pipelines", (*Server).listPipelines},
	{http.MethodPost, "/opportunities/upsert", (*Server).upsertOpportunity},
	{http.MethodGet, "/opportunities/{id}", (*Server).getOpportunity},
	{http.MethodPut, "/opportunities/{id}", (*Server).updateOpportunity},
	{http.MethodDelete, "/opportunities/{id}", (*Server).deleteOpportunity},
	{http.MethodPut, "/opportunities/{id}/status", (*Server).updateOpportunityStatus},

	{http.MethodPost, "/businesses/", (*Server).createBusiness},
	{http.MethodGet, "/businesses/", (*Server).listBusinesses},
	{http.MethodGet, "/businesses/{businessId}", (*Server).getBusiness},
	{http.MethodPut, "/businesses/{businessId}", (*Server).updateBusiness},
	{http.MethodDelete, "/businesses/{businessId}", (*Server).deleteBusiness},

	{http.MethodGet, "/users/", (*Server).listUsers},
	{http.MethodGet, "/users/{userId}", (*Server).getUser},
})

func buildRoutes(defs []struct {
	method, pattern string
	h               handlerFunc
}) []*route {
	out := make([]*route, 0, len(defs))
	for _, d := range defs {
		segs := splitPath(d.pattern)
		score := 0
		for i, seg := range segs {
			if !isParam(seg) {
				score |= 1 << (len(segs) - i)
			}
		}
		out = append(out, &route{method: d.method, pattern: d.pattern, segs: segs, score: score, handler: d.h})
	}
	return out
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// splitPath splits a path into segments, ignoring a trailing slash: HighLevel's
// NestJS/Express routing answers "/objects" and "/objects/" alike.
func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match finds the most specific route for the method and path: literal
// segments win over parameters ("/associations/relations" over
// "/associations/{associationId}"). Path parameters are unescaped.
func match(method, escapedPath string) (rt *route, params map[string]string, ok bool) {
	raw := splitPath(escapedPath)
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, nil, false
		}
		segs[i] = u
	}
	var best *route
	for _, cand := range routes {
		if cand.method != method || len(cand.segs) != len(segs) {
			continue
		}
		okSegs := true
		for i, seg := range cand.segs {
			if !isParam(seg) && seg != segs[i] {
				okSegs = false
				break
			}
		}
		if okSegs && (best == nil || cand.score > best.score) {
			best = cand
		}
	}
	if best == nil {
		return nil, nil, false
	}
	params = make(map[string]string)
	for i, seg := range best.segs {
		if isParam(seg) {
			params[seg[1:len(seg)-1]] = segs[i]
		}
	}
	return best, params, true
}

// ---------------------------------------------------------------------------
// Request handling

// reqCtx carries one request through a handler. Handlers run with s.mu held.
type reqCtx struct {
	r      *http.Request
	params map[string]string
	query  url.Values
	body   []byte
	loc    *location // the token's location
	token  string
}

// reply is a handler's answer: a status and a JSON body.
type reply struct {
	status int
	body   any
}

func replyOK(body any) reply      { return reply{http.StatusOK, body} }
func replyCreated(body any) reply { return reply{http.StatusCreated, body} }

// Error bodies, as in common-schemas.json and the README's facts.

// messageBody is {statusCode, message}: BadRequestDTO, and HighLevel's 403 and 429.
type messageBody struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

// errorBody is {statusCode, message, error}: UnauthorizedDTO and NestJS's
// HttpException body (404).
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Error      string `json:"error,omitempty"`
}

// unprocessableBody is UnprocessableDTO.
type unprocessableBody struct {
	StatusCode int      `json:"statusCode"`
	Message    []string `json:"message"`
	Error      string   `json:"error"`
}

// notFoundRouteBody is NestJS's answer to an unknown route.
type notFoundRouteBody struct {
	Message    string `json:"message"`
	Error      string `json:"error"`
	StatusCode int    `json:"statusCode"`
}

func badRequest(format string, args ...any) reply {
	return reply{http.StatusBadRequest, messageBody{http.StatusBadRequest, fmt.Sprintf(format, args...)}}
}

func unprocessable(msgs ...string) reply {
	return reply{http.StatusUnprocessableEntity, unprocessableBody{http.StatusUnprocessableEntity, msgs, "Unprocessable Entity"}}
}

func forbiddenLocation() reply {
	return reply{http.StatusForbidden, messageBody{http.StatusForbidden, "The token does not have access to this location."}}
}

const invalidTokenMessage = "Invalid token: access token is invalid"

// acceptedVersions are the published API versions; HighLevel answers an
// established path under any of them (see doc.go). v3 shares v2's schemas
// for these apps.
var acceptedVersions = map[string]bool{
	"2021-04-15": true,
	"2021-07-28": true,
	"2023-02-21": true,
	"v3":         true,
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/oauth/") {
		s.serveOAuth(w, r) // oauth.go
		return
	}
	rt, params, matched := match(r.Method, r.URL.EscapedPath())

	s.mu.Lock()
	s.total++
	if matched {
		s.counts[rt.name()]++
	}
	s.mu.Unlock()

	if !matched {
		s.limiter.writeStaticHeaders(w.Header())
		writeJSON(w, http.StatusNotFound, notFoundRouteBody{
			Message:    fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path),
			Error:      "Not Found",
			StatusCode: http.StatusNotFound,
		})
		return
	}

	// Version header: missing or unpublished answers 401, as HighLevel does.
	version := r.Header.Get("Version")
	if version == "" {
		s.limiter.writeStaticHeaders(w.Header())
		writeJSON(w, http.StatusUnauthorized, errorBody{StatusCode: http.StatusUnauthorized, Message: "version header was not found."})
		return
	}
	if !acceptedVersions[version] {
		s.limiter.writeStaticHeaders(w.Header())
		writeJSON(w, http.StatusUnauthorized, errorBody{StatusCode: http.StatusUnauthorized, Message: "version header is invalid"})
		return
	}

	// Bearer token.
	token, hasBearer := bearerToken(r.Header.Get("Authorization"))
	s.mu.Lock()
	locID, known := s.tokens[token]
	known = known && !s.oauthExpired(token) // expired OAuth access tokens (oauth.go)
	s.mu.Unlock()
	if !hasBearer || !known {
		s.limiter.writeStaticHeaders(w.Header())
		writeJSON(w, http.StatusUnauthorized, errorBody{http.StatusUnauthorized, invalidTokenMessage, "Unauthorized"})
		return
	}

	// Rate limits, per location.
	if allowed := s.limiter.allow(locID, s.now(), w.Header()); !allowed {
		s.mu.Lock()
		s.rateLimited++
		s.mu.Unlock()
		writeJSON(w, http.StatusTooManyRequests, messageBody{http.StatusTooManyRequests, "Too Many Requests"})
		return
	}
	fault, answered := s.faultBefore(w, r) // fault injection (faults.go)
	if answered {
		return
	}

	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			rep := badRequest("Could not read request body")
			writeJSON(w, rep.status, rep.body)
			return
		}
		if len(b) > maxBodyBytes {
			writeJSON(w, http.StatusRequestEntityTooLarge, messageBody{http.StatusRequestEntityTooLarge, "request entity too large"})
			return
		}
		body = b
	}

	c := &reqCtx{r: r, params: params, query: r.URL.Query(), body: body, token: token}
	s.mu.Lock()
	c.loc = s.locations[locID]
	rep := rt.handler(s, c)
	// Marshal under the lock: reply bodies may share maps with the state.
	out, err := json.Marshal(rep.body)
	s.mu.Unlock()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, messageBody{http.StatusInternalServerError, "Internal server error"})
		return
	}
	if s.faultAfter(w, r, fault) {
		return
	}
	writeRaw(w, rep.status, out)
}

func bearerToken(h string) (string, bool) {
	const prefix = "bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	t := strings.TrimSpace(h[len(prefix):])
	return t, t != ""
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	out, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		out = []byte(`{"statusCode":500,"message":"Internal server error"}`)
	}
	writeRaw(w, status, out)
}

func writeRaw(w http.ResponseWriter, status int, out []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(out)
	_, _ = w.Write([]byte("\n"))
}

// ---------------------------------------------------------------------------
// Helpers shared by handlers

// decodeBody parses the JSON body into v. A malformed body answers 400 as
// Express's body parser does; an empty body decodes as {}.
func (c *reqCtx) decodeBody(v any) (reply, bool) {
	b := bytes.TrimSpace(c.body)
	if len(b) == 0 {
		b = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return unprocessable(typeMessage(typeErr)), false
		case errors.As(err, &typeErr):
			return badRequest("Invalid request body: a JSON object is expected"), false
		case errors.As(err, &syntaxErr):
			return badRequest("Unexpected token in JSON at position %d", syntaxErr.Offset), false
		default:
			return badRequest("Unexpected end of JSON input"), false
		}
	}
	if dec.More() {
		return badRequest("Unexpected data after JSON body"), false
	}
	return reply{}, true
}

// typeMessage words a JSON type mismatch as class-validator does.
func typeMessage(e *json.UnmarshalTypeError) string {
	switch e.Type.Kind() {
	case reflect.String:
		return e.Field + " must be a string"
	case reflect.Bool:
		return e.Field + " must be a boolean value"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return e.Field + " must be a number conforming to the specified constraints"
	case reflect.Slice, reflect.Array:
		return e.Field + " must be an array"
	case reflect.Pointer:
		return typeMessage(&json.UnmarshalTypeError{Field: e.Field, Type: e.Type.Elem()})
	default:
		return e.Field + " must be an object"
	}
}

// checkLocation validates a locationId taken from the query or the body: it
// must be present (422) and be the token's location (403).
func (c *reqCtx) checkLocation(locationID string) (reply, bool) {
	if strings.TrimSpace(locationID) == "" {
		return unprocessable("locationId should not be empty"), false
	}
	if locationID != c.loc.id {
		return forbiddenLocation(), false
	}
	return reply{}, true
}

// checkQueryLocation validates the locationId query parameter.
func (c *reqCtx) checkQueryLocation() (reply, bool) {
	return c.checkLocation(c.query.Get("locationId"))
}

// stamp formats a time as HighLevel does: ISO 8601, UTC, milliseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
