package ghlfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Record limits from IRecordSchema: "Limited to 1 for now" / "Limited to 10".
const (
	maxOwners    = 1
	maxFollowers = 10
	maxPageLimit = 100
)

// ---------------------------------------------------------------------------
// Views (IRecordSchema, RecordResponseDTO)

// recordView is the record of the single-record endpoints: IRecordSchema's
// fields plus those of RecordResponseDTO except searchAfter.
type recordView struct {
	ID            string         `json:"id"`
	Owner         []string       `json:"owner"`
	Followers     []string       `json:"followers"`
	Properties    map[string]any `json:"properties"`
	DateAdded     string         `json:"dateAdded"`
	DateUpdated   string         `json:"dateUpdated"`
	CreatedAt     string         `json:"createdAt"`
	UpdatedAt     string         `json:"updatedAt"`
	LocationID    string         `json:"locationId"`
	ObjectID      string         `json:"objectId"`
	ObjectKey     string         `json:"objectKey"`
	CreatedBy     actor          `json:"createdBy"`
	LastUpdatedBy actor          `json:"lastUpdatedBy"`
}

// searchRecordView is RecordResponseDTO, a record of a search answer.
type searchRecordView struct {
	ID            string         `json:"id"`
	Owner         []string       `json:"owner"`
	Followers     []string       `json:"followers"`
	Properties    map[string]any `json:"properties"`
	CreatedAt     string         `json:"createdAt"`
	UpdatedAt     string         `json:"updatedAt"`
	LocationID    string         `json:"locationId"`
	ObjectID      string         `json:"objectId"`
	ObjectKey     string         `json:"objectKey"`
	CreatedBy     actor          `json:"createdBy"`
	LastUpdatedBy actor          `json:"lastUpdatedBy"`
	SearchAfter   []any          `json:"searchAfter"`
}

func (r *record) view() recordView {
	return recordView{
		ID:            r.id,
		Owner:         nonNil(r.owner),
		Followers:     nonNil(r.followers),
		Properties:    maps.Clone(r.properties),
		DateAdded:     stamp(r.createdAt),
		DateUpdated:   stamp(r.updatedAt),
		CreatedAt:     stamp(r.createdAt),
		UpdatedAt:     stamp(r.updatedAt),
		LocationID:    r.locationID,
		ObjectID:      r.objectID,
		ObjectKey:     r.objectKey,
		CreatedBy:     r.createdBy,
		LastUpdatedBy: r.updatedBy,
	}
}

