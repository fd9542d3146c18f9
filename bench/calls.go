package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// Op is a benchmarked operation.
type Op int

// The benchmarked operations.
const (
	OpGetRecord Op = iota
	OpCreateRecord
	OpList100
	OpGetSchema
)

// Ops lists every operation, in report order.
var Ops = []Op{OpGetRecord, OpCreateRecord, OpList100, OpGetSchema}

func (o Op) String() string {
	return [...]string{"get record", "create record", "list 100 records", "get object schema"}[o]
}

// Target is a way to make the calls.
type Target int

// The targets.
const (
	TDirect      Target = iota // straight to the lean upstream
	TProxy                     // through the bare proxy process: the floor the targets compare with
	TREST                      // through crmgate REST
	TGRPC                      // through crmgate gRPC
	TProxyInproc               // through the bare proxy inside the bench process (reference)
)

// Targets lists every target, in report order.
var Targets = []Target{TDirect, TProxy, TProxyInproc, TREST, TGRPC}

func (t Target) String() string {
	return [...]string{"direct", "bare proxy", "crmgate REST", "crmgate gRPC", "bare proxy in bench process"}[t]
}

// Call makes one call; it returns an error for a transport failure or a
// non-2xx answer.
type Call func(ctx context.Context) error

// clients holds what the calls need.
type clients struct {
	hc        *http.Client
	grpc      crmv1.CrmServiceClient
	grpcConn  *grpc.ClientConn
	fx        *Fixtures
	upstream  string        // lean upstream URL
	proxy     *ProxyProcess // the bare proxy process
	inproc    string        // the in-process bare proxy's URL
	gwHTTP    string
	apiKey    string
	recordID  string
	createIn  *crmv1.RecordInput
	restCreat []byte
}

func newClients(fx *Fixtures, upstream string, proxy *ProxyProcess, inproc string, gw *Gateway, workers int) (*clients, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4 * workers
	tr.MaxIdleConnsPerHost = 2 * workers
	tr.DisableCompression = true
	c := &clients{
		hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}, fx: fx,
		upstream: upstream, proxy: proxy, inproc: inproc, recordID: fx.RecordID,
	}
	props, err := structpb.NewStruct(map[string]any{
		"name": "Rex", "species": "dog", "age": 4, "price": map[string]any{"currency": "default", "value": 120}, "tags": []any{"friendly"},
	})
	if err != nil {
		return nil, err
	}
	c.createIn = &crmv1.RecordInput{Properties: props}
	c.restCreat = []byte(`{"record":{"properties":{"name":"Rex","species":"dog","age":4,"price":{"currency":"default","value":120},"tags":["friendly"]}}}`)
	if gw != nil {
		if err := c.attach(gw); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// attach points the REST and gRPC calls at gateway gw.
func (c *clients) attach(gw *Gateway) error {
	if c.grpcConn != nil {
		_ = c.grpcConn.Close()
	}
	conn, err := grpc.NewClient(gw.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return err
	}
	c.grpcConn = conn
	c.grpc = crmv1.NewCrmServiceClient(conn)
	c.gwHTTP = gw.HTTPURL
	c.apiKey = gw.APIKey
	return nil
}

func (c *clients) close() {
	if c.grpcConn != nil {
		_ = c.grpcConn.Close()
	}
	c.hc.CloseIdleConnections()
}

// httpCall sends one request and reads the whole answer.
func (c *clients) httpCall(ctx context.Context, method, url string, body []byte, hdr func(http.Header)) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	hdr(req.Header)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d", method, url, resp.StatusCode)
	}
	return nil
}

// ghlHeaders are what the GHL adapter sends.
func ghlHeaders(h http.Header) {
	h.Set("Version", ghlVersion)
	h.Set("Authorization", "Bearer "+seedToken)
	h.Set("Accept", "application/json")
}

// warm makes each operation three times through each target (schema
// cache, connection pools) and checks that it works; the first gRPC call
// of each operation decodes its answer (the measured ones do not).
func (c *clients) warm(ctx context.Context, ops []Op, targets []Target, conn func() string) error {
	for _, op := range ops {
		for _, t := range targets {
			for i := range 3 {
				call := c.call(op, t, conn)
				if i == 0 {
					call = c.decodingCall(op, t, conn)
				}
				if err := call(ctx); err != nil {
					return fmt.Errorf("warm-up %v via %v: %w", op, t, err)
				}
			}
		}
	}
	return nil
}

// undecoded is the gRPC codec of the measured calls: requests are
// marshalled as usual, answers are received whole but not unmarshalled,
// as the HTTP calls read the whole body without parsing it. Either way
// the client's own decoding stays out of the gateway's figures (for a
// list of 100 records, unmarshalling costs the client more CPU than the
// gateway spends answering: BenchmarkListPageEncode/proto_unmarshal).
type undecoded struct{ encoding.CodecV2 }

