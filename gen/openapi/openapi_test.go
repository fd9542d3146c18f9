package openapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSecurity: clients generated from the document must send the headers
// the gateway needs — x-apikey everywhere, x-connection-id on every unified
// CRM route (proto/openapi.yaml lists those per method; a new CrmService
// method needs its entry there).
func TestSecurity(t *testing.T) {
	var doc struct {
		SecurityDefinitions map[string]struct {
			Type, Name, In string
		} `json:"securityDefinitions"`
		Security []map[string][]string `json:"security"`
		Paths    map[string]map[string]struct {
			OperationID string                `json:"operationId"`
			Security    []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(JSON, &doc); err != nil {
		t.Fatal(err)
	}
	for name, header := range map[string]string{"ApiKey": "x-apikey", "ConnectionId": "x-connection-id"} {
		d := doc.SecurityDefinitions[name]
		if d.Type != "apiKey" || d.In != "header" || d.Name != header {
			t.Errorf("securityDefinitions.%s = %+v, want apiKey in header %s", name, d, header)
		}
	}
	if len(doc.Security) != 1 || doc.Security[0]["ApiKey"] == nil || len(doc.Security[0]) != 1 {
		t.Errorf("top-level security = %v, want [{ApiKey}]", doc.Security)
	}
	n := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			sec := op.Security
			if sec == nil {
				sec = doc.Security
			}
			needsConn := strings.HasPrefix(path, "/v0/unified/")
			ok := len(sec) == 1 && sec[0]["ApiKey"] != nil && (sec[0]["ConnectionId"] != nil) == needsConn
			if !ok {
				t.Errorf("%s %s (%s): security %v; want ApiKey%s", method, path, op.OperationID, sec,
					map[bool]string{true: " and ConnectionId (add the method to proto/openapi.yaml)", false: " only"}[needsConn])
			}
			n++
		}
	}
	if n < 30 {
		t.Errorf("only %d operations in the document", n)
	}
}
