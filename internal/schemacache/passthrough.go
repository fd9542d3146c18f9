package schemacache

import (
	"context"
	"net/http"

	"github.com/crmgate/crmgate/internal/crm"
)

var _ crm.Passthrough = (*Provider)(nil)

// Passthrough implements crm.Passthrough, passing through (ErrUnsupported
// when the wrapped provider cannot). A write the provider accepted (any
// method but GET, 2xx) invalidates the connection's cached schemas: the
// gateway cannot tell whether it changed an object or a field, and a
// schema changed through passthrough must not be served stale.
func (p *Provider) Passthrough(ctx context.Context, req crm.PassthroughRequest) (crm.PassthroughResponse, error) {
	pt, ok := p.inner.(crm.Passthrough)
	if !ok {
		return crm.PassthroughResponse{}, crm.ErrUnsupported
	}
	resp, err := pt.Passthrough(ctx, req)
	if err == nil && req.Method != http.MethodGet && resp.Status >= 200 && resp.Status < 300 {
		p.invalidate(ctx)
	}
	return resp, err
}
