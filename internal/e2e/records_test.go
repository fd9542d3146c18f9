package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// fullPet is a pet with every property set.
func fullPet() map[string]any {
	return map[string]any{
		"name":       "Rex",
		"species":    "dog",
		"age":        3.0,
		"price":      map[string]any{"currency": "default", "value": 120.0},
		"vaccinated": []any{"rabies", "parvo"},
		"birthday":   "2021-06-15",
		"notes":      "Good boy",
		"email":      "rex@example.com",
		"phone":      "+15551234567",
		"tags":       []any{"friendly", "rescue"},
	}
}

func recordProps(r *crmv1.Record) map[string]any { return r.GetProperties().AsMap() }

func TestRecordCRUD(t *testing.T) {
	t.Parallel()
	testRecordCRUD(t, gwOptions{})
}

// testRecordCRUD is a record round trip; it runs on SQLite and PostgreSQL.
func testRecordCRUD(t *testing.T, o gwOptions) {
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, o, 0)
		c := e.client(t, tr)

		cr := must(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, fullPet())}}))(t)
		rec := cr.GetRecord()
		if rec.GetId() == "" || rec.GetObjectName() != "pet" || rec.GetCreatedAt() == nil {
			t.Fatalf("created = %v", rec)
		}
		if got := recordProps(rec); !reflect.DeepEqual(got, fullPet()) {
			t.Errorf("created properties = %v, want %v", got, fullPet())
		}
		if e.f.RecordCount(e.tn.location, "custom_objects.pet") != 1 {
			t.Errorf("the fake holds %d pets", e.f.RecordCount(e.tn.location, "custom_objects.pet"))
		}

		got := must(c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: rec.GetId()}))(t).GetRecord()
		if !reflect.DeepEqual(recordProps(got), fullPet()) || got.GetId() != rec.GetId() || got.GetRawData() != nil {
			t.Errorf("get = %v", got)
		}
		raw := must(c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: rec.GetId(), IncludeRawData: true}))(t).GetRecord()
		if raw.GetRawData().GetFields()["id"].GetStringValue() != rec.GetId() {
			t.Errorf("include_raw_data: raw_data = %v", raw.GetRawData())
		}

		// Patch: only the named properties change.
		up := must(c.UpdateRecord(&crmv1.UpdateRecordRequest{ObjectName: "pet", Id: rec.GetId(), Record: &crmv1.RecordInput{
			Properties: st(t, map[string]any{"age": 4, "notes": "Still a good boy", "tags": []any{"senior"}}),
		}}))(t).GetRecord()
		want := fullPet()
		want["age"], want["notes"], want["tags"] = 4.0, "Still a good boy", []any{"senior"}
		if !reflect.DeepEqual(recordProps(up), want) {
			t.Errorf("after patch = %v, want %v", recordProps(up), want)
		}
		if got := recordProps(must(c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: rec.GetId()}))(t).GetRecord()); !reflect.DeepEqual(got, want) {
			t.Errorf("get after patch = %v, want %v", got, want)
		}
		// null clears one property.
		up = must(c.UpdateRecord(&crmv1.UpdateRecordRequest{ObjectName: "pet", Id: rec.GetId(), Record: &crmv1.RecordInput{
			Properties: st(t, map[string]any{"notes": nil}),
		}}))(t).GetRecord()
		delete(want, "notes")
		if !reflect.DeepEqual(recordProps(up), want) {
			t.Errorf("after clearing notes = %v, want %v", recordProps(up), want)
		}
		wantCode(t, second(c.UpdateRecord(&crmv1.UpdateRecordRequest{ObjectName: "pet", Id: rec.GetId(), Record: &crmv1.RecordInput{}})), codes.InvalidArgument)

		// Delete.
		must(c.DeleteRecord(&crmv1.DeleteRecordRequest{ObjectName: "pet", Id: rec.GetId()}))(t)
		nf := wantCode(t, second(c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: rec.GetId()})), codes.NotFound)
		if nf.httpStatus != 0 && nf.httpStatus != http.StatusNotFound {
			t.Errorf("get deleted: HTTP %d", nf.httpStatus)
		}
		wantCode(t, second(c.DeleteRecord(&crmv1.DeleteRecordRequest{ObjectName: "pet", Id: rec.GetId()})), codes.NotFound)
		wantCode(t, second(c.UpdateRecord(&crmv1.UpdateRecordRequest{ObjectName: "pet", Id: rec.GetId(), Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"age": 1})}})), codes.NotFound)
		if e.f.RecordCount(e.tn.location, "custom_objects.pet") != 0 {
			t.Errorf("the fake still holds the deleted pet")
		}

		// Bad ids and objects.
		wantCode(t, second(c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: "bad id"})), codes.InvalidArgument)
		wantCode(t, second(c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: "000000000000000000000000"})), codes.NotFound)
		wantCode(t, second(c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "nosuch", Id: "000000000000000000000000"})), codes.NotFound)
		wantCode(t, second(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "nosuch", Record: &crmv1.RecordInput{Properties: st(t, map[string]any{"name": "x"})}})), codes.NotFound)
		wantCode(t, second(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "nosuch"})), codes.NotFound)
		wantCode(t, second(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet"})), codes.InvalidArgument)
	})
}

