package ghl

import (
	"net/http"
	"slices"
	"testing"
)

// The record calls name their endpoint themselves: each name must be
// what the route table (Endpoints) matches for the call's request.
func TestRecordCallEndpoints(t *testing.T) {
	routes := Routes()
	for _, tc := range []struct{ template, method, path string }{
		{endpointGetRecord, http.MethodGet, recordPath("custom_objects.pet", "6b02d7d9cc77358d7720bda2")},
		{endpointCreateRecord, http.MethodPost, "/objects/custom_objects.pet/records"},
		{endpointUpdateRecord, http.MethodPut, recordPath("custom_objects.pet", "r1") + "?locationId=loc"},
		{endpointSearchRecords, http.MethodPost, "/objects/custom_objects.pet/records/search"},
	} {
		if !slices.Contains(Endpoints, tc.template) {
			t.Errorf("%s is not in Endpoints", tc.template)
		}
		req, err := http.NewRequest(tc.method, "https://services.leadconnectorhq.com"+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := routes.Match(req); got != tc.template {
			t.Errorf("%s %s matches %q, the call names %q", tc.method, tc.path, got, tc.template)
		}
	}
}
