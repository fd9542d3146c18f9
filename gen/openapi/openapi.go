// Package openapi embeds the OpenAPI (Swagger 2.0) document that buf
// generates from the protos next to this file.
package openapi

import _ "embed"

// JSON is the generated OpenAPI document.
//
//go:embed crmgate.swagger.json
var JSON []byte
