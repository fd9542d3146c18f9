package client

import (
	"context"
	"errors"
	"io"
	"iter"

	"google.golang.org/protobuf/proto"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
)

// Records iterates over every record StreamRecords sends for req, in
// order. When the stream breaks with a retryable status (UNAVAILABLE, rate
// limiting), it is opened again from the cursor of the last message
// received, so no record is skipped or repeated; it gives up after the
// retry policy's MaxAttempts failures in a row without a new message. On
// failure the iterator yields one (nil, error) pair and stops. Stopping
// the loop early cancels the stream.
//
//	for rec, err := range c.Records(ctx, &crmv1.StreamRecordsRequest{ObjectName: "pet"}) {
//		if err != nil { return err }
//		...
//	}
func (c *Client) Records(ctx context.Context, req *crmv1.StreamRecordsRequest) iter.Seq2[*crmv1.Record, error] {
	return func(yield func(*crmv1.Record, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		r := proto.CloneOf(req)
		p := c.opts.Retry
		backoff := p.InitialBackoff
		failures := 0
		for {
			err := c.streamOnce(ctx, r, func(m *crmv1.StreamRecordsResponse) bool {
				failures, backoff = 0, p.InitialBackoff
				for _, rec := range m.GetItems() {
					if !yield(rec, nil) {
						return false
					}
				}
				// The last message has no cursor: the export is
				// complete even if the stream breaks before its end.
				r.Cursor = m.GetNextCursor()
				return r.Cursor != ""
			})
			if errors.Is(err, errStop) || err == nil {
				return
			}
			failures++
			wait, ok := retryDelay(err, false)
			if !ok || failures >= p.MaxAttempts || ctx.Err() != nil {
				yield(nil, err)
				return
			}
			wait = max(wait, jitter(backoff))
			backoff = min(2*backoff, p.MaxBackoff)
			if !sleep(ctx, wait) {
				yield(nil, err)
				return
			}
		}
	}
}

var errStop = errors.New("stopped by the caller")

// streamOnce runs one StreamRecords call, handing each message to each;
// it returns nil at the end of the stream, errStop if each said stop.
func (c *Client) streamOnce(ctx context.Context, req *crmv1.StreamRecordsRequest, each func(*crmv1.StreamRecordsResponse) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.CRM.StreamRecords(ctx, req)
	if err != nil {
		return err
	}
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !each(m) {
			return errStop
		}
	}
}
