package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// Transports every API test runs over.
const (
	REST = "REST"
	GRPC = "gRPC"
)

var transports = []string{REST, GRPC}

// forEachTransport runs fn as a parallel subtest per transport.
func forEachTransport(t *testing.T, fn func(t *testing.T, tr string)) {
	t.Helper()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			fn(t, tr)
		})
	}
}

// client calls the gateway's API with one transport, one API key and one
// connection id. Its methods mirror the RPCs; over REST they send the
// request the google.api.http rules describe and decode the answer
// strictly (an unknown field fails). Errors are *apiError either way.
type client struct {
	t         testing.TB
	g         *gateway
	transport string
	key       string
	connID    string
	// allow5xx lets a 5xx answer through (for tests of provider outages).
	allow5xx bool
}

func (g *gateway) client(t testing.TB, transport, key, connID string) *client {
	return &client{t: t, g: g, transport: transport, key: key, connID: connID}
}

// withT returns a copy of c reporting to t.
func (c *client) withT(t testing.TB) *client {
	cc := *c
	cc.t = t
	return &cc
}

// as returns a copy of c using another key and connection id.
func (c *client) as(key, connID string) *client {
	cc := *c
	cc.key, cc.connID = key, connID
	return &cc
}

func (e *env) client(t testing.TB, tr string) *client {
	return e.g.client(t, tr, e.tn.key, e.tn.connID)
}

// apiError is an error answer of either transport. The client returns it
// as an error wrapped in apiErrorValue; wantCode and asAPIError unwrap it.
type apiError struct {
	transport       string
	code            codes.Code
	httpStatus      int // REST only
	message         string
	origin          string
	reason          string
	provider        string
	providerStatus  int
	providerMessage string
	violations      []violation
	retryAfterMS    int64
	raw             string
}

type violation struct{ Field, Description string }

// apiErrorValue is the error the client's methods return.
type apiErrorValue struct{ *apiError }

func (e apiErrorValue) Error() string { return e.String() }

func (e *apiError) String() string {
	return fmt.Sprintf("%s error %s (http %d): %s [origin=%s reason=%s provider_status=%d violations=%v]",
		e.transport, e.code, e.httpStatus, e.message, e.origin, e.reason, e.providerStatus, e.violations)
}

// fields returns the field names of the violations.
func (e *apiError) fields() []string {
	var out []string
	for _, v := range e.violations {
		out = append(out, v.Field)
	}
	return out
}

func (e *apiError) hasField(f string) bool {
	for _, v := range e.violations {
		if v.Field == f {
			return true
		}
	}
	return false
}

// fromStatus converts a gRPC error.
func fromStatus(err error) *apiError {
	st := status.Convert(err)
	e := &apiError{transport: GRPC, code: st.Code(), message: st.Message(), raw: err.Error()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			e.reason = d.GetReason()
			e.origin = d.GetMetadata()["origin"]
			e.provider = d.GetMetadata()["provider"]
			e.providerMessage = d.GetMetadata()["provider_message"]
			if s, err := strconv.Atoi(d.GetMetadata()["provider_status"]); err == nil {
				e.providerStatus = s
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.violations = append(e.violations, violation{v.GetField(), v.GetDescription()})
			}
		case *errdetails.RetryInfo:
			e.retryAfterMS = d.GetRetryDelay().AsDuration().Milliseconds()
		}
	}
	return e
}

// restErrorBody is crmgate's REST error body.
type restErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details struct {
		Origin          string      `json:"origin"`
		Reason          string      `json:"reason"`
		Provider        string      `json:"provider"`
		ProviderStatus  int         `json:"provider_status"`
		ProviderMessage string      `json:"provider_message"`
		FieldViolations []violation `json:"field_violations"`
		RetryAfterMS    int64       `json:"retry_after_ms"`
	} `json:"details"`
}

