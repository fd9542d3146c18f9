// Command openapigen writes crmgate's OpenAPI 3 document
// (gen/openapi/crmgate.openapi.json) from the Swagger 2.0 document that
// protoc-gen-openapiv2 generates from the protos (buf generate), with
// kin-openapi's openapi2conv, and adds what the protos cannot say: the
// error responses of every operation (one Error schema, generated from
// apierr.Body, with examples produced by apierr itself), the headers
// callers send and get, the servers, and the pagination convention.
//
//	npx buf generate && go generate ./gen/openapi
//
// It fails, writing nothing, on a document kin-openapi finds invalid or
// on an operation it cannot tie to an RPC's google.api.http rule.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/crmgate/crmgate/gen/crmgate/admin/v1"
	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/app"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/idempotency"
	"github.com/crmgate/crmgate/internal/server"
	"github.com/crmgate/crmgate/internal/server/restrules"
	"github.com/crmgate/crmgate/internal/store"
	"github.com/crmgate/crmgate/internal/telemetry"
)

func main() {
	in := flag.String("in", "crmgate.swagger.json", "the Swagger 2.0 document protoc-gen-openapiv2 wrote")
	out := flag.String("out", "crmgate.openapi.json", "the OpenAPI 3 document to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(raw, &doc2); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return fmt.Errorf("converting %s: %w", in, err)
	}
	routes, err := restrules.Routes(crmv1.File_crmgate_crm_v1_crm_proto, corev1.File_crmgate_core_v1_core_proto, adminv1.File_crmgate_admin_v1_admin_proto)
	if err != nil {
		return err
	}
	if err := complete(doc, routes, app.IdempotentMethods()); err != nil {
		return err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	// Validated as a client reads it: loaded, references resolved.
	loaded, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return fmt.Errorf("loading the document: %w", err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		return fmt.Errorf("the document is not valid OpenAPI: %w", err)
	}
	return os.WriteFile(out, append(b, '\n'), 0o644) //nolint:gosec // a committed, public document
}

// Component names.
const (
	errorSchema        = "Error"
	paramRequestID     = "RequestId"
	paramIdempotency   = "IdempotencyKey"
	paramWait          = "Wait"
	headerRequestID    = "RequestId"
	headerRetryAfter   = "RetryAfter"
	crmServicePrefix   = "crmgate.crm.v1.CrmService."
	applicationJSON    = "application/json"
	refComponents      = "#/components/"
	paginationCursor   = "Opaque cursor: the `next_cursor` of the previous page; empty or absent for the first page."
	paginationPageSize = "Items per page, 1 to 100: 0 or absent means 100, larger values are capped at 100."
)

// complete adds to the converted document what the protos do not say.
func complete(doc *openapi3.T, routes []restrules.Route, idempotent []string) error {
	doc.Servers = openapi3.Servers{
		{URL: "/", Description: "The gateway that serves this document (GET /openapi.json)."},
		{URL: "http://localhost:8080", Description: "A gateway run locally with the default GATEWAY_HTTP_ADDR."},
	}
	doc.ExternalDocs = &openapi3.ExternalDocs{Description: "REST conventions: docs/api.md in the crmgate repository.", URL: "https://github.com/crmgate/crmgate/blob/main/docs/api.md"}
	if doc.Components == nil {
		doc.Components = &openapi3.Components{}
	}
	c := doc.Components
	if c.Schemas == nil {
		c.Schemas = openapi3.Schemas{}
	}
	schema, err := errorBodySchema()
	if err != nil {
		return err
	}
	c.Schemas[errorSchema] = schema
	c.Headers = openapi3.Headers{
		headerRequestID: {Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: "The request id, the caller's X-Request-Id when valid or a new one; the gateway's log line of the call carries it.",
			Schema:      openapi3.NewStringSchema().NewRef(),
		}}},
		headerRetryAfter: {Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: "Seconds to wait before retrying (the provider's hint or the gateway's rate-limit budget).",
			Schema:      openapi3.NewIntegerSchema().NewRef(),
		}}},
	}
	c.Parameters = openapi3.ParametersMap{
		paramRequestID: {Value: openapi3.NewHeaderParameter("X-Request-Id").
			WithDescription("Optional id of the call, echoed in the X-Request-Id answer header and the gateway's log; one the gateway cannot use (too long, other characters) is replaced by a new one.").
			WithSchema(openapi3.NewStringSchema().WithMaxLength(telemetry.MaxRequestIDLen).WithPattern(`^[A-Za-z0-9._:/+=@-]+$`))},
		paramIdempotency: {Value: openapi3.NewHeaderParameter("Idempotency-Key").
			WithDescription("Makes the create safe to repeat: a repeat with the same key and request gets the first answer (for 24 hours); the same key with another request is a 422.").
			WithSchema(openapi3.NewStringSchema().WithMinLength(1).WithMaxLength(idempotency.MaxKeyLen))},
		paramWait: {Value: openapi3.NewHeaderParameter(server.HeaderWait).
			WithDescription("How long, in seconds (0 to 3600, fractions allowed), the call may queue for the connection's provider rate-limit budget: 0 fails fast with 429 and Retry-After; another value is a 400.").
			WithSchema(openapi3.NewFloat64Schema().WithMin(0).WithMax(3600))},
	}
	responses, err := errorResponses()
	if err != nil {
		return err
	}
	c.Responses = openapi3.ResponseBodies{}
	for _, r := range responses {
		c.Responses[r.name] = &openapi3.ResponseRef{Value: r.response}
	}

	idem := map[string]bool{}
	for _, m := range idempotent {
		idem[strings.ReplaceAll(strings.TrimPrefix(m, "/"), "/", ".")] = true
	}
	seen := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			i := slices.IndexFunc(routes, func(r restrules.Route) bool { return r.Method == method && r.Template == path })
			if i < 0 {
				return fmt.Errorf("%s %s (%s) is no RPC's google.api.http rule", method, path, op.OperationID)
			}
			seen++
			if err := completeOperation(op, routes[i], idem[routes[i].RPC], responses); err != nil {
				return fmt.Errorf("%s %s: %w", method, path, err)
			}
		}
	}
	if seen != len(routes) {
		return fmt.Errorf("the document has %d operations, the protos %d REST routes", seen, len(routes))
	}
	for name, s := range c.Schemas {
		if name == errorSchema || s.Value == nil {
			continue
		}
		nullableMessages(c.Schemas, s.Value)
		describe(s.Value.Properties, "next_cursor", "Cursor of the next page, for the `cursor` parameter; empty on the last page.")
		describe(s.Value.Properties, "has_next_page", "Whether a next page exists (`next_cursor` is not empty).")
		describe(s.Value.Properties, "cursor", paginationCursor)
		describe(s.Value.Properties, "page_size", paginationPageSize)
	}
	return nil
}