func (r *record) searchView() searchRecordView {
	return searchRecordView{
		ID:            r.id,
		Owner:         nonNil(r.owner),
		Followers:     nonNil(r.followers),
		Properties:    maps.Clone(r.properties),
		CreatedAt:     stamp(r.createdAt),
		UpdatedAt:     stamp(r.updatedAt),
		LocationID:    r.locationID,
		ObjectID:      r.objectID,
		ObjectKey:     r.objectKey,
		CreatedBy:     r.createdBy,
		LastUpdatedBy: r.updatedBy,
		SearchAfter:   []any{r.createdAt.UnixMilli(), r.id},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// actorFor is the createdBy/lastUpdatedBy meta of a change made with token.
func actorFor(token string, t time.Time) actor {
	sum := sha256.Sum256([]byte(token))
	return actor{Channel: "API", CreatedAt: stamp(t), Source: "PUBLIC_API", SourceID: hex.EncodeToString(sum[:10])}
}

// ---------------------------------------------------------------------------
// Create / get / update / delete

type recordBody struct {
	LocationID string                     `json:"locationId"`
	Properties map[string]json.RawMessage `json:"properties"`
	Owner      *[]string                  `json:"owner"`
	Followers  *[]string                  `json:"followers"`
}

func checkPeople(owner, followers *[]string) (reply, bool) {
	if owner != nil && len(*owner) > maxOwners {
		return badRequest("owner can have at most %d user", maxOwners), false
	}
	if followers != nil && len(*followers) > maxFollowers {
		return badRequest("followers can have at most %d users", maxFollowers), false
	}
	return reply{}, true
}

// POST /objects/{schemaKey}/records -> 201 RecordByIdResponseDTO
func (s *Server) createRecord(c *reqCtx) reply {
	var body recordBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	o, rep, ok := c.recordsObject()
	if !ok {
		return rep
	}
	if rep, ok := checkPeople(body.Owner, body.Followers); !ok {
		return rep
	}
	set, _, rep, ok := validateProperties(o, body.Properties) // nulls: nothing to clear yet
	if !ok {
		return rep
	}
	primary := strings.TrimPrefix(o.primaryDisplayProp, o.key+".")
	if _, has := set[primary]; !has {
		return badRequest("%s is required: it is the primary display property of %s", primary, o.key)
	}

	r := s.newRecord(c.loc, o, set, c.token)
	if body.Owner != nil {
		r.owner = slices.Clone(*body.Owner)
	}
	if body.Followers != nil {
		r.followers = slices.Clone(*body.Followers)
	}
	return replyCreated(map[string]any{"record": r.view()})
}

// newRecord stores a record created now.
func (s *Server) newRecord(loc *location, o *object, props map[string]any, token string) *record {
	now := s.now()
	by := actorFor(token, now)
	r := &record{
		id:         s.ids.objectID(now),
		objectKey:  o.key,
		objectID:   o.id,
		locationID: loc.id,
		properties: props,
		createdAt:  now,
		updatedAt:  now,
		createdBy:  by,
		updatedBy:  by,
	}
	if r.properties == nil {
		r.properties = make(map[string]any)
	}
	loc.records[r.id] = r
	o.insertRecord(r)
	return r
}

// findRecord resolves the {schemaKey} and {id} of a record route.
func (c *reqCtx) findRecord() (*object, *record, reply, bool) {
	o, rep, ok := c.recordsObject()
	if !ok {
		return nil, nil, rep, false
	}
	r := c.loc.records[c.params["id"]]
	if r == nil || r.objectKey != o.key {
		return nil, nil, notFound("Record %s not found", c.params["id"]), false
	}
	return o, r, reply{}, true
}

// GET /objects/{schemaKey}/records/{id} -> RecordByIdResponseDTO
func (s *Server) getRecord(c *reqCtx) reply {
	_, r, rep, ok := c.findRecord()
	if !ok {
		return rep
	}
	return replyOK(map[string]any{"record": r.view()})
}

// PUT /objects/{schemaKey}/records/{id}?locationId= -> RecordByIdResponseDTO.
// Named properties are merged (null clears one); owner and followers are
// replaced when given.
func (s *Server) updateRecord(c *reqCtx) reply {
	var body recordBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	if body.LocationID != "" && body.LocationID != c.loc.id {
		return forbiddenLocation()
	}
	o, r, rep, ok := c.findRecord()
	if !ok {
		return rep
	}
	if rep, ok := checkPeople(body.Owner, body.Followers); !ok {
		return rep
	}
	set, unset, rep, ok := validateProperties(o, body.Properties)
	if !ok {
		return rep
	}
	primary := strings.TrimPrefix(o.primaryDisplayProp, o.key+".")
	if slices.Contains(unset, primary) {
		return badRequest("%s is required: it is the primary display property of %s", primary, o.key)
	}

	maps.Copy(r.properties, set)
	for _, k := range unset {
		delete(r.properties, k)
	}
	if body.Owner != nil {
		r.owner = slices.Clone(*body.Owner)
	}
	if body.Followers != nil {
		r.followers = slices.Clone(*body.Followers)
	}
	r.updatedAt = s.now()
	r.updatedBy = actorFor(c.token, r.updatedAt)
	return replyOK(map[string]any{"record": r.view()})
}

// DELETE /objects/{schemaKey}/records/{id} -> ObjectRecordDeleteResponseDTO
func (s *Server) deleteRecord(c *reqCtx) reply {
	o, r, rep, ok := c.findRecord()
	if !ok {
		return rep
	}
	delete(c.loc.records, r.id)
	o.removeRecord(r)
	c.loc.deleteRelationsOf(func(rel *relation) bool {
		return rel.firstRecordID == r.id || rel.secondRecordID == r.id
	})
	return replyOK(map[string]any{"id": r.id, "success": true})
}

// ---------------------------------------------------------------------------
// Property validation

// validateProperties checks record properties against the object's fields as
// HighLevel does: every key must be a field (bare key, or "field.option" for
// TEXTBOX_LIST), every value of the field's type. It returns the values to
// set and the keys to clear (null values).
func validateProperties(o *object, props map[string]json.RawMessage) (map[string]any, []string, reply, bool) {
	set := make(map[string]any, len(props))
	var unset []string
	for _, k := range slices.Sorted(maps.Keys(props)) {
		raw := props[k]
		name, opt, dotted := strings.Cut(k, ".")
		f := o.fieldByName(name)
		if f == nil {
			return nil, nil, badRequest("%s is not a valid property of %s", k, o.key), false
		}
		if f.dataType == "TEXTBOX_LIST" {
			if !dotted || !f.hasOption(opt) {
				return nil, nil, badRequest("%s is a TEXTBOX_LIST: set its values as %s.<option_key> with one of its option keys", name, name), false
			}
		} else if dotted {
			return nil, nil, badRequest("%s is not a valid property of %s", k, o.key), false
		}
		if rawIsNull(raw) {
			unset = append(unset, k)
			continue
		}
		v, err := decodeValue(raw)
		if err != nil {
			return nil, nil, badRequest("%s has an invalid value", k), false
		}
		nv, msg := checkValue(f, v)
		if msg != "" {
			return nil, nil, badRequest("%s %s", k, msg), false
		}
		set[k] = nv
	}
	return set, unset, reply{}, true
}

func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// checkValue validates v for the field and returns the value to store, or a
// message ending "<key> ..." when it is invalid.
func checkValue(f *field, v any) (any, string) {
	switch f.dataType {
	case "TEXT", "LARGE_TEXT", "PHONE", "TEXTBOX_LIST":
		s, ok := v.(string)
		if !ok {
			return nil, "must be a string"
		}
		return s, ""
	case "EMAIL":
		s, ok := v.(string)
		if !ok {
			return nil, "must be a string"
		}
		at := strings.IndexByte(s, '@')
		if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t") {
			return nil, "must be a valid email"
		}
		return s, ""
	case "NUMERICAL":
		n, ok := v.(json.Number)
		if !ok {
			return nil, "must be a number"
		}
		return n, ""
	case "MONETORY":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, `must be an object {"currency":"default","value":<number>}`
		}
		val, ok := m["value"].(json.Number)
		if !ok {
			return nil, `must be an object {"currency":"default","value":<number>}`
		}
		cur := "default"
		if c, present := m["currency"]; present {
			cs, ok := c.(string)
			if !ok || cs == "" {
				return nil, "currency must be a string"
			}
			cur = cs
		}
		return map[string]any{"currency": cur, "value": val}, ""
	case "SINGLE_OPTIONS", "RADIO":
		s, ok := v.(string)
		if !ok {
			return nil, "must be one option key (a string)"
		}
		custom := f.dataType == "RADIO" && f.allowCustomOption != nil && *f.allowCustomOption
		if !f.hasOption(s) && !custom {
			return nil, fmt.Sprintf("has an invalid option %q; valid options: %s", s, optionKeys(f))
		}
		return s, ""
	case "MULTIPLE_OPTIONS", "CHECKBOX":
		arr, ok := v.([]any)
		if !ok {
			return nil, "must be an array of option keys"
		}
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			s, ok := e.(string)
			if !ok {
				return nil, "must be an array of option keys"
			}
			if !f.hasOption(s) {
				return nil, fmt.Sprintf("has an invalid option %q; valid options: %s", s, optionKeys(f))
			}
			out = append(out, s)
		}
		return out, ""
	case "DATE":
		s, ok := v.(string)
		if !ok {
			return nil, `must be a date string "YYYY-MM-DD"`
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				return nil, `must be a date string "YYYY-MM-DD"`
			}
		}
		return s, ""
	case "FILE_UPLOAD":
		arr, ok := v.([]any)
		if !ok {
			return nil, `must be an array of files [{"url":"..."}]`
		}
		if f.maxFileLimit != nil && float64(len(arr)) > *f.maxFileLimit {
			return nil, fmt.Sprintf("accepts at most %v files", *f.maxFileLimit)
		}
		for _, e := range arr {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, `must be an array of files [{"url":"..."}]`
			}
			if u, ok := m["url"].(string); !ok || u == "" {
				return nil, "must give every file a url"
			}
		}
		return arr, ""
	}
	return v, ""
}