// fromREST converts a REST error answer.
func fromREST(r response) *apiError {
	e := &apiError{transport: REST, httpStatus: r.status, raw: string(r.raw), code: codes.Unknown}
	var b restErrorBody
	if err := json.Unmarshal(r.raw, &b); err != nil {
		e.message = "undecodable error body: " + err.Error()
		return e
	}
	if c, ok := code.Code_value[b.Code]; ok {
		e.code = codes.Code(c) //nolint:gosec // small
	}
	e.message = b.Message
	e.origin = b.Details.Origin
	e.reason = b.Details.Reason
	e.provider = b.Details.Provider
	e.providerStatus = b.Details.ProviderStatus
	e.providerMessage = b.Details.ProviderMessage
	e.violations = b.Details.FieldViolations
	e.retryAfterMS = b.Details.RetryAfterMS
	return e
}

// asAPIError returns err as an *apiError (nil for nil).
func asAPIError(err error) *apiError {
	if err == nil {
		return nil
	}
	if e, ok := err.(apiErrorValue); ok { //nolint:errorlint // ours, never wrapped
		return e.apiError
	}
	return &apiError{code: codes.Unknown, message: err.Error(), raw: err.Error()}
}

// wantCode fails the test unless err is an API error with code c; it
// returns the error for further checks.
func wantCode(t testing.TB, err error, c codes.Code) *apiError {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want error %s", c)
	}
	e := asAPIError(err)
	if e.code != c {
		t.Fatalf("got %v, want code %s", e, c)
	}
	return e
}

// must returns a function that fails the test on err and returns v:
// must(c.GetObject(req))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// ctx returns the gRPC context carrying the key and connection id.
func (c *client) ctx() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	var kv []string
	if c.key != "" {
		kv = append(kv, "x-apikey", c.key)
	}
	if c.connID != "" {
		kv = append(kv, "x-connection-id", c.connID)
	}
	if len(kv) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	}
	return ctx, cancel
}

// grpcDone checks a gRPC answer the way do checks a REST one.
func (c *client) grpcDone(method string, resp proto.Message, err error) error {
	c.t.Helper()
	if err != nil {
		e := fromStatus(err)
		if runtime.HTTPStatusFromCode(e.code) >= 500 && !c.allow5xx {
			c.t.Errorf("gRPC %s answered %v (no 5xx-class code is acceptable)", method, e)
		}
		if l := c.g.leaks([]byte(e.raw)); len(l) > 0 {
			c.t.Errorf("SECRET LEAK: gRPC %s error contains %v", method, l)
		}
		return apiErrorValue{e}
	}
	if b, merr := protojson.Marshal(resp); merr == nil {
		if l := c.g.leaks(b); len(l) > 0 {
			c.t.Errorf("SECRET LEAK: gRPC %s answer contains %v", method, l)
		}
	}
	return nil
}

var restMarshal = protojson.MarshalOptions{UseProtoNames: true}

// jsonBody marshals m as the REST body, without the path fields.
func (c *client) jsonBody(m proto.Message, drop ...string) rawBody {
	c.t.Helper()
	if m == nil {
		return rawBody("{}")
	}
	b, err := restMarshal.Marshal(m)
	if err != nil {
		c.t.Fatalf("marshal %T: %v", m, err)
	}
	if len(drop) == 0 {
		return rawBody(b)
	}
	var mm map[string]json.RawMessage
	if err := json.Unmarshal(b, &mm); err != nil {
		c.t.Fatal(err)
	}
	for _, d := range drop {
		delete(mm, d)
	}
	b, _ = json.Marshal(mm)
	return rawBody(b)
}

// rest sends one REST call and decodes a success into out strictly.
func (c *client) rest(method, path string, body any, out proto.Message) error {
	c.t.Helper()
	var r response
	if c.allow5xx {
		r = c.g.doAllow5xx(c.t, method, path, hdr(c.key, c.connID), body)
	} else {
		r = c.g.do(c.t, method, path, hdr(c.key, c.connID), body)
	}
	if r.status != http.StatusOK {
		e := fromREST(r)
		if want := runtime.HTTPStatusFromCode(e.code); want != r.status {
			c.t.Errorf("%s %s: HTTP status %d does not match error code %s (want %d): %s", method, path, r.status, e.code, want, r.raw)
		}
		return apiErrorValue{e}
	}
	if err := protojson.Unmarshal(r.raw, out); err != nil {
		c.t.Errorf("%s %s: answer does not decode strictly into %T: %v\n%s", method, path, out, err, r.raw)
	}
	return nil
}