// TestRecordRESTBodies checks the REST record bodies: {record:{...}} in,
// {record, warnings} out.
func TestRecordRESTBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	h := hdr(e.tn.key, e.tn.connID)
	// Notes long enough that the answers exceed net/http's 2 KiB buffer.
	r := e.g.do(t, "POST", crmBase+"/custom_objects/pet", h, map[string]any{"record": map[string]any{"properties": map[string]any{"name": "Tom", "age": 2, "notes": strings.Repeat("n", 3000)}}})
	if r.status != 200 || at(r.body, "record", "properties", "name") != "Tom" || at(r.body, "record", "properties", "age") != 2.0 ||
		at(r.body, "record", "object_name") != "pet" || r.body["warnings"] == nil {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := str(at(r.body, "record", "id"))
	r = e.g.do(t, "PATCH", crmBase+"/custom_objects/pet/"+id, h, map[string]any{"record": map[string]any{"properties": map[string]any{"age": 3}}})
	if r.status != 200 || at(r.body, "record", "properties", "age") != 3.0 || at(r.body, "record", "properties", "name") != "Tom" {
		t.Errorf("patch: %d %s", r.status, r.raw)
	}
	r = e.g.do(t, "GET", crmBase+"/custom_objects/pet/"+id, h, nil)
	if r.status != 200 || at(r.body, "record", "properties", "age") != 3.0 {
		t.Errorf("get: %d %s", r.status, r.raw)
	}
	// Answers say their length (not chunked).
	if got := r.header.Get("Content-Length"); len(r.raw) < 3000 || got != strconv.Itoa(len(r.raw)) {
		t.Errorf("get: Content-Length %q for a %d-byte answer", got, len(r.raw))
	}
	r = e.g.do(t, "DELETE", crmBase+"/custom_objects/pet/"+id, h, nil)
	if r.status != 200 || string(r.raw) != "{}" {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	r = e.g.do(t, "GET", crmBase+"/custom_objects/pet/"+id, h, nil)
	if r.status != 404 {
		t.Errorf("get deleted: %d %s", r.status, r.raw)
	}
	// The properties at the top level (not under record) are refused.
	r = e.g.do(t, "POST", crmBase+"/custom_objects/pet", h, map[string]any{"properties": map[string]any{"name": "Tom"}})
	if r.status != 400 {
		t.Errorf("create without record: %d %s", r.status, r.raw)
	}
}

// pageAll pages through a listing and returns every id in order.
func pageAll(t testing.TB, c *client, object string, size int32) (ids []string, pages int) {
	t.Helper()
	cursor := ""
	for {
		pg := must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: object, PageSize: size, Cursor: cursor}))(t)
		pages++
		for _, r := range pg.GetItems() {
			ids = append(ids, r.GetId())
		}
		if pg.GetHasNextPage() != (pg.GetNextCursor() != "") {
			t.Fatalf("page %d: has_next_page=%v but next_cursor=%q", pages, pg.GetHasNextPage(), pg.GetNextCursor())
		}
		if !pg.GetHasNextPage() {
			return ids, pages
		}
		if len(pg.GetItems()) == 0 {
			t.Fatalf("page %d: empty page with a next page", pages)
		}
		if pages > 1000 {
			t.Fatalf("more than 1000 pages")
		}
		cursor = pg.GetNextCursor()
	}
}

