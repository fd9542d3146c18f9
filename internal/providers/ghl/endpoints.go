package ghl

import "github.com/crmgate/crmgate/internal/upstream"

// Endpoints is the table of HighLevel routes the adapter calls, as
// http.ServeMux patterns named the way HighLevel's specs name them. The
// provider transport labels each call's metrics and spans with the
// matching template (upstream.Endpoints), never with the raw path and its
// ids; a path matching none is "other".
var Endpoints = []string{
	"GET /objects/{$}",
	"POST /objects/{$}",
	"GET /objects/{key}",
	"PUT /objects/{key}",
	"POST /objects/{schemaKey}/records",
	"POST /objects/{schemaKey}/records/search",
	"GET /objects/{schemaKey}/records/{id}",
	"PUT /objects/{schemaKey}/records/{id}",
	"DELETE /objects/{schemaKey}/records/{id}",

	"GET /custom-fields/object-key/{objectKey}",
	"POST /custom-fields/{$}",
	"GET /custom-fields/{id}",
	"PUT /custom-fields/{id}",
	"DELETE /custom-fields/{id}",
	"POST /custom-fields/folder",
	"PUT /custom-fields/folder/{id}",
	"DELETE /custom-fields/folder/{id}",

	"GET /associations/{$}",
	"POST /associations/{$}",
	"GET /associations/key/{key_name}",
	"GET /associations/objectKey/{objectKey}",
	"GET /associations/{associationId}",
	"PUT /associations/{associationId}",
	"DELETE /associations/{associationId}",
	"POST /associations/relations",
	"GET /associations/relations/{recordId}",
	"DELETE /associations/relations/{relationId}",

	"POST /contacts/{$}",
	"POST /contacts/search",
	"GET /contacts/{contactId}",
	"PUT /contacts/{contactId}",
	"DELETE /contacts/{contactId}",

	"GET /businesses/{$}",
	"POST /businesses/{$}",
	"GET /businesses/{businessId}",
	"PUT /businesses/{businessId}",
	"DELETE /businesses/{businessId}",
	"GET /opportunities/search",
	"GET /opportunities/pipelines",
	"POST /opportunities/{$}",
	"GET /opportunities/{id}",
	"PUT /opportunities/{id}",
	"DELETE /opportunities/{id}",

	"POST /oauth/token",
	"POST /oauth/locationToken",
}

// Routes returns Endpoints as a route table.
func Routes() *upstream.Routes { return upstream.NewRoutes(Endpoints...) }
