package unified

import (
	"fmt"

	"google.golang.org/grpc"

	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

// StreamRecords implements CrmService: it pages through the provider as
// ListRecords does (same validation, same cursors, same errors) and sends
// one message per provider page.
//
// Memory stays flat whatever the number of records: the next page is read
// only after Send handed the previous one to the transport, and Send blocks
// while the client's flow-control window is full, so a slow reader slows
// the provider paging down instead of queueing pages in the gateway. At
// most one page is held at a time (plus what gRPC's window buffers).
// Cancellation (client gone, deadline) stops the paging before the next
// provider call.
func (s *Service) StreamRecords(req *crmv1.StreamRecordsRequest, stream grpc.ServerStreamingServer[crmv1.StreamRecordsResponse]) error {
	ctx := stream.Context()
	object := req.GetObjectName()
	if err := checkObjectName("object_name", object); err != nil {
		return err
	}
	n, err := pageSize(req.GetPageSize())
	if err != nil {
		return err
	}
	c, err := s.open(ctx)
	if err != nil {
		return err
	}
	target := "records:" + object
	pc, err := decodeCursor(req.GetCursor(), c.connID, target, "")
	if err != nil {
		return err
	}
	rr, err := capability[crm.RecordReader](c.p)
	if err != nil {
		return err
	}
	raw := req.GetIncludeRawData()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		pg, err := rr.ListRecords(ctx, object, crm.RecordQuery{Cursor: pc, PageSize: n, IncludeRaw: raw})
		if err != nil {
			return notFound(err, "object %q not found", object)
		}
		items, err := records(pg.Items, raw)
		if err != nil {
			return err
		}
		msg := &crmv1.StreamRecordsResponse{
			Items:      items,
			NextCursor: encodeCursor(c.connID, target, "", pg.NextCursor),
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
		if pg.NextCursor == "" {
			return nil
		}
		if pg.NextCursor == pc { // a provider bug would otherwise loop forever
			return fmt.Errorf("stream records of %q: provider returned the same cursor twice", object)
		}
		pc = pg.NextCursor
	}
}