func checkEachOnce(t testing.TB, ids []string, want int) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	if len(ids) != want || len(seen) != want || dups != 0 {
		t.Errorf("listed %d ids (%d distinct, %d repeated), want each of %d exactly once", len(ids), len(seen), dups, want)
	}
}

func TestListRecordsPaging(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 250)
		c := e.client(t, tr)
		ids, pages := pageAll(t, c, "pet", 100)
		checkEachOnce(t, ids, 250)
		if pages != 3 {
			t.Errorf("%d pages of 100 for 250 records, want 3", pages)
		}
		// Sizes: default, cap, small.
		for _, tc := range []struct {
			size int32
			want int
		}{{0, 100}, {1, 1}, {37, 37}, {100, 100}, {101, 100}, {5000, 100}} {
			pg := must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: tc.size}))(t)
			if len(pg.GetItems()) != tc.want || !pg.GetHasNextPage() {
				t.Errorf("page_size %d: %d items (has_next %v), want %d", tc.size, len(pg.GetItems()), pg.GetHasNextPage(), tc.want)
			}
		}
		ids, _ = pageAll(t, c, "pet", 37)
		checkEachOnce(t, ids, 250)
		for _, size := range []int32{-1, -100} {
			err := wantCode(t, second(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: size})), codes.InvalidArgument)
			if !err.hasField("page_size") {
				t.Errorf("page_size %d: %v", size, err)
			}
		}
		// Records added while paging are not lost or repeated.
		first := must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 100}))(t)
		e.f.SeedDemo(e.tn.location, 5)
		rest := first.GetItems()
		cursor := first.GetNextCursor()
		for cursor != "" {
			pg := must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 100, Cursor: cursor}))(t)
			rest = append(rest, pg.GetItems()...)
			cursor = pg.GetNextCursor()
		}
		var all []string
		for _, r := range rest {
			all = append(all, r.GetId())
		}
		checkEachOnce(t, all, 255)
	})
}

// TestListRecordsEmpty pages an object without records.
func TestListRecordsEmpty(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 0)
		pg := must(e.client(t, tr).ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t)
		if len(pg.GetItems()) != 0 || pg.GetHasNextPage() || pg.GetNextCursor() != "" {
			t.Errorf("empty listing = %v", pg)
		}
		// Exactly one full page: no further page is announced.
		e.f.SeedDemo(e.tn.location, 100)
		pg = must(e.client(t, tr).ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 100}))(t)
		if len(pg.GetItems()) != 100 || pg.GetHasNextPage() {
			t.Errorf("listing of exactly 100 = %d items, has_next %v", len(pg.GetItems()), pg.GetHasNextPage())
		}
	})
}

func TestListRecords10k(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 records: skipped in -short mode")
	}
	t.Parallel()
	e := newEnv(t, gwOptions{}, 10000)
	c := e.client(t, REST)
	ids, pages := pageAll(t, c, "pet", 100)
	checkEachOnce(t, ids, 10000)
	if pages != 100 {
		t.Errorf("%d pages, want 100", pages)
	}
	if n := e.f.RequestCount(routeSearch); n != 100 {
		t.Errorf("%d GHL searches for 100 pages", n)
	}
}

