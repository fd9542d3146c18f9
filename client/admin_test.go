package client

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	adminv1 "github.com/crmgate/crmgate/gen/crmgate/admin/v1"
)

// recording is a connection that records the outgoing metadata of unary
// calls and answers them empty.
type recording struct{ md metadata.MD }

func (r *recording) Invoke(ctx context.Context, _ string, _, _ any, _ ...grpc.CallOption) error {
	r.md, _ = metadata.FromOutgoingContext(ctx)
	return nil
}

func (r *recording) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, errors.New("no streams")
}

// TestAdminKeySent: Options.AdminKey goes out as x-admin-key; without it
// none is sent.
func TestAdminKeySent(t *testing.T) {
	rec := &recording{}
	c := New(rec, Options{AdminKey: "cga_test"})
	if _, err := c.Admin.ListOrganisations(t.Context(), &adminv1.ListOrganisationsRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := rec.md.Get(MetadataAdminKey); len(got) != 1 || got[0] != "cga_test" {
		t.Errorf("x-admin-key = %v", got)
	}
	c = New(rec, Options{APIKey: "cgk_test"})
	if _, err := c.Admin.ListOrganisations(t.Context(), &adminv1.ListOrganisationsRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := rec.md.Get(MetadataAdminKey); len(got) != 0 {
		t.Errorf("x-admin-key sent without Options.AdminKey: %v", got)
	}
}
