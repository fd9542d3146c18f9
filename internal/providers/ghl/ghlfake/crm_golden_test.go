package ghlfake

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json from the fake's answers")

// TestCRMGolden pins one answer of each CRM endpoint (on SeedCRM's
// deterministic entities) to testdata/crm_*.golden.json.
func TestCRMGolden(t *testing.T) {
	e := newEnv(t, Options{})
	seed := e.fake.SeedCRM(testLoc)
	c0 := seed.Contacts[0]
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"contact_get", "GET", "/contacts/" + c0, nil, 200},
		{"contact_search", "POST", "/contacts/search", map[string]any{"locationId": testLoc, "pageLimit": 2}, 200},
		{"contact_list", "GET", "/contacts/?locationId=" + testLoc + "&limit=1", nil, 200},
		{"contact_notes", "GET", "/contacts/" + c0 + "/notes", nil, 200},
		{"contact_note_get", "GET", "/contacts/" + c0 + "/notes/" + seed.Notes[c0][0], nil, 200},
		{"contact_not_found", "GET", "/contacts/nobody", nil, 404},
		{"contact_duplicate", "POST", "/contacts/", map[string]any{"locationId": testLoc, "phone": "+15550300001"}, 400},
		{"contact_invalid", "POST", "/contacts/", map[string]any{"locationId": testLoc, "email": "x", "type": "vip"}, 422},
		{"opportunity_get", "GET", "/opportunities/" + seed.Opportunities[0], nil, 200},
		{"opportunity_search", "GET", "/opportunities/search?location_id=" + testLoc + "&limit=1&status=won", nil, 200},
		{"opportunity_pipelines", "GET", "/opportunities/pipelines?locationId=" + testLoc, nil, 200},
		{"business_get", "GET", "/businesses/" + seed.Businesses[0], nil, 200},
		{"business_list", "GET", "/businesses/?locationId=" + testLoc + "&limit=1", nil, 200},
		{"user_list", "GET", "/users/?locationId=" + testLoc, nil, 200},
		{"user_get", "GET", "/users/" + seed.Users[1], nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(tc.method, tc.path, tc.body)
			got := r.must(t, tc.status)
			raw, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			raw = append(bytes.ReplaceAll(raw, []byte(e.srv.Listener.Addr().String()), []byte("HOST")), '\n')
			path := filepath.Join("testdata", "crm_"+tc.name+".golden.json")
			if *updateGolden {
				if err := os.MkdirAll("testdata", 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, raw, 0o600); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path) //nolint:gosec // a fixed testdata path
			if err != nil {
				t.Fatalf("%v (run go test -run TestCRMGolden -update)", err)
			}
			if !bytes.Equal(raw, want) {
				t.Fatalf("answer differs from %s:\n%s", path, raw)
			}
		})
	}
}
