package ghlfake

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestVersionAndAuth(t *testing.T) {
	e := newEnv(t, Options{})
	path := "/objects/?locationId=" + testLoc
	invalidToken := map[string]any{"statusCode": 401, "message": "Invalid token: access token is invalid", "error": "Unauthorized"}
	tests := []struct {
		name    string
		headers map[string]string
		status  int
		want    map[string]any
	}{
		{"no version", map[string]string{"Authorization": "Bearer " + testToken}, 401,
			map[string]any{"statusCode": 401, "message": "version header was not found."}},
		{"unpublished version", map[string]string{"Authorization": "Bearer " + testToken, "Version": "2020-01-01"}, 401,
			map[string]any{"statusCode": 401, "message": "version header is invalid"}},
		{"no token", map[string]string{"Version": testVersion}, 401, invalidToken},
		{"unknown token", map[string]string{"Version": testVersion, "Authorization": "Bearer nope"}, 401, invalidToken},
		{"not bearer", map[string]string{"Version": testVersion, "Authorization": "Basic " + testToken}, 401, invalidToken},
		{"empty bearer", map[string]string{"Version": testVersion, "Authorization": "Bearer "}, 401, invalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.callWith(http.MethodGet, path, nil, tc.headers).wantError(t, tc.status, tc.want)
		})
	}
	for _, v := range []string{"2021-07-28", "2021-04-15", "2023-02-21", "v3"} {
		t.Run("version "+v, func(t *testing.T) {
			e.callWith(http.MethodGet, path, nil, map[string]string{"Authorization": "bearer " + testToken, "Version": v}).must(t, 200)
		})
	}

	t.Run("revoked token", func(t *testing.T) {
		e.fake.AddToken("temp", testLoc)
		h := map[string]string{"Authorization": "Bearer temp", "Version": testVersion}
		e.callWith(http.MethodGet, path, nil, h).must(t, 200)
		e.fake.RevokeToken("temp")
		e.callWith(http.MethodGet, path, nil, h).wantError(t, 401, invalidToken)
	})
}

func TestLocationChecks(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.SeedDemo(testLoc, 1)
	missing := map[string]any{"statusCode": 422, "message": []any{"locationId should not be empty"}, "error": "Unprocessable Entity"}
	forbidden := map[string]any{"statusCode": 403, "message": "The token does not have access to this location."}
	tests := []struct {
		name         string
		method, path string
		body         any
		status       int
		want         map[string]any
	}{
		{"list objects, query missing", "GET", "/objects/", nil, 422, missing},
		{"list objects, other location", "GET", "/objects/?locationId=" + otherLoc, nil, 403, forbidden},
		{"get object, query missing", "GET", "/objects/contact", nil, 422, missing},
		{"create object, body missing", "POST", "/objects/", map[string]any{"key": "x"}, 422, missing},
		{"create object, other location", "POST", "/objects/", map[string]any{"locationId": otherLoc}, 403, forbidden},
		{"create record, body missing", "POST", "/objects/custom_objects.pet/records", map[string]any{"properties": map[string]any{}}, 422, missing},
		{"update record, query missing", "PUT", "/objects/custom_objects.pet/records/x", map[string]any{}, 422, missing},
		{"search, body missing", "POST", "/objects/custom_objects.pet/records/search", map[string]any{"page": 1}, 422, missing},
		{"search, other location", "POST", "/objects/custom_objects.pet/records/search", map[string]any{"locationId": otherLoc}, 403, forbidden},
		{"fields list, query missing", "GET", "/custom-fields/object-key/custom_objects.pet", nil, 422, missing},
		{"create field, other location", "POST", "/custom-fields/", map[string]any{"locationId": otherLoc}, 403, forbidden},
		{"update field, body missing", "PUT", "/custom-fields/abc", map[string]any{"name": "x"}, 422, missing},
		{"associations list, query missing", "GET", "/associations/", nil, 422, missing},
		{"association by key, other location", "GET", "/associations/key/k?locationId=" + otherLoc, nil, 403, forbidden},
		{"create relation, body missing", "POST", "/associations/relations", map[string]any{}, 422, missing},
		{"relations list, query missing", "GET", "/associations/relations/abc", nil, 422, missing},
		{"delete relation, query missing", "DELETE", "/associations/relations/abc", nil, 422, missing},
		{"delete folder, query missing", "DELETE", "/custom-fields/folder/abc", nil, 422, missing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.call(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.want)
		})
	}
}

