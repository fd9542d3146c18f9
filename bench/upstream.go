package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
)

// Names of the benchmark's objects and fixtures.
const (
	petKey     = ghlfake.DemoObjectKey // custom_objects.pet: the fixed-answer object
	walkObject = "walk"                // the object of the 100,000-record walk
	walkKey    = "custom_objects." + walkObject
	ghlVersion = "2021-07-28"             // the Version header the adapter sends
	seedLoc    = "benchLocation0000000"   // the location the fixtures were captured in
	seedToken  = "pit-bench-fixture-0000" //nolint:gosec // a fake's token, not a credential
)

// Route names of the lean upstream's counters (HighLevel's spec spelling,
// as ghlfake.RequestCount names them).
const (
	RouteSchema  = "GET /objects/{key}"
	RouteGet     = "GET /objects/{schemaKey}/records/{id}"
	RouteCreate  = "POST /objects/{schemaKey}/records"
	RouteSearch  = "POST /objects/{schemaKey}/records/search"
	RouteObjects = "GET /objects/"
	RouteOther   = "other"
	// ConnsOpened counts TCP connections accepted (not a route).
	ConnsOpened = "new TCP connections"
)

var routeNames = []string{RouteSchema, RouteGet, RouteCreate, RouteSearch, RouteObjects, RouteOther, ConnsOpened}

// fixture is one captured answer of the GHL fake.
type fixture struct {
	status int
	header http.Header
	body   []byte
}

func (f fixture) write(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range f.header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(f.body)))
	w.WriteHeader(f.status)
	_, _ = w.Write(f.body)
}

// Fixtures are the answers of HighLevel's fake (internal/providers/ghl/ghlfake),
// captured once at start-up so the lean upstream serves byte-for-byte the
// shapes the adapter is tested against, without the fake's bookkeeping.
type Fixtures struct {
	Schema, Get, Create, Search, Objects fixture
	RecordID                             string // the id of the fixed record
	CreateBody                           []byte // a GHL create body valid for the schema
	SearchBody                           []byte // the GHL search body the adapter sends for a first page of 100
	// walk record template, split around the id, the name and the searchAfter
	walkParts []tmplPart
}

// CaptureFixtures seeds a GHL fake with the demo object "pet" (ten fields
// of seven GHL types) and 100 records, and records its answers to the four
// benchmarked routes.
func CaptureFixtures() (*Fixtures, error) {
	fake := ghlfake.New(ghlfake.Options{BurstLimit: -1, DailyLimit: -1})
	fake.AddToken(seedToken, seedLoc)
	fake.SeedDemo(seedLoc, 100)
	call := func(method, target string, body []byte) (fixture, error) {
		var rd *bytes.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		} else {
			rd = bytes.NewReader(nil)
		}
		req := httptest.NewRequest(method, target, rd)
		req.Header.Set("Version", ghlVersion)
		req.Header.Set("Authorization", "Bearer "+seedToken)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			return fixture{}, fmt.Errorf("capture %s %s: HTTP %d: %s", method, target, rec.Code, rec.Body.String())
		}
		h := rec.Header().Clone()
		h.Del("Content-Length")
		h.Del("Date")
		return fixture{status: rec.Code, header: h, body: bytes.Clone(rec.Body.Bytes())}, nil
	}
	f := &Fixtures{}
	var err error
	f.SearchBody = []byte(`{"locationId":"` + seedLoc + `","page":1,"pageLimit":100,"query":"","searchAfter":[]}`)
	if f.Search, err = call(http.MethodPost, "/objects/"+petKey+"/records/search", f.SearchBody); err != nil {
		return nil, err
	}
	var page struct {
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(f.Search.body, &page); err != nil {
		return nil, fmt.Errorf("capture search: %w", err)
	}
	if len(page.Records) != 100 {
		return nil, fmt.Errorf("capture search: want 100 records, got %d", len(page.Records))
	}
	f.RecordID, _ = page.Records[0]["id"].(string)
	if f.Get, err = call(http.MethodGet, "/objects/"+petKey+"/records/"+f.RecordID, nil); err != nil {
		return nil, err
	}
	if f.Schema, err = call(http.MethodGet, "/objects/"+petKey+"?locationId="+seedLoc+"&fetchProperties=true", nil); err != nil {
		return nil, err
	}
	if f.Objects, err = call(http.MethodGet, "/objects/?locationId="+seedLoc, nil); err != nil {
		return nil, err
	}
	f.CreateBody = []byte(`{"locationId":"` + seedLoc + `","properties":{"age":4,"name":"Rex","price":{"currency":"default","value":120},"species":"dog","tags":["friendly"]}}`)
	if f.Create, err = call(http.MethodPost, "/objects/"+petKey+"/records", f.CreateBody); err != nil {
		return nil, err
	}

	// The walk object's records: the first search record with sentinels
	// where the id, the name and the searchAfter go.
	tmpl := page.Records[0]
	tmpl["id"] = "@@ID@@"
	tmpl["searchAfter"] = "@@SA@@"
	tmpl["objectKey"] = walkKey
	if props, ok := tmpl["properties"].(map[string]any); ok {
		props["name"] = "@@NAME@@"
	}
	raw, err := json.Marshal(tmpl)
	if err != nil {
		return nil, err
	}
	f.walkParts = splitSentinels(raw, `"@@ID@@"`, `"@@NAME@@"`, `"@@SA@@"`)
	if f.walkParts == nil {
		return nil, fmt.Errorf("walk template: sentinels not found in %s", raw)
	}
	return f, nil
}

// tmplPart is a piece of a record template: literal bytes, or a slot
// (0 id, 1 name, 2 searchAfter) when lit is nil.
type tmplPart struct {
	lit  []byte
	slot int
}