// nullableMessages marks the message-typed fields of s nullable: the REST
// answers write every field, an unset message field as null
// (google.protobuf.Struct, Timestamp and crmgate's own messages alike).
// A reference is wrapped (allOf) to carry nullable, as OpenAPI 3.0 ignores
// a $ref's siblings.
func nullableMessages(all openapi3.Schemas, s *openapi3.Schema) {
	for name, p := range s.Properties {
		switch {
		case p.Ref != "":
			target := all[strings.TrimPrefix(p.Ref, refComponents+"schemas/")]
			if target != nil && target.Value != nil && target.Value.Type.Is("object") {
				s.Properties[name] = &openapi3.SchemaRef{Value: &openapi3.Schema{AllOf: openapi3.SchemaRefs{{Ref: p.Ref}}, Nullable: true}}
			}
		case p.Value == nil:
		case p.Value.Type.Is("object"), p.Value.Type.Is("string") && p.Value.Format == "date-time":
			p.Value.Nullable = true
		}
	}
}

func describe(props openapi3.Schemas, name, text string) {
	if p, ok := props[name]; ok && p.Value != nil && p.Ref == "" {
		p.Value.Description = text
	}
}

// completeOperation declares an operation's error responses, headers and
// the pagination parameters' meaning.
func completeOperation(op *openapi3.Operation, r restrules.Route, idempotent bool, responses []errorResponse) error {
	documented := map[string]bool{}
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
			documented[p.Value.Name] = true
			switch p.Value.Name {
			case "cursor":
				p.Value.Description = paginationCursor
			case "page_size":
				p.Value.Description = paginationPageSize
			}
		}
	}
	for _, q := range r.Query {
		switch {
		case documented[q]:
		case q == "update_mask":
			// protoc-gen-openapiv2 leaves it out of PATCH routes (the
			// gateway fills it from the body's fields), but the gateway
			// reads it from the query too, and then it wins.
			op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: openapi3.NewQueryParameter(q).
				WithDescription("Comma-separated fields to change; absent: the fields the body sets.").
				WithSchema(openapi3.NewStringSchema())})
		default:
			return fmt.Errorf("the gateway reads query parameter %q, the document does not declare it", q)
		}
	}
	op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Ref: refComponents + "parameters/" + paramRequestID})
	crmCall := strings.HasPrefix(r.RPC, crmServicePrefix)
	if crmCall {
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Ref: refComponents + "parameters/" + paramWait})
	}
	if idempotent {
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Ref: refComponents + "parameters/" + paramIdempotency})
	}
	if ok := op.Responses.Value("200"); ok != nil && ok.Value != nil {
		ok.Value.Headers = openapi3.Headers{"X-Request-Id": {Ref: refComponents + "headers/" + headerRequestID}}
	}
	for _, er := range responses {
		if er.applies(r, crmCall, idempotent) {
			op.Responses.Set(fmt.Sprint(er.status), &openapi3.ResponseRef{Ref: refComponents + "responses/" + er.name})
		}
	}
	return nil
}