func optionKeys(f *field) string {
	keys := make([]string, len(f.options))
	for i, o := range f.options {
		keys[i] = o.Key
	}
	return strings.Join(keys, ", ")
}

// ---------------------------------------------------------------------------
// Search

type searchBody struct {
	LocationID  string            `json:"locationId"`
	Page        json.RawMessage   `json:"page"`
	PageLimit   json.RawMessage   `json:"pageLimit"`
	Query       string            `json:"query"`
	SearchAfter []json.RawMessage `json:"searchAfter"`
	Filters     []json.RawMessage `json:"filters"`
	Sort        []json.RawMessage `json:"sort"`
}

// intParam parses an optional integer of the body: absent means def.
func intParam(raw json.RawMessage, name string, def int) (int, string) {
	if len(raw) == 0 || rawIsNull(raw) {
		return def, ""
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, name + " must be a number conforming to the specified constraints"
	}
	if f != math.Trunc(f) || math.Abs(f) > 1e9 {
		return 0, name + " must be an integer number"
	}
	return int(f), ""
}

// cursor is a decoded searchAfter: the sort key of the last record seen.
type cursor struct {
	millis int64
	id     string
	hasID  bool
}

func parseSearchAfter(vals []json.RawMessage) (*cursor, bool) {
	if len(vals) == 0 {
		return nil, true
	}
	if len(vals) > 2 {
		return nil, false
	}
	var c cursor
	var n json.Number
	if err := json.Unmarshal(vals[0], &n); err != nil {
		var s string
		if err := json.Unmarshal(vals[0], &s); err != nil {
			return nil, false
		}
		n = json.Number(s)
	}
	ms, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return nil, false
	}
	c.millis = ms
	if len(vals) == 2 {
		if err := json.Unmarshal(vals[1], &c.id); err != nil {
			var num json.Number
			if err := json.Unmarshal(vals[1], &num); err != nil {
				return nil, false
			}
			c.id = num.String()
		}
		c.hasID = true
	}
	return &c, true
}

