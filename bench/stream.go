package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/metadata"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// MaxStreamRSSGrowth bounds how much the gateway's RSS may grow during the
// second half of a StreamRecords export: the gateway holds one page at a
// time, so the export's size must not show in its memory. The first half
// is left out because the gateway's GC heap floor (GATEWAY_GC_HEAP_FLOOR,
// 64 MiB) lets its heap fill up to the floor before collecting, which on a
// short export (or a -race build) is still under way; a leak that grows
// with the records shows in the second half as well.
const MaxStreamRSSGrowth = 32 << 20

// walkStream exports every record of the walk object with one
// StreamRecords call (100 per message), checking order and completeness
// and sampling the gateway's RSS after each chunk as walk does; the walk
// fails if the RSS grows by more than MaxStreamRSSGrowth over the second
// half of the export (memory not flat).
func walkStream(ctx context.Context, o Options, gw *Gateway, cl *clients, conn string) WalkResult {
	chunk := max(o.WalkRecords/10, 100)
	w := WalkResult{Target: TGRPC, Stream: true, Chunk: chunk}
	start := time.Now()
	tally := newWalkTally(&w, gw.Pid(), chunk, start)
	mctx := metadata.AppendToOutgoingContext(ctx, "x-apikey", gw.APIKey, "x-connection-id", conn)
	st, err := cl.grpc.StreamRecords(mctx, &crmv1.StreamRecordsRequest{ObjectName: walkObject, PageSize: 100})
	if err != nil {
		w.Problem = err.Error()
		return w
	}
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Problem = err.Error()
			return w
		}
		w.Pages++
		for _, it := range m.GetItems() {
			if !tally.add(it.GetId()) {
				return w
			}
		}
	}
	if !tally.done(start, o.WalkRecords, "stream") {
		return w
	}
	if len(w.RSS) > 1 {
		half := w.RSS[(len(w.RSS)-1)/2:]
		peak := half[0]
		for _, r := range half[1:] {
			peak = max(peak, r)
		}
		if growth := peak - half[0]; growth > MaxStreamRSSGrowth {
			w.OK = false
			w.Problem = fmt.Sprintf("gateway RSS grew by %s over the second half of the export (limit %s): memory is not flat", mib(growth), mib(MaxStreamRSSGrowth))
		}
	}
	return w
}

// Via names how a walk was made.
func (w WalkResult) Via() string {
	if w.Stream {
		return w.Target.String() + " StreamRecords"
	}
	return w.Target.String() + " ListRecords"
}