func (undecoded) Unmarshal(mem.BufferSlice, any) error { return nil }

// decodingCall is call with, for gRPC, the answer unmarshalled and checked
// (a list must hold 100 records).
func (c *clients) decodingCall(op Op, t Target, conn func() string) Call {
	if t != TGRPC {
		return c.call(op, t, conn)
	}
	return c.grpcCall(op, conn, func(m any) error {
		if l, ok := m.(*crmv1.ListRecordsResponse); ok && len(l.GetItems()) != 100 {
			return fmt.Errorf("list answered %d records, want 100", len(l.GetItems()))
		}
		return nil
	})
}

// call returns the Call of op against target; conn picks the connection id
// of each crmgate call.
func (c *clients) call(op Op, t Target, conn func() string) Call {
	switch t {
	case TDirect, TProxy, TProxyInproc:
		base := map[Target]string{TDirect: c.upstream, TProxy: c.proxy.URL, TProxyInproc: c.inproc}[t]
		switch op {
		case OpGetRecord:
			u := base + "/objects/" + petKey + "/records/" + c.recordID
			return func(ctx context.Context) error { return c.httpCall(ctx, http.MethodGet, u, nil, ghlHeaders) }
		case OpCreateRecord:
			u := base + "/objects/" + petKey + "/records"
			return func(ctx context.Context) error {
				return c.httpCall(ctx, http.MethodPost, u, c.fx.CreateBody, ghlHeaders)
			}
		case OpList100:
			u := base + "/objects/" + petKey + "/records/search"
			return func(ctx context.Context) error {
				return c.httpCall(ctx, http.MethodPost, u, c.fx.SearchBody, ghlHeaders)
			}
		case OpGetSchema:
			u := base + "/objects/" + petKey + "?locationId=" + seedLoc + "&fetchProperties=true"
			return func(ctx context.Context) error { return c.httpCall(ctx, http.MethodGet, u, nil, ghlHeaders) }
		}
	case TREST:
		base := c.gwHTTP + "/v0/unified/crm"
		key := c.apiKey
		hdr := func(h http.Header) {
			h.Set("x-apikey", key)
			h.Set("x-connection-id", conn())
		}
		switch op {
		case OpGetRecord:
			u := base + "/custom_objects/pet/" + c.recordID
			return func(ctx context.Context) error { return c.httpCall(ctx, http.MethodGet, u, nil, hdr) }
		case OpCreateRecord:
			u := base + "/custom_objects/pet"
			return func(ctx context.Context) error { return c.httpCall(ctx, http.MethodPost, u, c.restCreat, hdr) }
		case OpList100:
			u := base + "/custom_objects/pet?page_size=100"
			return func(ctx context.Context) error { return c.httpCall(ctx, http.MethodGet, u, nil, hdr) }
		case OpGetSchema:
			u := base + "/metadata/objects/pet/properties"
			return func(ctx context.Context) error { return c.httpCall(ctx, http.MethodGet, u, nil, hdr) }
		}
	case TGRPC:
		return c.grpcCall(op, conn, nil)
	}
	panic(fmt.Sprintf("no call for %v %v", op, t))
}

// grpcCall returns the gRPC Call of op. With check nil the answer is not
// unmarshalled (undecoded); otherwise it is, and check judges it.
func (c *clients) grpcCall(op Op, conn func() string, check func(any) error) Call {
	key := c.apiKey
	md := func(ctx context.Context) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "x-apikey", key, "x-connection-id", conn())
	}
	var opts []grpc.CallOption
	if check == nil {
		opts = append(opts, grpc.ForceCodecV2(undecoded{encoding.GetCodecV2("proto")}))
		check = func(any) error { return nil }
	}
	do := func(m any, err error) error {
		if err != nil {
			return err
		}
		return check(m)
	}
	switch op {
	case OpGetRecord:
		req := &crmv1.GetRecordRequest{ObjectName: "pet", Id: c.recordID}
		return func(ctx context.Context) error { return do(c.grpc.GetRecord(md(ctx), req, opts...)) }
	case OpCreateRecord:
		req := &crmv1.CreateRecordRequest{ObjectName: "pet", Record: c.createIn}
		return func(ctx context.Context) error { return do(c.grpc.CreateRecord(md(ctx), req, opts...)) }
	case OpList100:
		req := &crmv1.ListRecordsRequest{ObjectName: "pet", PageSize: 100}
		return func(ctx context.Context) error { return do(c.grpc.ListRecords(md(ctx), req, opts...)) }
	case OpGetSchema:
		req := &crmv1.ListPropertiesRequest{ObjectName: "pet"}
		return func(ctx context.Context) error { return do(c.grpc.ListProperties(md(ctx), req, opts...)) }
	}
	panic(fmt.Sprintf("no gRPC call for %v", op))
}
