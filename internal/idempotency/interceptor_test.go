package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/idempotency"
	"github.com/crmgate/crmgate/internal/upstream"
)

const method = "/crmgate.crm.v1.CrmService/CreateRecord"

var info = &grpc.UnaryServerInfo{FullMethod: method}

func callCtx(org, conn, key string) context.Context {
	md := metadata.Pairs(auth.HeaderConnectionID, conn)
	if key != "" {
		md.Set(idempotency.MetadataKey, key)
	}
	ctx := metadata.NewIncomingContext(context.Background(), md)
	return auth.WithPrincipal(ctx, auth.Principal{OrganisationID: org})
}

func createReq(name string) *crmv1.CreateRecordRequest {
	props, _ := structpb.NewStruct(map[string]any{"name": name, "age": 4})
	return &crmv1.CreateRecordRequest{ObjectName: "pet", Record: &crmv1.RecordInput{Properties: props}}
}

// handler counts its calls and answers a record named after the request,
// or err.
type handler struct {
	calls atomic.Int32
	err   error
	gate  chan struct{} // if set, each call waits for it
}

func (h *handler) handle(_ context.Context, req any) (any, error) {
	n := h.calls.Add(1)
	if h.gate != nil {
		<-h.gate
	}
	if h.err != nil {
		return nil, h.err
	}
	name := req.(*crmv1.CreateRecordRequest).GetRecord().GetProperties().GetFields()["name"].GetStringValue()
	return &crmv1.CreateRecordResponse{Record: &crmv1.Record{Id: fmt.Sprintf("rec_%d", n), ObjectName: "pet", Properties: must(structpb.NewStruct(map[string]any{"name": name}))}}, nil
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func eachStore(t *testing.T, f func(t *testing.T, s idempotency.Store)) {
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) { f(t, newStore(t)) })
	}
}

var methods = map[string]bool{method: true}

func TestReplay(t *testing.T) {
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		h := &handler{}
		ic := idempotency.UnaryInterceptor(s, methods, nil)
		ctx := callCtx("org1", "conn_a", "key-1")
		r1, err := ic(ctx, createReq("Rex"), info, h.handle)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ic(ctx, createReq("Rex"), info, h.handle)
		if err != nil {
			t.Fatal(err)
		}
		if h.calls.Load() != 1 {
			t.Fatalf("handler ran %d times; want 1", h.calls.Load())
		}
		if !proto.Equal(r1.(proto.Message), r2.(proto.Message)) {
			t.Fatalf("replay differs: %v vs %v", r1, r2)
		}
		// Another organisation's same key is another key.
		if _, err := ic(callCtx("org2", "conn_a", "key-1"), createReq("Rex"), info, h.handle); err != nil || h.calls.Load() != 2 {
			t.Fatalf("other org: %v, calls %d", err, h.calls.Load())
		}
		// No key: no idempotency.
		_, _ = ic(callCtx("org1", "conn_a", ""), createReq("Rex"), info, h.handle)
		_, _ = ic(callCtx("org1", "conn_a", ""), createReq("Rex"), info, h.handle)
		if h.calls.Load() != 4 {
			t.Fatalf("calls without a key: %d", h.calls.Load())
		}
		// Other methods pass through.
		other := &grpc.UnaryServerInfo{FullMethod: "/crmgate.crm.v1.CrmService/GetRecord"}
		_, _ = ic(ctx, createReq("Rex"), other, h.handle)
		if h.calls.Load() != 5 {
			t.Fatalf("other method: %d", h.calls.Load())
		}
	})
}

func TestMismatch(t *testing.T) {
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		h := &handler{}
		ic := idempotency.UnaryInterceptor(s, methods, nil)
		if _, err := ic(callCtx("org1", "conn_a", "k"), createReq("Rex"), info, h.handle); err != nil {
			t.Fatal(err)
		}
		for name, ctx := range map[string]context.Context{
			"other body":       callCtx("org1", "conn_a", "k"),
			"other connection": callCtx("org1", "conn_b", "k"),
		} {
			req := createReq("Rex")
			if name == "other body" {
				req = createReq("Max")
			}
			_, err := ic(ctx, req, info, h.handle)
			var me *idempotency.MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("%s: %v; want a MismatchError", name, err)
			}
			st, ok := status.FromError(err)
			if !ok || st.Code() != codes.InvalidArgument || reason(st) != idempotency.ReasonMismatch {
				t.Fatalf("%s: status %v", name, st)
			}
		}
		if h.calls.Load() != 1 {
			t.Fatalf("handler ran %d times", h.calls.Load())
		}
	})
}

func reason(st *status.Status) string {
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.GetReason()
		}
	}
	return ""
}

func TestConcurrentDuplicatesWait(t *testing.T) {
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		h := &handler{gate: make(chan struct{})}
		ic := idempotency.UnaryInterceptor(s, methods, nil)
		ctx := callCtx("org1", "conn_a", "k")
		var wg sync.WaitGroup
		results := make([]proto.Message, 5)
		errs := make([]error, 5)
		for i := range 5 {
			wg.Go(func() {
				r, err := ic(ctx, createReq("Rex"), info, h.handle)
				errs[i] = err
				if r != nil {
					results[i] = r.(proto.Message)
				}
			})
		}
		time.Sleep(100 * time.Millisecond) // all five are in: one runs, four wait
		close(h.gate)
		wg.Wait()
		for i := range 5 {
			if errs[i] != nil || !proto.Equal(results[i], results[0]) {
				t.Fatalf("call %d: %v %v", i, results[i], errs[i])
			}
		}
		if h.calls.Load() != 1 {
			t.Fatalf("handler ran %d times; want 1", h.calls.Load())
		}
	})
}