func TestCursorValidation(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		f := newFake(t)
		g := newGateway(t, gwOptions{})
		a := g.newTenant(t, f, "org-a", 30)
		c := g.client(t, tr, a.key, a.connID)
		// A second connection of the same organisation, same fake location.
		conn2 := g.createConnection(t, a.key, a.configID, "other-customer", a.location, a.token)
		c2 := c.as(a.key, conn2)
		must(c.CreateObject(&crmv1.CreateObjectRequest{
			Name: "keeper", Labels: &crmv1.Labels{Singular: "Keeper", Plural: "Keepers"}, PrimaryFieldId: "name",
			Fields: []*crmv1.Property{{Id: "name", Label: "Name", Type: "text"}},
		}))(t)

		pg := must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 10}))(t)
		cur := pg.GetNextCursor()
		if cur == "" {
			t.Fatal("no cursor")
		}
		// The cursor works, twice (it is not consumed).
		for range 2 {
			if n := len(must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 10, Cursor: cur}))(t).GetItems()); n != 10 {
				t.Errorf("second page: %d items", n)
			}
		}
		enc := base64.RawURLEncoding.EncodeToString
		for _, tc := range []struct{ name, cursor string }{
			{"garbage", "not a cursor!"},
			{"not base64", "%%%%"},
			{"base64 of junk", enc([]byte("hello"))},
			{"wrong version", enc([]byte(`{"v":2,"c":"x","t":"records:pet","p":"abc"}`))},
			{"forged provider cursor", enc([]byte(fmt.Sprintf(`{"v":1,"c":%q,"t":"records:pet","p":"!!!"}`, a.connID)))},
			{"too long", strings.Repeat("A", 5000)},
			{"truncated", cur[:len(cur)/2]},
		} {
			err := wantCode(t, second(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", Cursor: tc.cursor})), codes.InvalidArgument)
			if !err.hasField("cursor") {
				t.Errorf("%s: %v, want a violation of cursor", tc.name, err)
			}
		}
		// Foreign cursors: another connection, another object, a search.
		err := wantCode(t, second(c2.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", Cursor: cur})), codes.InvalidArgument)
		if !err.hasField("cursor") {
			t.Errorf("cursor of another connection: %v", err)
		}
		wantCode(t, second(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "keeper", Cursor: cur})), codes.InvalidArgument)
		wantCode(t, second(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "Buddy", Cursor: cur})), codes.InvalidArgument)
		sp := must(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "u", PageSize: 2}))(t)
		if sp.GetNextCursor() == "" {
			t.Fatalf("search: no cursor: %v", sp)
		}
		wantCode(t, second(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "Luna", Cursor: sp.GetNextCursor()})), codes.InvalidArgument)
		must(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "u", PageSize: 2, Cursor: sp.GetNextCursor()}))(t)
		if n := f.RequestCount(routeSearch); n == 0 {
			t.Errorf("no search reached the fake")
		}
	})
}