func esc(s string) string { return url.PathEscape(s) }

// query builds a query string from pairs, leaving out empty values.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" && kv[i+1] != "0" && kv[i+1] != "false" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
func btoa(b bool) string  { return strconv.FormatBool(b) }

// ---------------------------------------------------------------------------
// CrmService

const crmBase = "/v0/unified/crm"

func (c *client) ListObjects(req *crmv1.ListObjectsRequest) (*crmv1.ListObjectsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.ListObjects(ctx, req)
		return r, c.grpcDone("ListObjects", r, err)
	}
	out := &crmv1.ListObjectsResponse{}
	return out, c.rest("GET", crmBase+"/metadata/objects"+query("type", req.GetType(), "include_raw_data", btoa(req.GetIncludeRawData())), nil, out)
}

func (c *client) CreateObject(req *crmv1.CreateObjectRequest) (*crmv1.CreateObjectResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CreateObject(ctx, req)
		return r, c.grpcDone("CreateObject", r, err)
	}
	out := &crmv1.Object{}
	err := c.rest("POST", crmBase+"/metadata/objects", c.jsonBody(req), out)
	return &crmv1.CreateObjectResponse{Object: out}, err
}

func (c *client) GetObject(req *crmv1.GetObjectRequest) (*crmv1.GetObjectResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.GetObject(ctx, req)
		return r, c.grpcDone("GetObject", r, err)
	}
	out := &crmv1.Object{}
	err := c.rest("GET", crmBase+"/metadata/objects/"+esc(req.GetObjectName())+query("include_raw_data", btoa(req.GetIncludeRawData())), nil, out)
	return &crmv1.GetObjectResponse{Object: out}, err
}

func maskQuery(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	return "?update_mask=" + url.QueryEscape(strings.Join(paths, ","))
}

func (c *client) UpdateObject(req *crmv1.UpdateObjectRequest) (*crmv1.UpdateObjectResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.UpdateObject(ctx, req)
		return r, c.grpcDone("UpdateObject", r, err)
	}
	out := &crmv1.Object{}
	err := c.rest("PATCH", crmBase+"/metadata/objects/"+esc(req.GetObjectName())+maskQuery(req.GetUpdateMask().GetPaths()), c.jsonBody(req.GetObject()), out)
	return &crmv1.UpdateObjectResponse{Object: out}, err
}

func (c *client) ListProperties(req *crmv1.ListPropertiesRequest) (*crmv1.ListPropertiesResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.ListProperties(ctx, req)
		return r, c.grpcDone("ListProperties", r, err)
	}
	out := &crmv1.ListPropertiesResponse{}
	return out, c.rest("GET", crmBase+"/metadata/objects/"+esc(req.GetObjectName())+"/properties", nil, out)
}

func (c *client) CreateProperty(req *crmv1.CreatePropertyRequest) (*crmv1.CreatePropertyResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CreateProperty(ctx, req)
		return r, c.grpcDone("CreateProperty", r, err)
	}
	out := &crmv1.Property{}
	err := c.rest("POST", crmBase+"/metadata/objects/"+esc(req.GetObjectName())+"/properties", c.jsonBody(req.GetProperty()), out)
	return &crmv1.CreatePropertyResponse{Property: out}, err
}

func (c *client) GetProperty(req *crmv1.GetPropertyRequest) (*crmv1.GetPropertyResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.GetProperty(ctx, req)
		return r, c.grpcDone("GetProperty", r, err)
	}
	out := &crmv1.Property{}
	err := c.rest("GET", crmBase+"/metadata/objects/"+esc(req.GetObjectName())+"/properties/"+esc(req.GetPropertyId()), nil, out)
	return &crmv1.GetPropertyResponse{Property: out}, err
}

func (c *client) UpdateProperty(req *crmv1.UpdatePropertyRequest) (*crmv1.UpdatePropertyResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.UpdateProperty(ctx, req)
		return r, c.grpcDone("UpdateProperty", r, err)
	}
	out := &crmv1.Property{}
	err := c.rest("PATCH", crmBase+"/metadata/objects/"+esc(req.GetObjectName())+"/properties/"+esc(req.GetPropertyId())+maskQuery(req.GetUpdateMask().GetPaths()), c.jsonBody(req.GetProperty()), out)
	return &crmv1.UpdatePropertyResponse{Property: out}, err
}

