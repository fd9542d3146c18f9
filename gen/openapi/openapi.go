// Package openapi embeds crmgate's OpenAPI 3 document, served at
// GET /openapi.json. It is generated in two steps, both checked for drift
// by scripts/test.sh:
//
//  1. `npx buf generate`: protoc-gen-openapiv2 writes crmgate.swagger.json
//     (Swagger 2.0) from the protos and proto/openapi.yaml;
//  2. `go generate ./gen/openapi`: internal/tools/openapigen converts it to
//     OpenAPI 3 (kin-openapi's openapi2conv) and adds the error responses,
//     headers, servers and examples: crmgate.openapi.json.
//
// crmgate.swagger.json is only the intermediate step; crmgate.openapi.json
// is the document.
package openapi

import _ "embed"

//go:generate go run ../../internal/tools/openapigen -in crmgate.swagger.json -out crmgate.openapi.json

// JSON is the OpenAPI 3 document.
//
//go:embed crmgate.openapi.json
var JSON []byte
