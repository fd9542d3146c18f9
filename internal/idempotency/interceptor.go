// Package idempotency makes creates safe to retry: a gRPC unary server
// interceptor that honours an Idempotency-Key (gRPC metadata
// "idempotency-key"; REST header Idempotency-Key, forwarded by the gateway
// as that metadata). The first call with a key runs and its outcome is kept
// (24h by default); a repeat with the same key and the same request gets
// the kept outcome without running the handler again; the same key with a
// different request is refused (*MismatchError, meant to become HTTP 422).
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/upstream"
)

// Metadata names.
const (
	// MetadataKey carries the caller's key (REST: Idempotency-Key).
	MetadataKey = "idempotency-key"
	// ReplayedKey is set to "true" in the response header metadata of an
	// answer replayed from the store (REST: Grpc-Metadata-Idempotent-Replayed).
	ReplayedKey = "idempotent-replayed"
	// MaxKeyLen bounds a key.
	MaxKeyLen = 255
)

// Reasons in the ErrorInfo of the errors this package returns.
const (
	ReasonMismatch         = "IDEMPOTENCY_KEY_REUSED"
	ReasonInProgress       = "IDEMPOTENCY_KEY_IN_PROGRESS"
	ReasonInvalidKey       = "IDEMPOTENCY_KEY_INVALID"
	ReasonStoreUnavailable = "IDEMPOTENCY_STORE_UNAVAILABLE"
	// ReasonUnknownOutcome is the reason the lead's error mapper is expected
	// to give an *upstream.UnknownOutcomeError; such an outcome is kept,
	// never released, so a repeat cannot create a duplicate.
	ReasonUnknownOutcome = "UNKNOWN_OUTCOME"
)

// HTTPStatusMismatch is the HTTP status a *MismatchError should be given
// by the REST error mapper (gRPC has no code for it).
const HTTPStatusMismatch = 422

// Defaults of Options.
const (
	DefaultTTL   = 24 * time.Hour
	DefaultLease = 10 * time.Minute
	DefaultWait  = 10 * time.Second
)

// Options configures the interceptor; zero fields take the defaults.
type Options struct {
	// TTL keeps an outcome: 0 means 24h.
	TTL time.Duration
	// Lease is how long a claim stays "in progress" if the call that holds
	// it never finishes (a crashed replica): 0 means 10m. Keep it above the
	// longest a create can take.
	Lease time.Duration
	// Wait is how long a concurrent duplicate waits for the first call's
	// outcome before getting ABORTED "in progress": 0 means 10s (always
	// bounded by its context).
	Wait time.Duration
	// StatusOf turns a handler error into its final status, for storing.
	// nil: status.FromError, and a non-status error is stored as INTERNAL
	// "internal error". Pass the server's error mapper when this
	// interceptor runs outside it.
	StatusOf func(ctx context.Context, method string, err error) *status.Status
	// Observer is told of every replayed answer (metrics); nil: none.
	Observer Observer
}

// Observer is told when a call is answered from a kept outcome; method is
// the full gRPC method (one of the interceptor's methods).
type Observer interface {
	IdempotentReplay(ctx context.Context, method string)
}

// MismatchError: the idempotency key was used before with a different
// request (other body or other connection). Its gRPC status is
// INVALID_ARGUMENT with ErrorInfo reason IDEMPOTENCY_KEY_REUSED and
// metadata http_status "422"; the REST mapper should answer 422.
type MismatchError struct {
	Key string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("idempotency-key %q was already used with a different request", clip(e.Key))
}

// GRPCStatus makes the error a gRPC status wherever it goes.
func (e *MismatchError) GRPCStatus() *status.Status {
	return build(codes.InvalidArgument, e.Error(), ReasonMismatch, map[string]string{"http_status": "422"},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
			Field: MetadataKey, Description: "already used with a different request; use a new key for a new request",
		}}})
}