func (c *client) DeleteProperty(req *crmv1.DeletePropertyRequest) (*crmv1.DeletePropertyResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.DeleteProperty(ctx, req)
		return r, c.grpcDone("DeleteProperty", r, err)
	}
	out := &crmv1.DeletePropertyResponse{}
	return out, c.rest("DELETE", crmBase+"/metadata/objects/"+esc(req.GetObjectName())+"/properties/"+esc(req.GetPropertyId()), nil, out)
}

func (c *client) ListAssociationSchemas(req *crmv1.ListAssociationSchemasRequest) (*crmv1.ListAssociationSchemasResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.ListAssociationSchemas(ctx, req)
		return r, c.grpcDone("ListAssociationSchemas", r, err)
	}
	out := &crmv1.ListAssociationSchemasResponse{}
	return out, c.rest("GET", crmBase+"/metadata/associations", nil, out)
}

func (c *client) CreateAssociationSchema(req *crmv1.CreateAssociationSchemaRequest) (*crmv1.CreateAssociationSchemaResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CreateAssociationSchema(ctx, req)
		return r, c.grpcDone("CreateAssociationSchema", r, err)
	}
	out := &crmv1.CreateAssociationSchemaResponse{}
	return out, c.rest("POST", crmBase+"/metadata/associations", c.jsonBody(req), out)
}

func (c *client) ListRecords(req *crmv1.ListRecordsRequest) (*crmv1.ListRecordsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.ListRecords(ctx, req)
		return r, c.grpcDone("ListRecords", r, err)
	}
	out := &crmv1.ListRecordsResponse{}
	q := query("cursor", req.GetCursor(), "page_size", itoa(req.GetPageSize()), "include_raw_data", btoa(req.GetIncludeRawData()))
	return out, c.rest("GET", crmBase+"/custom_objects/"+esc(req.GetObjectName())+q, nil, out)
}

func (c *client) CreateRecord(req *crmv1.CreateRecordRequest) (*crmv1.CreateRecordResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CreateRecord(ctx, req)
		return r, c.grpcDone("CreateRecord", r, err)
	}
	out := &crmv1.CreateRecordResponse{}
	return out, c.rest("POST", crmBase+"/custom_objects/"+esc(req.GetObjectName()), c.jsonBody(req, "object_name"), out)
}

func (c *client) GetRecord(req *crmv1.GetRecordRequest) (*crmv1.GetRecordResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.GetRecord(ctx, req)
		return r, c.grpcDone("GetRecord", r, err)
	}
	out := &crmv1.GetRecordResponse{}
	return out, c.rest("GET", crmBase+"/custom_objects/"+esc(req.GetObjectName())+"/"+esc(req.GetId())+query("include_raw_data", btoa(req.GetIncludeRawData())), nil, out)
}

func (c *client) UpdateRecord(req *crmv1.UpdateRecordRequest) (*crmv1.UpdateRecordResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.UpdateRecord(ctx, req)
		return r, c.grpcDone("UpdateRecord", r, err)
	}
	out := &crmv1.UpdateRecordResponse{}
	return out, c.rest("PATCH", crmBase+"/custom_objects/"+esc(req.GetObjectName())+"/"+esc(req.GetId()), c.jsonBody(req, "object_name", "id"), out)
}

func (c *client) DeleteRecord(req *crmv1.DeleteRecordRequest) (*crmv1.DeleteRecordResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.DeleteRecord(ctx, req)
		return r, c.grpcDone("DeleteRecord", r, err)
	}
	out := &crmv1.DeleteRecordResponse{}
	return out, c.rest("DELETE", crmBase+"/custom_objects/"+esc(req.GetObjectName())+"/"+esc(req.GetId()), nil, out)
}

func (c *client) SearchRecords(req *crmv1.SearchRecordsRequest) (*crmv1.SearchRecordsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.SearchRecords(ctx, req)
		return r, c.grpcDone("SearchRecords", r, err)
	}
	out := &crmv1.SearchRecordsResponse{}
	return out, c.rest("POST", crmBase+"/custom_objects/"+esc(req.GetObjectName())+"/_search", c.jsonBody(req, "object_name"), out)
}