// after reports whether r sorts strictly after the cursor.
func (c *cursor) after(r *record) bool {
	ms := r.createdAt.UnixMilli()
	if ms != c.millis {
		return ms > c.millis
	}
	return c.hasID && r.id > c.id
}

// POST /objects/{schemaKey}/records/search (SearchRecordsBody) -> SearchRecordResponseDTO
func (s *Server) searchRecords(c *reqCtx) reply {
	var body searchBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	var msgs []string
	page, msg := intParam(body.Page, "page", 1)
	if msg != "" {
		msgs = append(msgs, msg)
	} else if page < 1 {
		msgs = append(msgs, "page must not be less than 1")
	}
	limit, msg := intParam(body.PageLimit, "pageLimit", 10)
	if msg != "" {
		msgs = append(msgs, msg)
	} else if limit < 1 {
		msgs = append(msgs, "pageLimit must not be less than 1")
	} else if limit > maxPageLimit {
		msgs = append(msgs, fmt.Sprintf("pageLimit must not be greater than %d", maxPageLimit))
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}
	cur, valid := parseSearchAfter(body.SearchAfter)
	if !valid {
		return badRequest("searchAfter must be the searchAfter of a record: [<createdAt millis>, <id>]")
	}
	if len(body.Sort) > 0 {
		return badRequest("sort is not supported by the fake GHL server: records are returned by creation time")
	}
	o, rep, ok := c.recordsObject()
	if !ok {
		return rep
	}
	match, rep, ok := compileSearch(o, strings.TrimSpace(body.Query), body.Filters)
	if !ok {
		return rep
	}

	start := 0
	skip := 0
	if cur != nil {
		start = sort.Search(len(o.records), func(i int) bool { return cur.after(o.records[i]) })
	} else {
		skip = (page - 1) * limit
	}
	total := 0
	out := make([]searchRecordView, 0, limit)
	for i, r := range o.records {
		if !match(r) {
			continue
		}
		total++
		if i < start {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(out) < limit {
			out = append(out, r.searchView())
		}
	}
	return replyOK(map[string]any{"records": out, "total": total})
}

// compileSearch builds the record predicate of a search: the free-text query
// ("text" over the searchable properties, or "field:text") and the filters.
func compileSearch(o *object, query string, filters []json.RawMessage) (func(*record) bool, reply, bool) {
	preds := make([]func(*record) bool, 0, 2)
	if query != "" {
		preds = append(preds, queryPredicate(o, query))
	}
	for _, raw := range filters {
		p, msg := compileFilter(o, raw)
		if msg != "" {
			return nil, badRequest("Invalid filter: %s", msg), false
		}
		preds = append(preds, p)
	}
	return func(r *record) bool {
		for _, p := range preds {
			if !p(r) {
				return false
			}
		}
		return true
	}, reply{}, true
}

func queryPredicate(o *object, query string) func(*record) bool {
	if fieldName, text, found := strings.Cut(query, ":"); found {
		name := strings.TrimPrefix(strings.TrimSpace(fieldName), o.key+".")
		if o.fieldByName(name) != nil {
			needle := strings.ToLower(strings.TrimSpace(text))
			return func(r *record) bool { return valueContains(r.properties[name], needle) }
		}
	}
	var names []string
	for _, k := range o.searchableProperties {
		names = append(names, strings.TrimPrefix(k, o.key+"."))
	}
	if primary := strings.TrimPrefix(o.primaryDisplayProp, o.key+"."); !slices.Contains(names, primary) {
		names = append(names, primary)
	}
	needle := strings.ToLower(query)
	return func(r *record) bool {
		for _, n := range names {
			if valueContains(r.properties[n], needle) {
				return true
			}
		}
		return false
	}
}

// valueContains reports whether a property value contains needle
// (lowercase), case-insensitively.
func valueContains(v any, needle string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(strings.ToLower(x), needle)
	case json.Number:
		return strings.Contains(x.String(), needle)
	case []any:
		for _, e := range x {
			if valueContains(e, needle) {
				return true
			}
		}
	case map[string]any:
		return valueContains(x["value"], needle)
	}
	return false
}