func build(code codes.Code, msg, reason string, md map[string]string, extra ...protoadapt.MessageV1) *status.Status {
	m := map[string]string{"origin": apierr.OriginGateway}
	for k, v := range md {
		m[k] = v
	}
	st := status.New(code, msg)
	details := append([]protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: apierr.Domain, Metadata: m}}, extra...)
	if ws, err := st.WithDetails(details...); err == nil {
		return ws
	}
	return st
}

// Interceptor is the idempotency interceptor.
type Interceptor struct {
	store   Store
	methods map[string]bool
	log     *slog.Logger
	o       Options
}

// New returns the interceptor for methods (full gRPC method names, e.g.
// "/crmgate.crm.v1.CrmService/CreateRecord"); log nil discards.
func New(store Store, methods map[string]bool, log *slog.Logger, o Options) *Interceptor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	return &Interceptor{store: store, methods: methods, log: log, o: o}
}

// UnaryInterceptor returns the interceptor with default Options. It must
// run after authentication (it scopes keys by organisation).
func UnaryInterceptor(store Store, methods map[string]bool, log *slog.Logger) grpc.UnaryServerInterceptor {
	return New(store, methods, log, Options{}).Unary()
}

// Unary returns the grpc.UnaryServerInterceptor.
func (i *Interceptor) Unary() grpc.UnaryServerInterceptor { return i.intercept }

func (i *Interceptor) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !i.methods[info.FullMethod] {
		return handler(ctx, req)
	}
	key := auth.MetadataValue(ctx, MetadataKey)
	if key == "" {
		return handler(ctx, req)
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	msg, ok := req.(proto.Message)
	p, authed := auth.FromContext(ctx)
	if !ok || !authed {
		return handler(ctx, req) // not ours to judge; authentication refuses it
	}
	fp, err := fingerprint(msg, auth.MetadataValue(ctx, auth.HeaderConnectionID))
	if err != nil {
		return nil, status.Error(codes.Internal, "internal error")
	}
	skey := storeKey(p.OrganisationID, info.FullMethod, key)
	claim := Record{Token: newToken(), Fingerprint: fp}

	deadline := time.Now().Add(i.o.Wait)
	poll := 20 * time.Millisecond
	for {
		cur, claimed, err := i.store.Claim(ctx, skey, claim, i.o.Lease)
		if err != nil {
			if ctx.Err() != nil {
				return nil, status.FromContextError(ctx.Err()).Err()
			}
			i.log.WarnContext(ctx, "idempotency store failed", "method", info.FullMethod, "err", err)
			return nil, build(codes.Unavailable, "idempotency store unavailable; retry with the same key", ReasonStoreUnavailable, nil).Err()
		}
		if claimed {
			return i.run(ctx, req, info, handler, skey, claim)
		}
		if !bytes.Equal(cur.Fingerprint, fp) {
			return nil, &MismatchError{Key: key}
		}
		if cur.Done {
			if i.o.Observer != nil {
				i.o.Observer.IdempotentReplay(ctx, info.FullMethod)
			}
			return i.replay(ctx, cur)
		}
		// The first call is still running: wait for its outcome, bounded.
		wait := min(poll, time.Until(deadline))
		if wait <= 0 {
			return nil, build(codes.Aborted, "a request with this idempotency-key is still in progress; retry later", ReasonInProgress, nil,
				&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)}).Err()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-t.C:
		}
		poll = min(poll*2, 500*time.Millisecond)
	}
}