func (c *client) CreateRelation(req *crmv1.CreateRelationRequest) (*crmv1.CreateRelationResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.CreateRelation(ctx, req)
		return r, c.grpcDone("CreateRelation", r, err)
	}
	out := &crmv1.CreateRelationResponse{}
	return out, c.rest("POST", crmBase+"/custom_objects/"+esc(req.GetObjectName())+"/"+esc(req.GetRecordId())+"/relations", c.jsonBody(req, "object_name", "record_id"), out)
}

func (c *client) ListRelations(req *crmv1.ListRelationsRequest) (*crmv1.ListRelationsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.ListRelations(ctx, req)
		return r, c.grpcDone("ListRelations", r, err)
	}
	out := &crmv1.ListRelationsResponse{}
	q := query("cursor", req.GetCursor(), "page_size", itoa(req.GetPageSize()))
	return out, c.rest("GET", crmBase+"/custom_objects/"+esc(req.GetObjectName())+"/"+esc(req.GetRecordId())+"/relations"+q, nil, out)
}

func (c *client) DeleteRelation(req *crmv1.DeleteRelationRequest) (*crmv1.DeleteRelationResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.crm.DeleteRelation(ctx, req)
		return r, c.grpcDone("DeleteRelation", r, err)
	}
	out := &crmv1.DeleteRelationResponse{}
	return out, c.rest("DELETE", crmBase+"/relations/"+esc(req.GetRelationId()), nil, out)
}

// ---------------------------------------------------------------------------
// CoreService

const coreBase = "/v0/core"

func (c *client) CreateConnectorConfig(req *corev1.CreateConnectorConfigRequest) (*corev1.CreateConnectorConfigResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.CreateConnectorConfig(ctx, req)
		return r, c.grpcDone("CreateConnectorConfig", r, err)
	}
	out := &corev1.ConnectorConfig{}
	err := c.rest("POST", coreBase+"/connector_configs", c.jsonBody(req), out)
	return &corev1.CreateConnectorConfigResponse{ConnectorConfig: out}, err
}

func (c *client) ListConnectorConfigs(req *corev1.ListConnectorConfigsRequest) (*corev1.ListConnectorConfigsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.ListConnectorConfigs(ctx, req)
		return r, c.grpcDone("ListConnectorConfigs", r, err)
	}
	out := &corev1.ListConnectorConfigsResponse{}
	return out, c.rest("GET", coreBase+"/connector_configs", nil, out)
}

func (c *client) GetConnectorConfig(req *corev1.GetConnectorConfigRequest) (*corev1.GetConnectorConfigResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.GetConnectorConfig(ctx, req)
		return r, c.grpcDone("GetConnectorConfig", r, err)
	}
	out := &corev1.ConnectorConfig{}
	err := c.rest("GET", coreBase+"/connector_configs/"+esc(req.GetId()), nil, out)
	return &corev1.GetConnectorConfigResponse{ConnectorConfig: out}, err
}

func (c *client) UpdateConnectorConfig(req *corev1.UpdateConnectorConfigRequest) (*corev1.UpdateConnectorConfigResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.UpdateConnectorConfig(ctx, req)
		return r, c.grpcDone("UpdateConnectorConfig", r, err)
	}
	out := &corev1.ConnectorConfig{}
	err := c.rest("PATCH", coreBase+"/connector_configs/"+esc(req.GetId()), c.jsonBody(req, "id"), out)
	return &corev1.UpdateConnectorConfigResponse{ConnectorConfig: out}, err
}

func (c *client) DeleteConnectorConfig(req *corev1.DeleteConnectorConfigRequest) (*corev1.DeleteConnectorConfigResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.DeleteConnectorConfig(ctx, req)
		return r, c.grpcDone("DeleteConnectorConfig", r, err)
	}
	out := &corev1.DeleteConnectorConfigResponse{}
	return out, c.rest("DELETE", coreBase+"/connector_configs/"+esc(req.GetId()), nil, out)
}