func TestMalformedAndUnknownRoutes(t *testing.T) {
	e := newEnv(t, Options{})
	e.call("POST", "/objects/", `{"locationId": `).wantStatus(t, 400, "JSON")
	e.call("POST", "/associations/", `[1,2]`).wantStatus(t, 400, "JSON")
	e.call("POST", "/objects/", `{"locationId": 5}`).wantError(t, 422,
		map[string]any{"statusCode": 422, "message": []any{"locationId must be a string"}, "error": "Unprocessable Entity"})
	e.call("POST", "/objects/", `{"locationId": "`+testLoc+`", "labels": "Pet"}`).wantStatus(t, 422, "labels must be an object")
	e.call("POST", "/objects/custom_objects.pet/records/search", `{"locationId": "`+testLoc+`"} {}`).wantStatus(t, 400, "Unexpected")
	e.call("GET", "/nope", nil).wantError(t, 404, map[string]any{"message": "Cannot GET /nope", "error": "Not Found", "statusCode": 404})
	e.call("DELETE", "/objects/contact", nil).wantError(t, 404, map[string]any{"message": "Cannot DELETE /objects/contact", "error": "Not Found", "statusCode": 404})
	// A trailing slash is optional.
	e.call("GET", "/objects?locationId="+testLoc, nil).must(t, 200)
	e.call("GET", "/objects/contact/?locationId="+testLoc, nil).must(t, 200)
}

func TestRequestCounts(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.SeedDemo(testLoc, 3)
	e.call("GET", "/objects/?locationId="+testLoc, nil).must(t, 200)
	e.call("GET", "/objects/contact?locationId="+testLoc, nil).must(t, 200)
	e.call("GET", "/objects/business?locationId="+testLoc, nil).must(t, 200)
	e.call("POST", "/objects/custom_objects.pet/records/search", map[string]any{"locationId": testLoc, "page": 1, "pageLimit": 10}).must(t, 200)
	e.callWith("GET", "/objects/contact", nil, nil).must(t, 401) // counted too
	e.call("GET", "/unknown", nil).must(t, 404)

	for route, want := range map[string]int{
		"GET /objects/":                            1,
		"GET /objects/{key}":                       3,
		"POST /objects/{schemaKey}/records/search": 1,
		"POST /objects/{schemaKey}/records":        0,
	} {
		if got := e.fake.RequestCount(route); got != want {
			t.Errorf("RequestCount(%q) = %d, want %d", route, got, want)
		}
	}
	if got := e.fake.TotalRequests(); got != 6 {
		t.Errorf("TotalRequests = %d, want 6", got)
	}
	e.fake.ResetCounts()
	if e.fake.TotalRequests() != 0 || e.fake.RequestCount("GET /objects/{key}") != 0 {
		t.Error("ResetCounts did not reset")
	}
	if got := e.fake.RecordCount(testLoc, DemoObjectKey); got != 3 {
		t.Errorf("RecordCount = %d, want 3", got)
	}
	if got := e.fake.RecordCount("nowhere", DemoObjectKey); got != 0 {
		t.Errorf("RecordCount of unknown location = %d", got)
	}
}

func headerInt(t *testing.T, r resp, name string) int {
	t.Helper()
	v := r.header.Get(name)
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("header %s = %q: %v", name, v, err)
	}
	return n
}