type filterBody struct {
	Field    string            `json:"field"`
	Operator string            `json:"operator"`
	Value    json.RawMessage   `json:"value"`
	Group    string            `json:"group"`
	Filters  []json.RawMessage `json:"filters"`
}

// compileFilter compiles one filter of the search body: {field, operator,
// value} or {group: AND|OR, filters: [...]}. Fields are "properties.<key>"
// or a bare property key.
func compileFilter(o *object, raw json.RawMessage) (func(*record) bool, string) {
	var fb filterBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&fb); err != nil {
		return nil, "a filter must be an object"
	}
	if fb.Group != "" {
		var subs []func(*record) bool
		for _, sub := range fb.Filters {
			p, msg := compileFilter(o, sub)
			if msg != "" {
				return nil, msg
			}
			subs = append(subs, p)
		}
		switch strings.ToUpper(fb.Group) {
		case "AND":
			return func(r *record) bool {
				for _, p := range subs {
					if !p(r) {
						return false
					}
				}
				return true
			}, ""
		case "OR":
			return func(r *record) bool {
				for _, p := range subs {
					if p(r) {
						return true
					}
				}
				return len(subs) == 0
			}, ""
		}
		return nil, "group must be AND or OR"
	}
	name := strings.TrimPrefix(fb.Field, "properties.")
	if o.fieldByName(name) == nil {
		return nil, fmt.Sprintf("unknown field %q", fb.Field)
	}
	var val any
	if len(fb.Value) > 0 {
		v, err := decodeValue(fb.Value)
		if err != nil {
			return nil, "invalid value"
		}
		val = v
	}
	get := func(r *record) (any, bool) { v, ok := r.properties[name]; return v, ok }
	switch fb.Operator {
	case "eq":
		return func(r *record) bool { v, _ := get(r); return valueEquals(v, val) }, ""
	case "not_eq":
		return func(r *record) bool { v, _ := get(r); return !valueEquals(v, val) }, ""
	case "contains", "not_contains":
		s, ok := val.(string)
		if !ok {
			return nil, fb.Operator + " needs a string value"
		}
		needle := strings.ToLower(s)
		neg := fb.Operator == "not_contains"
		return func(r *record) bool { v, _ := get(r); return valueContains(v, needle) != neg }, ""
	case "exists":
		return func(r *record) bool { _, ok := get(r); return ok }, ""
	case "not_exists":
		return func(r *record) bool { _, ok := get(r); return !ok }, ""
	case "range":
		bounds, ok := val.(map[string]any)
		if !ok {
			return nil, "range needs a value {gte, lte, gt, lt}"
		}
		return func(r *record) bool { v, _ := get(r); return inRange(v, bounds) }, ""
	}
	return nil, fmt.Sprintf("unsupported operator %q", fb.Operator)
}

func valueEquals(v, want any) bool {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if valueEquals(e, want) {
				return true
			}
		}
		return false
	}
	if m, ok := v.(map[string]any); ok {
		v = m["value"]
	}
	a, aok := toFloat(v)
	b, bok := toFloat(want)
	if aok && bok {
		return a == b
	}
	return fmt.Sprint(v) == fmt.Sprint(want)
}

func inRange(v any, bounds map[string]any) bool {
	if m, ok := v.(map[string]any); ok {
		v = m["value"]
	}
	if v == nil {
		return false
	}
	cmp := func(bound any) (int, bool) {
		a, aok := toFloat(v)
		b, bok := toFloat(bound)
		if aok && bok {
			switch {
			case a < b:
				return -1, true
			case a > b:
				return 1, true
			}
			return 0, true
		}
		as, aok := v.(string)
		bs, bok := bound.(string)
		if aok && bok {
			return strings.Compare(as, bs), true
		}
		return 0, false
	}
	for op, bound := range bounds {
		c, ok := cmp(bound)
		if !ok {
			return false
		}
		switch op {
		case "gte":
			ok = c >= 0
		case "gt":
			ok = c > 0
		case "lte":
			ok = c <= 0
		case "lt":
			ok = c < 0
		}
		if !ok {
			return false
		}
	}
	return true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}