func TestSearchRecords(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 25)
		c := e.client(t, tr)
		names := func(items []*crmv1.Record) []string {
			var out []string
			for _, r := range items {
				out = append(out, str(recordProps(r)["name"]))
			}
			return out
		}
		r := must(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "Buddy"}))(t)
		if got := names(r.GetItems()); !reflect.DeepEqual(got, []string{"Buddy 0", "Buddy 10", "Buddy 20"}) || r.GetTotal() != 3 || r.GetHasNextPage() {
			t.Errorf("search Buddy = %v total %d has_next %v", got, r.GetTotal(), r.GetHasNextPage())
		}
		r = must(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "name:luna"}))(t)
		if got := names(r.GetItems()); !reflect.DeepEqual(got, []string{"Luna 1", "Luna 11", "Luna 21"}) {
			t.Errorf("search name:luna = %v", got)
		}
		r = must(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "owner7@example.com"}))(t)
		if got := names(r.GetItems()); len(got) != 1 {
			t.Errorf("search by email = %v", got)
		}
		r = must(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "zzz-nothing"}))(t)
		if len(r.GetItems()) != 0 || r.GetTotal() != 0 || r.GetHasNextPage() {
			t.Errorf("search without match = %v", r)
		}
		r = must(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet"}))(t)
		if len(r.GetItems()) != 25 || r.GetTotal() != 25 {
			t.Errorf("empty query: %d items, total %d", len(r.GetItems()), r.GetTotal())
		}
		// Paging a search.
		var got []string
		cursor := ""
		for i := 0; i < 10; i++ {
			pg := must(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "Buddy", PageSize: 2, Cursor: cursor}))(t)
			got = append(got, names(pg.GetItems())...)
			if pg.GetTotal() != 3 {
				t.Errorf("page %d: total %d", i, pg.GetTotal())
			}
			if !pg.GetHasNextPage() {
				break
			}
			cursor = pg.GetNextCursor()
		}
		if !reflect.DeepEqual(got, []string{"Buddy 0", "Buddy 10", "Buddy 20"}) {
			t.Errorf("paged search = %v", got)
		}
		err := wantCode(t, second(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: strings.Repeat("x", 1001)})), codes.InvalidArgument)
		if !err.hasField("query") {
			t.Errorf("long query: %v", err)
		}
		wantCode(t, second(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", PageSize: -5})), codes.InvalidArgument)
		wantCode(t, second(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "nosuch", Query: "x"})), codes.NotFound)
	})
}

// TestValidationBeforeProvider checks that bad record input is refused by
// the gateway, naming the property, without any record write reaching GHL.
func TestValidationBeforeProvider(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 1)
	existing := must(e.client(t, GRPC).ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet"}))(t).GetItems()[0].GetId()
	cases := []struct {
		name  string
		props map[string]any
		field string
	}{
		{"unknown property", map[string]any{"colour": "brown"}, "record.properties.colour"},
		{"string for number", map[string]any{"age": "three"}, "record.properties.age"},
		{"number for text", map[string]any{"notes": 12}, "record.properties.notes"},
		{"bad option", map[string]any{"species": "fish"}, "record.properties.species"},
		{"option as array", map[string]any{"species": []any{"dog"}}, "record.properties.species"},
		{"bad multi option", map[string]any{"tags": []any{"friendly", "grumpy"}}, "record.properties.tags"},
		{"multi as string", map[string]any{"vaccinated": "rabies"}, "record.properties.vaccinated"},
		{"bad date", map[string]any{"birthday": "2020-13-45"}, "record.properties.birthday"},
		{"date-time for date", map[string]any{"birthday": "15/06/2021"}, "record.properties.birthday"},
		{"bad email", map[string]any{"email": "not-an-email"}, "record.properties.email"},
		{"currency as number", map[string]any{"price": 12}, "record.properties.price"},
		{"currency extra key", map[string]any{"price": map[string]any{"value": 1, "amount": 2}}, "record.properties.price"},
		{"bool for text", map[string]any{"name": true}, "record.properties.name"},
	}
	for _, tc := range cases {
		for _, tr := range transports {
			t.Run(tc.name+"/"+tr, func(t *testing.T) {
				c := e.client(t, tr)
				props := map[string]any{"name": "Valid"}
				for k, v := range tc.props {
					props[k] = v
				}
				err := wantCode(t, second(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, props)}})), codes.InvalidArgument)
				if !err.hasField(tc.field) || err.origin != "gateway" {
					t.Errorf("create: %v, want a gateway violation of %s", err, tc.field)
				}
				if err.httpStatus != 0 && err.httpStatus != 400 {
					t.Errorf("create: HTTP %d", err.httpStatus)
				}
				err = wantCode(t, second(c.UpdateRecord(&crmv1.UpdateRecordRequest{ObjectName: "pet", Id: existing, Record: &crmv1.RecordInput{Properties: st(t, tc.props)}})), codes.InvalidArgument)
				if !err.hasField(tc.field) || err.origin != "gateway" {
					t.Errorf("update: %v, want a gateway violation of %s", err, tc.field)
				}
			})
		}
	}
	t.Run("several at once", func(t *testing.T) {
		err := wantCode(t, second(e.client(t, REST).CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
			Properties: st(t, map[string]any{"name": "x", "age": "old", "species": "fish", "bogus": 1}),
		}})), codes.InvalidArgument)
		for _, f := range []string{"record.properties.age", "record.properties.species", "record.properties.bogus"} {
			if !err.hasField(f) {
				t.Errorf("violations %v lack %s", err.fields(), f)
			}
		}
	})
	t.Run("bad owner id", func(t *testing.T) {
		err := wantCode(t, second(e.client(t, GRPC).CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
			Properties: st(t, map[string]any{"name": "x"}), OwnerIds: []string{"bad id"},
		}})), codes.InvalidArgument)
		if !err.hasField("record.owner_ids") {
			t.Errorf("violations %v", err.fields())
		}
	})
	t.Run("too many owners", func(t *testing.T) {
		// GHL allows one owner; the adapter checks it before calling GHL.
		err := wantCode(t, second(e.client(t, GRPC).CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
			Properties: st(t, map[string]any{"name": "x"}), OwnerIds: []string{"user1", "user2"},
		}})), codes.InvalidArgument)
		if !err.hasField("record.owner_ids") {
			t.Errorf("violations %v, want record.owner_ids", err.violations)
		}
	})
	if n := e.f.RequestCount(routeCreateRecord); n != 0 {
		t.Errorf("the fake got %d record-create calls for invalid records, want 0", n)
	}
	if n := e.f.RequestCount(routeUpdateRecord); n != 0 {
		t.Errorf("the fake got %d record-update calls for invalid records, want 0", n)
	}
}

