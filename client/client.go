// Package client is a small Go client for crmgate's gRPC API. It wraps the
// generated stubs (crmgate.crm.v1.CrmService, crmgate.core.v1.CoreService and,
// for operators, crmgate.admin.v1.AdminService) with what every caller needs:
//
//   - authentication: the API key (x-apikey) and connection id
//     (x-connection-id) sent with every call, set once on the client and
//     overridable per call (WithAPIKey, WithConnection); the admin key
//     (x-admin-key) for AdminService calls (Options.AdminKey);
//   - deadlines: a default timeout for each call whose context has no
//     deadline (Options.Timeout, 30s);
//   - retries: reads (List*, Get*, Search*, CheckConnection) and writes
//     sent with an idempotency key (WithIdempotencyKey, sent as the
//     idempotency-key metadata) are retried on UNAVAILABLE and on rate
//     limiting (RESOURCE_EXHAUSTED with RetryInfo, or ABORTED while the same
//     key is in progress), with capped exponential backoff and jitter,
//     waiting at least the server's RetryInfo delay and never past the
//     call's deadline. Writes without a key are never retried: the gateway
//     cannot tell a repeat from a new write;
//   - exports: Records iterates over StreamRecords and resumes from the
//     last cursor it received when the stream breaks (UNAVAILABLE).
//
// Use it as
//
//	c, err := client.Dial("localhost:9090", client.Options{APIKey: key, ConnectionID: conn, Insecure: true})
//	...
//	defer c.Close()
//	page, err := c.CRM.ListRecords(ctx, &crmv1.ListRecordsRequest{ObjectName: "pet"})
//	for rec, err := range c.Records(ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet"}) { ... }
package client

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	adminv1 "github.com/crmgate/crmgate/gen/crmgate/admin/v1"
	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	passthroughv1 "github.com/crmgate/crmgate/gen/crmgate/passthrough/v1"
)

// Metadata names the gateway reads.
const (
	MetadataAPIKey         = "x-apikey"
	MetadataConnectionID   = "x-connection-id"
	MetadataIdempotencyKey = "idempotency-key"
	MetadataAdminKey       = "x-admin-key"
)

// Defaults of Options.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultMaxAttempts    = 4
	DefaultInitialBackoff = 200 * time.Millisecond
	DefaultMaxBackoff     = 5 * time.Second
)

// Options configures a Client; zero fields take the defaults.
type Options struct {
	// APIKey is sent as x-apikey with every call (WithAPIKey overrides it).
	APIKey string
	// AdminKey is sent as x-admin-key with every call: the operators' key
	// the Admin API (Client.Admin) takes; organisation calls ignore it.
	AdminKey string
	// ConnectionID is sent as x-connection-id with every call
	// (WithConnection overrides it); core calls about organisations need
	// none.
	ConnectionID string
	// Timeout bounds each unary call (retries included) whose context has
	// no deadline: 0 means 30s, negative means none. Streams get no
	// default deadline (an export may take long); cancel their context.
	Timeout time.Duration
	// Retry is the retry policy; the zero value is the default policy.
	Retry RetryPolicy
	// Insecure dials without TLS (local gateways, tests); otherwise the
	// system's root certificates are used, unless DialOptions set
	// transport credentials.
	Insecure bool
	// DialOptions are passed to grpc.NewClient after the client's own.
	DialOptions []grpc.DialOption
}

// RetryPolicy controls retries of idempotent calls.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt: 0 means 4; 1 disables retries.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry (0: 200ms),
	// doubled up to MaxBackoff (0: 5s); each wait is jittered to between
	// half and all of it.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = DefaultInitialBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	return p
}

// Client is a crmgate gRPC client. Its stubs are safe for concurrent use.
type Client struct {
	// CRM is the unified CRM API (records, schemas, relations).
	CRM crmv1.CrmServiceClient
	// Core manages connector configs and connections.
	Core corev1.CoreServiceClient
	// Admin manages organisations and API keys (needs Options.AdminKey).
	Admin adminv1.AdminServiceClient
	// Passthrough sends calls to the connection's provider API as given
	// (method, path below the connector config's base URL, query, headers,
	// body) and answers the provider's status, headers and body. Retried
	// here only with an idempotency key (WithIdempotencyKey).
	Passthrough passthroughv1.PassthroughServiceClient

	cc    grpc.ClientConnInterface
	owned *grpc.ClientConn
	opts  Options
}

// Dial connects to a gateway's gRPC address (host:port). Close the client
// when done.
func Dial(target string, o Options) (*Client, error) {
	var dial []grpc.DialOption
	if o.Insecure {
		dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		dial = append(dial, grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(nil, "")))
	}
	conn, err := grpc.NewClient(target, append(dial, o.DialOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("crmgate client: %w", err)
	}
	c := New(conn, o)
	c.owned = conn
	return c, nil
}

// New wraps an existing connection (which the caller keeps and closes).
func New(cc grpc.ClientConnInterface, o Options) *Client {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	o.Retry = o.Retry.withDefaults()
	c := &Client{opts: o}
	c.cc = &conn{cc: cc, opts: o}
	c.CRM = crmv1.NewCrmServiceClient(c.cc)
	c.Core = corev1.NewCoreServiceClient(c.cc)
	c.Admin = adminv1.NewAdminServiceClient(c.cc)
	c.Passthrough = passthroughv1.NewPassthroughServiceClient(c.cc)
	return c
}