func TestInProgressTimesOut(t *testing.T) {
	s := idempotency.NewMemoryStore(nil)
	h := &handler{gate: make(chan struct{})}
	ic := idempotency.New(s, methods, nil, idempotency.Options{Wait: 50 * time.Millisecond}).Unary()
	ctx := callCtx("org1", "conn_a", "k")
	done := make(chan struct{})
	go func() {
		_, _ = ic(ctx, createReq("Rex"), info, h.handle)
		close(done)
	}()
	for h.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	_, err := ic(ctx, createReq("Rex"), info, h.handle)
	if st, _ := status.FromError(err); st.Code() != codes.Aborted || reason(st) != idempotency.ReasonInProgress {
		t.Fatalf("duplicate while in progress: %v", err)
	}
	close(h.gate)
	<-done
}

func TestFailedOutcomes(t *testing.T) {
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		ic := idempotency.UnaryInterceptor(s, methods, nil)
		for _, tc := range []struct {
			name string
			err  error
			kept bool
		}{
			{"unavailable is released", status.Error(codes.Unavailable, "ghl down"), false},
			{"rate limited is released", status.Error(codes.ResourceExhausted, "429"), false},
			{"invalid is released", status.Error(codes.InvalidArgument, "bad"), false},
			{"internal is kept", status.Error(codes.Internal, "internal error"), true},
			{"unknown outcome is kept", fmt.Errorf("ghl: %w", &upstream.UnknownOutcomeError{Method: "POST", Cause: context.DeadlineExceeded}), true},
			{"mapped unknown outcome is kept", must(status.New(codes.Unavailable, "outcome unknown").WithDetails(&errdetails.ErrorInfo{Reason: idempotency.ReasonUnknownOutcome})).Err(), true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := callCtx("org1", "conn_a", tc.name)
				h := &handler{err: tc.err}
				_, err1 := ic(ctx, createReq("Rex"), info, h.handle)
				if err1 != tc.err { //nolint:errorlint // the handler's own error must come back as is
					t.Fatalf("first call: %v; want the handler's error", err1)
				}
				h2 := &handler{}
				_, err2 := ic(ctx, createReq("Rex"), info, h2.handle)
				if tc.kept {
					st1, st2 := status.Convert(err1), status.Convert(err2)
					if h2.calls.Load() != 0 || st2.Code() != codesOf(tc.err, st1) {
						t.Fatalf("kept outcome: repeat ran %d times, got %v", h2.calls.Load(), err2)
					}
				} else if h2.calls.Load() != 1 || err2 != nil {
					t.Fatalf("released outcome: repeat ran %d times, got %v", h2.calls.Load(), err2)
				}
			})
		}
	})
}

// codesOf is the code a kept error replays with.
func codesOf(err error, st *status.Status) codes.Code {
	var uo *upstream.UnknownOutcomeError
	if errors.As(err, &uo) {
		return codes.Unavailable
	}
	return st.Code()
}

func TestBadKey(t *testing.T) {
	ic := idempotency.UnaryInterceptor(idempotency.NewMemoryStore(nil), methods, nil)
	h := &handler{}
	for _, k := range []string{string(make([]byte, 300)), "tab\there", "é"} {
		_, err := ic(callCtx("org1", "conn_a", k), createReq("Rex"), info, h.handle)
		if st, _ := status.FromError(err); st.Code() != codes.InvalidArgument || reason(st) != idempotency.ReasonInvalidKey {
			t.Errorf("key %q: %v", k, err)
		}
	}
	if h.calls.Load() != 0 {
		t.Error("handler ran for a bad key")
	}
}

// failingStore always fails, as a dead Redis does.
type failingStore struct{}

func (failingStore) Claim(context.Context, string, idempotency.Record, time.Duration) (idempotency.Record, bool, error) {
	return idempotency.Record{}, false, errors.New("redis: connection refused")
}
func (failingStore) Complete(context.Context, string, idempotency.Record, time.Duration) error {
	return errors.New("redis: connection refused")
}
func (failingStore) Release(context.Context, string, string) error {
	return errors.New("redis: connection refused")
}

func TestStoreOutage(t *testing.T) {
	h := &handler{}
	// Without a fallback: refused, never run unprotected.
	ic := idempotency.UnaryInterceptor(failingStore{}, methods, nil)
	_, err := ic(callCtx("org1", "conn_a", "k"), createReq("Rex"), info, h.handle)
	if st, _ := status.FromError(err); st.Code() != codes.Unavailable || h.calls.Load() != 0 {
		t.Fatalf("dead store: %v, handler ran %d times", err, h.calls.Load())
	}
	// With the in-process fallback: served, and repeats still deduplicated.
	ic = idempotency.UnaryInterceptor(idempotency.NewFallbackStore(failingStore{}, idempotency.NewMemoryStore(nil), nil), methods, nil)
	for range 3 {
		if _, err := ic(callCtx("org1", "conn_a", "k"), createReq("Rex"), info, h.handle); err != nil {
			t.Fatal(err)
		}
	}
	if h.calls.Load() != 1 {
		t.Fatalf("handler ran %d times through the fallback", h.calls.Load())
	}
}
