package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// normalise replaces volatile values (ids, timestamps) of a REST answer
// with placeholders and re-indents it, so that golden files compare shapes
// and stable values only. protojson's randomised spacing goes with it.
func normalise(t testing.TB, raw []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, raw)
	}
	v = normaliseValue(v, "")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func normaliseValue(v any, parent string) any {
	switch x := v.(type) {
	case map[string]any:
		_, isRecord := x["object_name"]
		for k, e := range x {
			switch {
			case k == "created_at" || k == "updated_at":
				if e != nil {
					x[k] = "<timestamp>"
				}
			case k == "id" && isRecord:
				x[k] = "<record-id>"
			case parent == "raw_details" && (k == "id" || k == "parentId"):
				x[k] = "<ghl-id>"
			default:
				x[k] = normaliseValue(e, k)
			}
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normaliseValue(e, parent)
		}
		return x
	}
	return v
}

// golden compares got (normalised) with testdata/name.golden.json, or
// rewrites the file under -update.
func golden(t testing.TB, name string, raw []byte) {
	t.Helper()
	got := normalise(t, raw)
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil { //nolint:gosec // test data
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/e2e -run TestGolden -args -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -args -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gwOptions{}, 0)
	h := hdr(e.tn.key, e.tn.connID)
	get := func(method, path string, body any, status int) []byte {
		t.Helper()
		r := e.g.do(t, method, path, h, body)
		if r.status != status {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.raw, status)
		}
		return r.raw
	}

	golden(t, "object_pet", get("GET", crmBase+"/metadata/objects/pet", nil, 200))
	golden(t, "properties_pet", get("GET", crmBase+"/metadata/objects/pet/properties", nil, 200))
	created := get("POST", crmBase+"/custom_objects/pet", map[string]any{"record": map[string]any{"properties": fullPet()}}, 200)
	golden(t, "record_create", created)
	var cr struct {
		Record struct {
			ID string `json:"id"`
		} `json:"record"`
	}
	if err := json.Unmarshal(created, &cr); err != nil {
		t.Fatal(err)
	}
	golden(t, "record_get", get("GET", crmBase+"/custom_objects/pet/"+cr.Record.ID, nil, 200))
	golden(t, "error_validation", get("POST", crmBase+"/custom_objects/pet", map[string]any{"record": map[string]any{"properties": map[string]any{
		"name": "x", "age": "old", "species": "fish", "bogus": 1,
	}}}, 400))
	golden(t, "error_connection_not_found", e.g.do(t, "GET", crmBase+"/metadata/objects", hdr(e.tn.key, "conn_ghl_nosuch"), nil).raw)
	golden(t, "error_provider_not_found", get("GET", crmBase+"/custom_objects/pet/000000000000000000000000", nil, 404))
}