// TestRecordOwnersAndFollowers: owners and followers round-trip; on update
// an empty list leaves them unchanged (crm.proto RecordInput).
func TestRecordOwnersAndFollowers(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 0)
		c := e.client(t, tr)
		rec := must(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
			Properties: st(t, map[string]any{"name": "Owned"}), OwnerIds: []string{"user1"}, FollowerIds: []string{"f1", "f2"},
		}}))(t).GetRecord()
		if !slices.Equal(rec.GetOwnerIds(), []string{"user1"}) || !slices.Equal(rec.GetFollowerIds(), []string{"f1", "f2"}) {
			t.Errorf("created = owners %v followers %v", rec.GetOwnerIds(), rec.GetFollowerIds())
		}
		up := must(c.UpdateRecord(&crmv1.UpdateRecordRequest{ObjectName: "pet", Id: rec.GetId(), Record: &crmv1.RecordInput{
			Properties: st(t, map[string]any{"age": 2}), OwnerIds: []string{}, FollowerIds: []string{},
		}}))(t).GetRecord()
		if !slices.Equal(up.GetOwnerIds(), []string{"user1"}) || !slices.Equal(up.GetFollowerIds(), []string{"f1", "f2"}) {
			t.Errorf("after an update with empty lists = owners %v followers %v, want unchanged", up.GetOwnerIds(), up.GetFollowerIds())
		}
		up = must(c.UpdateRecord(&crmv1.UpdateRecordRequest{ObjectName: "pet", Id: rec.GetId(), Record: &crmv1.RecordInput{OwnerIds: []string{"user2"}}}))(t).GetRecord()
		if !slices.Equal(up.GetOwnerIds(), []string{"user2"}) || recordProps(up)["age"] != 2.0 {
			t.Errorf("after replacing the owner = %v", up)
		}
	})
	t.Run("REST empty lists", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, gwOptions{}, 0)
		h := hdr(e.tn.key, e.tn.connID)
		r := e.g.do(t, "POST", crmBase+"/custom_objects/pet", h, map[string]any{"record": map[string]any{"properties": map[string]any{"name": "Owned"}, "owner_ids": []string{"user1"}}})
		id := str(at(r.body, "record", "id"))
		r = e.g.do(t, "PATCH", crmBase+"/custom_objects/pet/"+id, h, map[string]any{"record": map[string]any{"properties": map[string]any{"age": 1}, "owner_ids": []string{}}})
		if r.status != 200 || len(arr(at(r.body, "record", "owner_ids"))) != 1 {
			t.Errorf("PATCH with owner_ids [] = %d %s, want owners unchanged", r.status, r.raw)
		}
	})
}