// Conn is the wrapped connection (auth metadata, deadlines and retries
// applied), for other stubs generated from crmgate's protos.
func (c *Client) Conn() grpc.ClientConnInterface { return c.cc }

// Close closes the connection Dial made (nothing for New).
func (c *Client) Close() error {
	if c.owned == nil {
		return nil
	}
	return c.owned.Close()
}

// ---------------------------------------------------------------------------
// Per-call settings

type ctxKey int

const (
	keyAPIKey ctxKey = iota
	keyConnection
	keyIdempotency
)

// WithAPIKey sends key instead of the client's API key on calls made with ctx.
func WithAPIKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyAPIKey, key)
}

// WithConnection sends connID instead of the client's connection id on
// calls made with ctx.
func WithConnection(ctx context.Context, connID string) context.Context {
	return context.WithValue(ctx, keyConnection, connID)
}

// WithIdempotencyKey sends key as the idempotency-key of the write made
// with ctx, which makes the write safe to retry (and the client retries
// it). Use one fresh key per logical write (NewIdempotencyKey), never
// the same key for two different writes.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyIdempotency, key)
}

// NewIdempotencyKey returns a random key (128 bits) for WithIdempotencyKey.
func NewIdempotencyKey() string {
	return crand.Text()
}

// ---------------------------------------------------------------------------
// The wrapped connection

// conn applies the client's metadata, deadline and retries to each call.
type conn struct {
	cc   grpc.ClientConnInterface
	opts Options
}

var _ grpc.ClientConnInterface = (*conn)(nil)

// outgoing adds the call's auth and idempotency metadata to ctx; it
// reports whether the call carries an idempotency key.
func (c *conn) outgoing(ctx context.Context) (context.Context, bool) {
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	set := func(k string, ctxKey ctxKey, def string) {
		v, _ := ctx.Value(ctxKey).(string)
		if v == "" {
			v = def
		}
		if v != "" && len(md.Get(k)) == 0 {
			md.Set(k, v)
		}
	}
	set(MetadataAPIKey, keyAPIKey, c.opts.APIKey)
	set(MetadataConnectionID, keyConnection, c.opts.ConnectionID)
	set(MetadataIdempotencyKey, keyIdempotency, "")
	if c.opts.AdminKey != "" && len(md.Get(MetadataAdminKey)) == 0 {
		md.Set(MetadataAdminKey, c.opts.AdminKey)
	}
	return metadata.NewOutgoingContext(ctx, md), len(md.Get(MetadataIdempotencyKey)) > 0
}

// Invoke runs a unary call with retries.
func (c *conn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	ctx, keyed := c.outgoing(ctx)
	if _, ok := ctx.Deadline(); !ok && c.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.Timeout)
		defer cancel()
	}
	retryable := keyed || isRead(method)
	p := c.opts.Retry
	backoff := p.InitialBackoff
	for attempt := 1; ; attempt++ {
		err := c.cc.Invoke(ctx, method, args, reply, opts...)
		if err == nil || !retryable || attempt >= p.MaxAttempts {
			return err
		}
		wait, ok := retryDelay(err, keyed)
		if !ok {
			return err
		}
		wait = max(wait, jitter(backoff))
		backoff = min(2*backoff, p.MaxBackoff)
		if !sleep(ctx, wait) {
			return err
		}
	}
}

// NewStream opens a stream with the call's metadata. Streams are not
// retried here (Records resumes exports from their cursor).
func (c *conn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	ctx, _ = c.outgoing(ctx)
	return c.cc.NewStream(ctx, desc, method, opts...)
}

// isRead tells the methods that change nothing, by name.
func isRead(method string) bool {
	name := method[strings.LastIndex(method, "/")+1:]
	for _, p := range []string{"List", "Get", "Search", "Stream"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return name == "CheckConnection"
}

// retryDelay tells whether err is worth retrying and the least wait the
// server asked for.
func retryDelay(err error, keyed bool) (time.Duration, bool) {
	st, ok := status.FromError(err)
	if !ok {
		return 0, false
	}
	var (
		wait   time.Duration
		hinted bool
		reason string
	)
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.RetryInfo:
			wait, hinted = d.GetRetryDelay().AsDuration(), true
		case *errdetails.ErrorInfo:
			reason = d.GetReason()
		}
	}
	switch st.Code() {
	case codes.Unavailable:
		return wait, true
	case codes.ResourceExhausted:
		// Rate limits carry RetryInfo; a message over the size limit
		// (also RESOURCE_EXHAUSTED) does not, and would fail again.
		return wait, hinted
	case codes.Aborted:
		// The same idempotency key is still being processed.
		return wait, keyed && reason == "IDEMPOTENCY_KEY_IN_PROGRESS"
	}
	return 0, false
}

func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2) //nolint:gosec // jitter
}

// sleep waits d unless ctx ends first, or would end before d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// IsRetryable reports whether err is a status the client retries for
// idempotent calls (for callers with their own loops).
func IsRetryable(err error) bool {
	_, ok := retryDelay(err, true)
	return ok && !errors.Is(err, context.Canceled)
}