// splitSentinels splits b around each sentinel (each must occur exactly
// once); sentinel i becomes slot i.
func splitSentinels(b []byte, sentinels ...string) []tmplPart {
	type hit struct{ at, n, slot int }
	var hits []hit
	for i, s := range sentinels {
		if bytes.Count(b, []byte(s)) != 1 {
			return nil
		}
		hits = append(hits, hit{bytes.Index(b, []byte(s)), len(s), i})
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.at - b.at })
	var parts []tmplPart
	prev := 0
	for _, h := range hits {
		parts = append(parts, tmplPart{lit: b[prev:h.at]}, tmplPart{slot: h.slot})
		prev = h.at + h.n
	}
	return append(parts, tmplPart{lit: b[prev:]})
}

// walkID is the id of walk record i: a 24-hex-digit ObjectId look-alike.
func walkID(i int) string { return fmt.Sprintf("%024x", i+1) }

// walkEpochMillis is the createdAt of walk record 0 (the first sort key).
const walkEpochMillis = 1_700_000_000_000

func (f *Fixtures) appendWalkRecord(buf []byte, i int) []byte {
	id := walkID(i)
	for _, p := range f.walkParts {
		if p.lit != nil {
			buf = append(buf, p.lit...)
			continue
		}
		switch p.slot {
		case 0:
			buf = strconv.AppendQuote(buf, id)
		case 1:
			buf = strconv.AppendQuote(buf, "Walker "+strconv.Itoa(i))
		case 2:
			buf = append(buf, '[')
			buf = strconv.AppendInt(buf, walkEpochMillis+int64(i), 10)
			buf = append(buf, ',')
			buf = strconv.AppendQuote(buf, id)
			buf = append(buf, ']')
		}
	}
	return buf
}

// Upstream is the lean GHL upstream: fixed answers, counted per route.
type Upstream struct {
	fx          *Fixtures
	walkRecords int
	counts      map[string]*atomic.Int64
	srv         *http.Server
	URL         string
}

// NewUpstream starts the lean upstream on a loopback port. walkRecords is
// how many records the walk object has.
func NewUpstream(fx *Fixtures, walkRecords int) (*Upstream, error) {
	u := &Upstream{fx: fx, walkRecords: walkRecords, counts: map[string]*atomic.Int64{}}
	for _, r := range routeNames {
		u.counts[r] = &atomic.Int64{}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u.URL = "http://" + ln.Addr().String()
	u.srv = &http.Server{Handler: u, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				u.count(ConnsOpened)
			}
		}}
	go func() { _ = u.srv.Serve(ln) }()
	return u, nil
}

// Close stops the upstream.
func (u *Upstream) Close() { _ = u.srv.Close() }

// Counts returns the requests served per route so far.
func (u *Upstream) Counts() map[string]int64 {
	out := make(map[string]int64, len(u.counts))
	for k, v := range u.counts {
		out[k] = v.Load()
	}
	return out
}

func (u *Upstream) count(route string) { u.counts[route].Add(1) }

var errNotFound = []byte(`{"statusCode":404,"message":"Not Found","error":"Not Found"}`)

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(errNotFound)
}

// ServeHTTP answers the five routes the benchmark uses.
func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/objects/")
	if p == r.URL.EscapedPath() {
		u.count(RouteOther)
		notFound(w)
		return
	}
	segs := strings.Split(p, "/")
	switch {
	case r.Method == http.MethodGet && p == "":
		u.count(RouteObjects)
		u.fx.Objects.write(w)
	case r.Method == http.MethodGet && len(segs) == 1:
		u.count(RouteSchema)
		if segs[0] != petKey {
			notFound(w)
			return
		}
		u.fx.Schema.write(w)
	case r.Method == http.MethodGet && len(segs) == 3 && segs[1] == "records":
		u.count(RouteGet)
		u.fx.Get.write(w)
	case r.Method == http.MethodPost && len(segs) == 2 && segs[1] == "records":
		u.count(RouteCreate)
		_, _ = drain(r)
		u.fx.Create.write(w)
	case r.Method == http.MethodPost && len(segs) == 3 && segs[1] == "records" && segs[2] == "search":
		u.count(RouteSearch)
		body, _ := drain(r)
		if segs[0] == walkKey {
			u.walkPage(w, body)
			return
		}
		u.fx.Search.write(w)
	default:
		u.count(RouteOther)
		notFound(w)
	}
}

func drain(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(r.Body)
	return buf.Bytes(), err
}

// walkPage answers a search page of the walk object: records in
// (createdAt, id) order after the searchAfter of the body.
func (u *Upstream) walkPage(w http.ResponseWriter, body []byte) {
	var q struct {
		PageLimit   int               `json:"pageLimit"`
		SearchAfter []json.RawMessage `json:"searchAfter"`
	}
	if err := json.Unmarshal(body, &q); err != nil || q.PageLimit <= 0 || q.PageLimit > 100 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	start := 0
	if len(q.SearchAfter) == 2 {
		var id string
		if json.Unmarshal(q.SearchAfter[1], &id) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		n, err := strconv.ParseInt(id, 16, 64)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		start = int(n) // ids are index+1: the next record is index n
	}
	end := min(start+q.PageLimit, u.walkRecords)
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, `{"records":[`...)
	for i := start; i < end; i++ {
		if i > start {
			buf = append(buf, ',')
		}
		buf = u.fx.appendWalkRecord(buf, i)
	}
	buf = append(buf, `],"total":`...)
	buf = strconv.AppendInt(buf, int64(u.walkRecords), 10)
	buf = append(buf, '}')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(buf)))
	_, _ = w.Write(buf)
}