// TestConcurrentCalls drives one gateway from many goroutines over both
// transports (for the race detector and the SQLite store's locking).
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 20)
	const workers, each = 8, 6
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*4)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client(t, transports[w%2])
			for i := range each {
				r, err := c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{
					Properties: st(t, map[string]any{"name": fmt.Sprintf("W%d-%d", w, i), "age": i}),
				}})
				if err != nil {
					errs <- err
					continue
				}
				if _, err := c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: r.GetRecord().GetId()}); err != nil {
					errs <- err
				}
				if _, err := c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 10}); err != nil {
					errs <- err
				}
				if _, err := c.GetObject(&crmv1.GetObjectRequest{ObjectName: "pet"}); err != nil {
					errs <- err
				}
				if _, err := c.ListConnections(&corev1.ListConnectionsRequest{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
	if n := e.f.RecordCount(e.tn.location, "custom_objects.pet"); n != 20+workers*each {
		t.Errorf("the fake holds %d pets, want %d", n, 20+workers*each)
	}
}

// TestListedRecordsMatchGet: a page's records (whose properties the
// gateway writes straight from GHL's JSON into wire form for gRPC, and
// hands to the REST encoder as that JSON) decode, over both transports,
// to exactly the records GetRecord answers, with and without raw data,
// through list and search.
func TestListedRecordsMatchGet(t *testing.T) {
	t.Parallel()
	forEachTransport(t, func(t *testing.T, tr string) {
		e := newEnv(t, gwOptions{}, 0)
		c := e.client(t, tr)
		odd := fullPet()
		odd["name"] = "Zoë \"quoted\" \\ back\tslash 😀 \u2028"
		odd["notes"] = strings.Repeat("long notes ", 40)
		odd["age"] = 1e21
		odd["price"] = map[string]any{"currency": "default", "value": 0.1}
		plain := map[string]any{"name": "Bare"}
		for _, props := range []map[string]any{fullPet(), odd, plain} {
			must(c.CreateRecord(&crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: st(t, props)}}))(t)
		}
		for _, raw := range []bool{false, true} {
			page := must(c.ListRecords(&crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 10, IncludeRawData: raw}))(t).GetItems()
			found := must(c.SearchRecords(&crmv1.SearchRecordsRequest{ObjectName: "pet", Query: "Zoë", IncludeRawData: raw}))(t).GetItems()
			if len(page) != 3 || len(found) != 1 {
				t.Fatalf("raw %v: listed %d records, found %d", raw, len(page), len(found))
			}
			for _, r := range append(page, found...) {
				got := must(c.GetRecord(&crmv1.GetRecordRequest{ObjectName: "pet", Id: r.GetId(), IncludeRawData: raw}))(t).GetRecord()
				// GHL's list and get answers differ in their raw records
				// (searchAfter; dateAdded, dateUpdated): compare the rest.
				if raw && (r.GetRawData().GetFields()["id"].GetStringValue() != r.GetId() || got.GetRawData() == nil) {
					t.Errorf("raw data: listed %v, get %v", r.GetRawData(), got.GetRawData())
				}
				r, got = proto.CloneOf(r), proto.CloneOf(got)
				r.RawData, got.RawData = nil, nil
				if !proto.Equal(r, got) {
					t.Errorf("raw %v: listed\n%v\nget\n%v", raw, r, got)
				}
				if len(r.GetProperties().GetFields()) == 0 {
					t.Errorf("raw %v: record %s listed without properties", raw, r.GetId())
				}
			}
		}
	})
}
