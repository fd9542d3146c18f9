package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/crmgate/crmgate/internal/apierr"
)

func TestInflightLimit(t *testing.T) {
	lim := newInflight(2, 20*time.Millisecond)
	ic := lim.unary()
	info := &grpc.UnaryServerInfo{FullMethod: "/crmgate.crm.v1.CrmService/GetRecord"}
	block := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	var done sync.WaitGroup
	for range 2 {
		done.Add(1)
		go func() {
			defer done.Done()
			_, err := ic(context.Background(), nil, info, func(context.Context, any) (any, error) {
				started.Done()
				<-block
				return "ok", nil
			})
			if err != nil {
				t.Errorf("admitted call failed: %v", err)
			}
		}()
	}
	started.Wait()

	handler := func(context.Context, any) (any, error) { return "ok", nil }
	_, err := ic(context.Background(), nil, info, handler)
	if !errors.Is(err, errOverloaded) {
		t.Fatalf("third call: got %v, want errOverloaded", err)
	}
	st := status.Convert(apierr.Status(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), info.FullMethod, err))
	if st.Code() != codes.Unavailable {
		t.Fatalf("overload maps to %v, want Unavailable (HTTP 503)", st.Code())
	}
	// Health checks are never shed.
	if _, err := ic(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/grpc.health.v1.Health/Check"}, handler); err != nil {
		t.Fatalf("health check shed: %v", err)
	}
	// A caller whose deadline ends while queueing gets its own error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newInflightWait(lim).unary()(ctx, nil, info, handler); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while queued: got %v", err)
	}
	// A queued call gets the slot a finishing call frees.
	res := make(chan error, 1)
	go func() {
		_, err := newInflightWait(lim).unary()(context.Background(), nil, info, handler)
		res <- err
	}()
	time.Sleep(5 * time.Millisecond)
	close(block)
	done.Wait()
	if err := <-res; err != nil {
		t.Fatalf("queued call: %v", err)
	}
	if len(lim.slots) != 0 {
		t.Fatalf("%d slots still held after every call returned", len(lim.slots))
	}
}

// newInflightWait shares l's slots with a long queue wait.
func newInflightWait(l *inflight) *inflight {
	return &inflight{slots: l.slots, queueWait: time.Minute}
}

func TestInflightUnlimited(t *testing.T) {
	if newInflight(0, time.Second) != nil {
		t.Fatal("max 0 must mean no limiter")
	}
}