func TestRateLimitBurst(t *testing.T) {
	e := newEnv(t, Options{BurstLimit: 100}) // HighLevel's default, explicitly
	path := "/objects/?locationId=" + testLoc
	for i := range 100 {
		r := e.call("GET", path, nil)
		r.must(t, 200)
		if got := headerInt(t, r, HeaderRateLimitRemaining); got != 99-i {
			t.Fatalf("request %d: remaining %d, want %d", i, got, 99-i)
		}
		if headerInt(t, r, HeaderRateLimitMax) != 100 || headerInt(t, r, HeaderRateLimitInterval) != 10000 ||
			headerInt(t, r, HeaderRateLimitDaily) != 200000 || headerInt(t, r, HeaderRateLimitDailyRemaining) != 200000-1-i {
			t.Fatalf("request %d: headers %v", i, r.header)
		}
		e.clock.Advance(10 * time.Millisecond) // 100 requests span 1 s
	}
	r := e.call("GET", path, nil)
	r.wantError(t, 429, map[string]any{"statusCode": 429, "message": "Too Many Requests"})
	if headerInt(t, r, HeaderRateLimitRemaining) != 0 || headerInt(t, r, HeaderRateLimitDailyRemaining) != 199900 {
		t.Fatalf("429 headers %v", r.header)
	}

	// The other location has its own budget.
	e.callWith("GET", "/objects/?locationId="+otherLoc, nil, map[string]string{"Authorization": "Bearer " + otherToken, "Version": testVersion}).must(t, 200)

	// The window slides: 9 s after the first request it is still full; just
	// past 10 s the first request leaves it and one more is admitted.
	e.clock.Advance(8*time.Second + 990*time.Millisecond) // now = first + 9.99 s
	e.call("GET", path, nil).must(t, 429)
	e.clock.Advance(15 * time.Millisecond) // first + 10.005 s: only the first left
	r = e.call("GET", path, nil)
	r.must(t, 200)
	if got := headerInt(t, r, HeaderRateLimitRemaining); got != 0 {
		t.Fatalf("remaining %d, want 0", got)
	}
	e.call("GET", path, nil).must(t, 429)
	e.clock.Advance(10 * time.Second)
	e.call("GET", path, nil).must(t, 200)
}

func TestRateLimitDailyAndDisabled(t *testing.T) {
	e := newEnv(t, Options{BurstLimit: -1, DailyLimit: 3})
	path := "/objects/?locationId=" + testLoc
	for range 3 {
		e.call("GET", path, nil).must(t, 200)
	}
	r := e.call("GET", path, nil)
	r.must(t, 429)
	if headerInt(t, r, HeaderRateLimitDailyRemaining) != 0 || headerInt(t, r, HeaderRateLimitDaily) != 3 {
		t.Fatalf("daily 429 headers %v", r.header)
	}
	if headerInt(t, r, HeaderRateLimitRemaining) != UnlimitedBurst || headerInt(t, r, HeaderRateLimitMax) != UnlimitedBurst {
		t.Fatalf("disabled burst limit should report a full window: %v", r.header)
	}
	e.clock.Advance(24 * time.Hour)
	e.call("GET", path, nil).must(t, 200)

	// 401s carry the headers too and use no budget.
	r = e.callWith("GET", path, nil, map[string]string{"Version": testVersion})
	r.must(t, 401)
	if r.header.Get(HeaderRateLimitMax) == "" {
		t.Fatalf("401 without rate-limit headers: %v", r.header)
	}
}

func TestRateLimitCustomWindow(t *testing.T) {
	e := newEnv(t, Options{BurstLimit: 2, BurstWindow: time.Second})
	path := "/objects/?locationId=" + testLoc
	e.call("GET", path, nil).must(t, 200)
	r := e.call("GET", path, nil)
	r.must(t, 200)
	if headerInt(t, r, HeaderRateLimitInterval) != 1000 || headerInt(t, r, HeaderRateLimitMax) != 2 {
		t.Fatalf("headers %v", r.header)
	}
	e.call("GET", path, nil).must(t, 429)
	e.clock.Advance(time.Second + time.Millisecond)
	e.call("GET", path, nil).must(t, 200)
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, Options{})
	e.fake.SeedDemo(testLoc, 10)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				res := e.call("POST", "/objects/custom_objects.pet/records", map[string]any{
					"locationId": testLoc,
					"properties": map[string]any{"name": "C" + strconv.Itoa(i*100+j)},
				})
				if res.status != 201 {
					t.Errorf("create: %d %s", res.status, res.raw)
				}
				e.call("POST", "/objects/custom_objects.pet/records/search", map[string]any{"locationId": testLoc, "page": 1, "pageLimit": 5})
			}
		}()
	}
	wg.Wait()
	if got := e.fake.RecordCount(testLoc, DemoObjectKey); got != 90 {
		t.Fatalf("RecordCount = %d, want 90", got)
	}
}