// errorResponse is one error status the gateway answers.
type errorResponse struct {
	status   int
	name     string
	response *openapi3.Response
	// applies tells the operations that may answer it.
	applies func(r restrules.Route, crmCall, idempotent bool) bool
}

func always(restrules.Route, bool, bool) bool { return true }

// errorResponses are the error answers, with examples made by apierr from
// the domain errors that cause them (so they are what the gateway writes).
func errorResponses() ([]errorResponse, error) {
	type example struct {
		summary string
		err     error        // mapped by apierr.Status
		body    *apierr.Body // or written as is
	}
	tooLarge := apierr.BodyTooLarge(server.DefaultMaxBodyBytes)
	list := []struct {
		status     int
		name, desc string
		applies    func(r restrules.Route, crmCall, idempotent bool) bool
		retryAfter bool
		examples   map[string]example
	}{
		{http.StatusBadRequest, "BadRequest", "Invalid input (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE): a bad path parameter, query parameter or body field (details.field_violations names them), or the provider refused the input (origin provider).", always, false, map[string]example{
			"validation":        {summary: "A body field of the wrong type (the gateway's check)", err: &crm.ValidationError{Violations: []crm.FieldViolation{{Field: "properties.age", Description: "must be a number"}}}},
			"unknownQuery":      {summary: "A query parameter the route does not read", err: apierr.UnknownQueryParameters([]string{"page_sise"}, []string{"cursor", "include_raw_data", "page_size"})},
			"providerRefused":   {summary: "The provider refused the input", err: &crm.ProviderError{Provider: "ghl", Status: http.StatusBadRequest, Message: "pet.name is required: it is the primary display property of pet"}},
			"malformedJSONBody": {summary: "A body that is not one JSON value", body: &apierr.Body{Code: code.Code_INVALID_ARGUMENT.String(), Message: "request body is not one valid JSON value", Details: apierr.Details{Origin: apierr.OriginGateway, Reason: "MALFORMED_JSON"}}},
		}},
		{http.StatusUnauthorized, "Unauthorized", "No x-apikey, or one the gateway does not know, or a revoked or expired one (UNAUTHENTICATED); on /v0/admin: no x-admin-key, or a wrong one.", always, false, map[string]example{
			"missingKey":      {summary: "No x-apikey header", err: apierr.ErrMissingAPIKey},
			"revokedKey":      {summary: "A revoked x-apikey", err: apierr.ErrRevokedAPIKey},
			"missingAdminKey": {summary: "No x-admin-key header (/v0/admin)", err: apierr.ErrMissingAdminKey},
		}},
		{http.StatusForbidden, "Forbidden", "The provider refused the connection's credentials (PERMISSION_DENIED, origin provider): reconnect the account; or, on /v0/admin, the Admin API is disabled (reason ADMIN_API_DISABLED: set GATEWAY_ADMIN_KEY_HASH).", always, false, map[string]example{
			"providerToken": {summary: "The provider revoked the connection's token", err: &crm.ProviderError{Provider: "ghl", Status: http.StatusUnauthorized, Message: "Invalid token: access token is invalid"}},
			"adminDisabled": {summary: "The Admin API is disabled (/v0/admin)", err: apierr.ErrAdminDisabled},
		}},
		{http.StatusNotFound, "NotFound", "The connection, config, object, record, organisation or API key does not exist (NOT_FOUND); origin tells whether the gateway or the provider said so.", always, false, map[string]example{
			"connection":     {summary: "No such connection (the gateway)", err: apierr.New(codes.NotFound, "CONNECTION_NOT_FOUND", "connection %q not found", "conn_ghl_0000")},
			"providerRecord": {summary: "No such record (the provider)", err: &crm.ProviderError{Provider: "ghl", Status: http.StatusNotFound, Message: "Record not found"}},
		}},
		{http.StatusConflict, "Conflict", "The change conflicts with the current state, or a call with the same Idempotency-Key is still in progress (ALREADY_EXISTS, ABORTED).", func(r restrules.Route, _, _ bool) bool { return r.Method != http.MethodGet }, false, map[string]example{
			"conflict": {summary: "A conflict with the current state", err: store.ErrConflict},
		}},
		{http.StatusRequestEntityTooLarge, "PayloadTooLarge", "The request body is over the gateway's limit (GATEWAY_MAX_BODY_BYTES, 4 MiB by default).", func(r restrules.Route, _, _ bool) bool { return r.Body != "" }, false, map[string]example{
			"tooLarge": {summary: "A body over the limit", body: &tooLarge},
		}},
		{http.StatusUnprocessableEntity, "IdempotencyKeyReused", "The Idempotency-Key was used before with a different request (INVALID_ARGUMENT, reason IDEMPOTENCY_KEY_REUSED).", func(_ restrules.Route, _, idem bool) bool { return idem }, false, map[string]example{
			"reused": {summary: "A key reused for another request", err: &idempotency.MismatchError{Key: "create-pet-42"}},
		}},
		{http.StatusTooManyRequests, "TooManyRequests", "A rate limit: the provider's (origin provider) or the gateway's pacing of the connection's provider budget (origin gateway, reason RATE_LIMITED) (RESOURCE_EXHAUSTED). Retry after Retry-After seconds.", always, true, map[string]example{
			"provider": {summary: "The provider's rate limit", err: &crm.ProviderError{Provider: "ghl", Status: http.StatusTooManyRequests, Message: "Too Many Requests", RetryAfter: 10 * time.Second}},
		}},
		{http.StatusInternalServerError, "InternalError", "A gateway fault (INTERNAL); the cause is in the gateway's log under the request id, never in the answer.", always, false, map[string]example{
			"internal": {summary: "A gateway fault", err: errors.New("cause never shown")},
		}},
		{http.StatusNotImplemented, "NotImplemented", "The connection's provider does not support the operation (UNIMPLEMENTED).", func(_ restrules.Route, crmCall, _ bool) bool { return crmCall }, false, map[string]example{
			"unsupported": {summary: "Not supported by the provider", err: crm.ErrUnsupported},
		}},
		{http.StatusServiceUnavailable, "Unavailable", "The provider cannot be reached or is failing (origin provider), or the gateway is overloaded or pausing calls to a failing provider (origin gateway) (UNAVAILABLE). Retry later, after Retry-After when given.", always, true, map[string]example{
			"providerUnreachable": {summary: "The provider cannot be reached", err: &crm.ProviderError{Provider: "ghl", Cause: errors.New("connection refused")}},
			"providerFailing":     {summary: "The provider answered 5xx", err: &crm.ProviderError{Provider: "ghl", Status: http.StatusInternalServerError, Message: "Internal server error"}},
		}},
		{http.StatusGatewayTimeout, "GatewayTimeout", "The call's deadline passed, or the provider did not answer in time (DEADLINE_EXCEEDED). For a write, reason UNKNOWN_OUTCOME says it may or may not have happened.", always, false, map[string]example{
			"providerTimeout": {summary: "The provider did not answer in time", err: &crm.ProviderError{Provider: "ghl", Cause: context.DeadlineExceeded}},
		}},
	}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	var out []errorResponse
	for _, e := range list {
		resp := openapi3.NewResponse().WithDescription(e.desc)
		mt := openapi3.NewMediaType().WithSchemaRef(&openapi3.SchemaRef{Ref: refComponents + "schemas/" + errorSchema})
		mt.Examples = openapi3.Examples{}
		for name, ex := range e.examples {
			body := ex.body
			if body == nil {
				httpStatus, b := apierr.BodyFromStatus(status.Convert(apierr.Status(context.Background(), discard, "", ex.err)))
				if httpStatus != e.status {
					return nil, fmt.Errorf("example %s of %d answers %d", name, e.status, httpStatus)
				}
				body = &b
			}
			v, err := asJSONValue(body)
			if err != nil {
				return nil, err
			}
			mt.Examples[name] = &openapi3.ExampleRef{Value: openapi3.NewExample(v)}
			mt.Examples[name].Value.Summary = ex.summary
		}
		resp.Content = openapi3.Content{applicationJSON: mt}
		resp.Headers = openapi3.Headers{"X-Request-Id": {Ref: refComponents + "headers/" + headerRequestID}}
		if e.retryAfter {
			resp.Headers["Retry-After"] = &openapi3.HeaderRef{Ref: refComponents + "headers/" + headerRetryAfter}
		}
		out = append(out, errorResponse{status: e.status, name: e.name, response: resp, applies: e.applies})
	}
	return out, nil
}

func asJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}

// fieldDocs describe the error body's fields (by JSON name); a field
// without one fails the generation.
var fieldDocs = map[string]string{
	"code":             "The gRPC code name (google.rpc.Code), e.g. NOT_FOUND; the HTTP status follows from it.",
	"message":          "What went wrong, for people; safe to show (no secrets, no internal causes).",
	"details":          "Who failed and why, for programs.",
	"origin":           "\"gateway\" when crmgate refused or failed the call, \"provider\" when the connection's CRM did.",
	"reason":           "A machine-readable cause in UPPER_SNAKE_CASE, e.g. CONNECTION_NOT_FOUND, PROVIDER_ERROR, UNKNOWN_QUERY_PARAMETER.",
	"provider":         "The provider of a provider error, e.g. \"ghl\".",
	"provider_status":  "The provider's HTTP status.",
	"provider_message": "The provider's message, without the provider's internal names (GHL's \"custom_objects.\" prefix).",
	"field_violations": "The bad input fields: body fields by their JSON path, path and query parameters by name.",
	"field":            "The field, parameter or header.",
	"description":      "What is wrong with it.",
	"retry_after_ms":   "How long to wait before retrying, in milliseconds (also the Retry-After header, in seconds).",
}

// errorBodySchema is the schema of apierr.Body, generated from the type
// the gateway writes error bodies with.
func errorBodySchema() (*openapi3.SchemaRef, error) {
	var missing []string
	gen := openapi3gen.NewGenerator(openapi3gen.SchemaCustomizer(func(name string, t reflect.Type, tag reflect.StructTag, s *openapi3.Schema) error {
		if name == "_root" || tag == "" {
			name = ""
		}
		if t == reflect.TypeFor[apierr.FieldViolation]() {
			s.Description = "One bad input."
		} else if name != "" {
			d, ok := fieldDocs[name]
			if !ok {
				missing = append(missing, name)
			}
			s.Description = d
		}
		switch name {
		case "code":
			for c := 1; c < len(code.Code_name); c++ { // all but OK
				s.Enum = append(s.Enum, code.Code(c).String()) //nolint:gosec // small
			}
		case "origin":
			s.Enum = []any{apierr.OriginGateway, apierr.OriginProvider}
		}
		if t.Kind() == reflect.Struct {
			s.Required = nil
			for i := range t.NumField() {
				n, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
				if n != "" && n != "-" && !strings.Contains(opts, "omitempty") {
					s.Required = append(s.Required, n)
				}
			}
		}
		return nil
	}))
	ref, err := gen.NewSchemaRefForValue(&apierr.Body{}, nil)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("error body fields without a description in fieldDocs: %v", missing)
	}
	ref.Value.Title = "Error"
	ref.Value.Description = "crmgate's one error body, for every error of every route (gRPC carries the same as google.rpc.Status details: ErrorInfo, BadRequest, RetryInfo)."
	return ref, nil
}