func (c *client) CreateConnection(req *corev1.CreateConnectionRequest) (*corev1.CreateConnectionResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.CreateConnection(ctx, req)
		return r, c.grpcDone("CreateConnection", r, err)
	}
	out := &corev1.Connection{}
	err := c.rest("POST", coreBase+"/connections", c.jsonBody(req), out)
	return &corev1.CreateConnectionResponse{Connection: out}, err
}

func (c *client) ListConnections(req *corev1.ListConnectionsRequest) (*corev1.ListConnectionsResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.ListConnections(ctx, req)
		return r, c.grpcDone("ListConnections", r, err)
	}
	out := &corev1.ListConnectionsResponse{}
	q := query("customer_id", req.GetCustomerId(), "connector_config_id", req.GetConnectorConfigId())
	return out, c.rest("GET", coreBase+"/connections"+q, nil, out)
}

func (c *client) GetConnection(req *corev1.GetConnectionRequest) (*corev1.GetConnectionResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.GetConnection(ctx, req)
		return r, c.grpcDone("GetConnection", r, err)
	}
	out := &corev1.Connection{}
	err := c.rest("GET", coreBase+"/connections/"+esc(req.GetId()), nil, out)
	return &corev1.GetConnectionResponse{Connection: out}, err
}

func (c *client) UpdateConnection(req *corev1.UpdateConnectionRequest) (*corev1.UpdateConnectionResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.UpdateConnection(ctx, req)
		return r, c.grpcDone("UpdateConnection", r, err)
	}
	out := &corev1.Connection{}
	err := c.rest("PATCH", coreBase+"/connections/"+esc(req.GetId()), c.jsonBody(req, "id"), out)
	return &corev1.UpdateConnectionResponse{Connection: out}, err
}

func (c *client) DeleteConnection(req *corev1.DeleteConnectionRequest) (*corev1.DeleteConnectionResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.DeleteConnection(ctx, req)
		return r, c.grpcDone("DeleteConnection", r, err)
	}
	out := &corev1.DeleteConnectionResponse{}
	return out, c.rest("DELETE", coreBase+"/connections/"+esc(req.GetId()), nil, out)
}

func (c *client) CheckConnection(req *corev1.CheckConnectionRequest) (*corev1.CheckConnectionResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.CheckConnection(ctx, req)
		return r, c.grpcDone("CheckConnection", r, err)
	}
	out := &corev1.CheckConnectionResponse{}
	return out, c.rest("POST", coreBase+"/connections/"+esc(req.GetId())+"/check", c.jsonBody(req, "id"), out)
}

func (c *client) GetConnectionRateLimit(req *corev1.GetConnectionRateLimitRequest) (*corev1.GetConnectionRateLimitResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.GetConnectionRateLimit(ctx, req)
		return r, c.grpcDone("GetConnectionRateLimit", r, err)
	}
	out := &corev1.GetConnectionRateLimitResponse{}
	return out, c.rest("GET", coreBase+"/connections/"+esc(req.GetId())+"/rate_limit", nil, out)
}

func (c *client) CreateAuthorizationUrl(req *corev1.CreateAuthorizationUrlRequest) (*corev1.CreateAuthorizationUrlResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.CreateAuthorizationUrl(ctx, req)
		return r, c.grpcDone("CreateAuthorizationUrl", r, err)
	}
	out := &corev1.CreateAuthorizationUrlResponse{}
	return out, c.rest("POST", coreBase+"/connect/"+esc(req.GetConnectorName())+"/authorize", c.jsonBody(req, "connector_name"), out)
}

func (c *client) CreateLocationConnection(req *corev1.CreateLocationConnectionRequest) (*corev1.CreateLocationConnectionResponse, error) {
	c.t.Helper()
	if c.transport == GRPC {
		ctx, cancel := c.ctx()
		defer cancel()
		r, err := c.g.core.CreateLocationConnection(ctx, req)
		return r, c.grpcDone("CreateLocationConnection", r, err)
	}
	out := &corev1.Connection{}
	err := c.rest("POST", coreBase+"/connections/"+esc(req.GetId())+"/locations", c.jsonBody(req, "id"), out)
	return &corev1.CreateLocationConnectionResponse{Connection: out}, err
}