// run calls the handler as the holder of the key and keeps its outcome.
func (i *Interceptor) run(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler, skey string, claim Record) (resp any, herr error) {
	// Storing must not depend on the caller staying.
	storeCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	}
	defer func() {
		if r := recover(); r != nil {
			sctx, cancel := storeCtx()
			_ = i.store.Release(sctx, skey, claim.Token)
			cancel()
			panic(r)
		}
	}()
	resp, herr = handler(ctx, req)

	sctx, cancel := storeCtx()
	defer cancel()
	rec := claim
	rec.Done = true
	if herr == nil {
		m, ok := resp.(proto.Message)
		if !ok {
			_ = i.store.Release(sctx, skey, claim.Token)
			return resp, nil
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			i.log.ErrorContext(ctx, "idempotency: encoding response", "method", info.FullMethod, "err", err)
			_ = i.store.Release(sctx, skey, claim.Token)
			return resp, nil
		}
		rec.ResponseType, rec.Response = string(m.ProtoReflect().Descriptor().FullName()), b
	} else {
		st := i.statusOf(ctx, info.FullMethod, herr)
		if releasable(st, herr) {
			if err := i.store.Release(sctx, skey, claim.Token); err != nil {
				i.log.WarnContext(ctx, "idempotency: releasing key", "method", info.FullMethod, "err", err)
			}
			return nil, herr
		}
		b, err := proto.Marshal(st.Proto())
		if err != nil {
			_ = i.store.Release(sctx, skey, claim.Token)
			return nil, herr
		}
		rec.Status = b
	}
	if err := i.store.Complete(sctx, skey, rec, i.o.TTL); err != nil {
		// The outcome is returned, but a repeat will see "in progress"
		// until the lease expires, then run again.
		i.log.ErrorContext(ctx, "idempotency: storing outcome failed", "method", info.FullMethod, "err", err)
	}
	return resp, herr
}

func (i *Interceptor) statusOf(ctx context.Context, method string, err error) *status.Status {
	if i.o.StatusOf != nil {
		if st := i.o.StatusOf(ctx, method, err); st != nil {
			return st
		}
	}
	if st, ok := status.FromError(err); ok {
		return st
	}
	var uo *upstream.UnknownOutcomeError
	if errors.As(err, &uo) {
		return build(codes.Unavailable, "the provider may or may not have performed the request; check before retrying", ReasonUnknownOutcome, nil)
	}
	return status.New(codes.Internal, "internal error")
}

// releasable tells whether a failed outcome leaves nothing done, so the key
// is freed for a retry. Kept are outcomes that may have acted: an unknown
// outcome, INTERNAL, UNKNOWN and DATA_LOSS.
func releasable(st *status.Status, err error) bool {
	var uo *upstream.UnknownOutcomeError
	if errors.As(err, &uo) {
		return false
	}
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.GetReason() == ReasonUnknownOutcome {
			return false
		}
	}
	switch st.Code() {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.OK:
		return false
	}
	return true
}

// replay answers a kept outcome.
func (i *Interceptor) replay(ctx context.Context, rec Record) (any, error) {
	_ = grpc.SetHeader(ctx, metadata.Pairs(ReplayedKey, "true")) // best effort: absent outside a gRPC server
	if len(rec.Status) > 0 {
		var s spb.Status
		if err := proto.Unmarshal(rec.Status, &s); err != nil {
			return nil, status.Error(codes.Internal, "internal error")
		}
		return nil, status.FromProto(&s).Err()
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(rec.ResponseType))
	if err != nil {
		i.log.ErrorContext(ctx, "idempotency: unknown stored response type", "type", rec.ResponseType)
		return nil, status.Error(codes.Internal, "internal error")
	}
	m := mt.New().Interface()
	if err := proto.Unmarshal(rec.Response, m); err != nil {
		return nil, status.Error(codes.Internal, "internal error")
	}
	return m, nil
}

// checkKey accepts 1–255 printable ASCII characters.
func checkKey(k string) error {
	if len(k) > MaxKeyLen {
		return keyError(fmt.Sprintf("is longer than %d characters", MaxKeyLen))
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return keyError("must be printable ASCII")
		}
	}
	return nil
}

func keyError(desc string) error {
	return build(codes.InvalidArgument, MetadataKey+": "+desc, ReasonInvalidKey, nil,
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: MetadataKey, Description: desc}}}).Err()
}

// storeKey scopes a key by organisation and method, hashed so any key is
// safe as a Redis key.
func storeKey(org, method, key string) string {
	h := sha256.New()
	for _, s := range []string{org, method, key} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "idem:" + hex.EncodeToString(h.Sum(nil))
}

// fingerprint is SHA-256 over the deterministic protobuf encoding of the
// request and the connection id.
func fingerprint(m proto.Message, connID string) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(b)
	h.Write([]byte{0})
	h.Write([]byte(connID))
	return h.Sum(nil), nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
