package ghl_test

import (
	"net/http/httptest"
	"testing"

	"github.com/crmgate/crmgate/internal/providers/ghl"
	"github.com/crmgate/crmgate/internal/upstream"
)

// TestEndpointsName: the paths the adapter sends get their template (ids
// left out); unknown paths are "other".
func TestEndpointsName(t *testing.T) {
	routes := ghl.Routes() // panics on a bad or conflicting pattern
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/objects/?locationId=loc1", "GET /objects/"},
		{"POST", "/objects/", "POST /objects/"},
		{"GET", "/objects/custom_objects.pet?locationId=loc1", "GET /objects/{key}"},
		{"POST", "/objects/custom_objects.pet/records", "POST /objects/{schemaKey}/records"},
		{"POST", "/objects/custom_objects.pet/records/search", "POST /objects/{schemaKey}/records/search"},
		{"GET", "/objects/custom_objects.pet/records/66a1b2c3d4", "GET /objects/{schemaKey}/records/{id}"},
		{"PUT", "/objects/custom_objects.pet/records/66a1b2c3d4", "PUT /objects/{schemaKey}/records/{id}"},
		{"DELETE", "/objects/custom_objects.pet/records/66a1b2c3d4", "DELETE /objects/{schemaKey}/records/{id}"},
		{"GET", "/custom-fields/object-key/custom_objects.pet", "GET /custom-fields/object-key/{objectKey}"},
		{"POST", "/custom-fields/", "POST /custom-fields/"},
		{"PUT", "/custom-fields/fld123", "PUT /custom-fields/{id}"},
		{"POST", "/custom-fields/folder", "POST /custom-fields/folder"},
		{"GET", "/associations/?locationId=l", "GET /associations/"},
		{"POST", "/associations/relations", "POST /associations/relations"},
		{"GET", "/associations/relations/rec1", "GET /associations/relations/{recordId}"},
		{"DELETE", "/associations/relations/rel1", "DELETE /associations/relations/{relationId}"},
		{"POST", "/oauth/token", "POST /oauth/token"},
		{"POST", "/contacts/", "POST /contacts/"},
		{"POST", "/contacts/search", "POST /contacts/search"},
		{"GET", "/contacts/abc", "GET /contacts/{contactId}"},
		{"PUT", "/contacts/abc", "PUT /contacts/{contactId}"},
		{"DELETE", "/contacts/abc", "DELETE /contacts/{contactId}"},
		{"GET", "/businesses/?locationId=l&limit=6", "GET /businesses/"},
		{"POST", "/businesses/", "POST /businesses/"},
		{"GET", "/businesses/63771dcac1116f0e21de8e12", "GET /businesses/{businessId}"},
		{"PUT", "/businesses/63771dcac1116f0e21de8e12", "PUT /businesses/{businessId}"},
		{"DELETE", "/businesses/63771dcac1116f0e21de8e12", "DELETE /businesses/{businessId}"},
		{"GET", "/contacts/abc/tasks", upstream.OtherEndpoint},
		{"GET", "/opportunities/search", "GET /opportunities/search"},
		{"GET", "/opportunities/pipelines", "GET /opportunities/pipelines"},
		{"POST", "/opportunities/", "POST /opportunities/"},
		{"GET", "/opportunities/op1", "GET /opportunities/{id}"},
		{"PUT", "/opportunities/op1", "PUT /opportunities/{id}"},
		{"DELETE", "/opportunities/op1", "DELETE /opportunities/{id}"},
		{"PATCH", "/objects/x", upstream.OtherEndpoint},
	} {
		req := httptest.NewRequest(tc.method, "https://services.example"+tc.path, nil)
		if got := routes.Match(req); got != tc.want {
			t.Errorf("%s %s = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}
