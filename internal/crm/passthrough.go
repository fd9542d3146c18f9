package crm

import (
	"context"
	"net/http"
)

// Passthrough is an optional Provider capability: sending a call to the
// provider's own API as the caller gave it (method, path below the
// connection's base URL, query, headers, body), with the connection's
// credentials, through the same resilient transport as every other call.
// The provider's answer comes back whole, whatever its status: a 404 or a
// 422 of the provider is a PassthroughResponse, not an error.
//
// Errors are the gateway's only: the request could not be sent (a
// *ProviderError with Status 0, or the transport's refusals: rate limited,
// circuit open), ErrInvalidArgument for a path the adapter refuses (e.g.
// the provider's token endpoints), ErrUnsupported when this connection
// cannot pass calls through.
//
// The caller of Passthrough has checked the request already (see
// internal/passthrough): Path is clean and cannot leave the base URL,
// Header holds none of the caller's credentials or hop-by-hop headers.
type Passthrough interface {
	Passthrough(ctx context.Context, req PassthroughRequest) (PassthroughResponse, error)
}

// PassthroughRequest is one call to the provider's own API.
type PassthroughRequest struct {
	// Method is GET, POST, PUT, PATCH or DELETE.
	Method string
	// Path is the escaped path below the provider's base URL, starting
	// with "/", e.g. "/contacts/" (no dot segments, no empty segments, no
	// encoded '/' or '\').
	Path string
	// RawQuery is the escaped query without '?', e.g. "locationId=abc".
	RawQuery string
	// Header is what the caller sent, minus its credentials and the
	// hop-by-hop headers; the adapter adds the connection's credentials
	// and the headers the provider requires (e.g. GHL's Version, unless
	// given).
	Header http.Header
	// Body is sent as it is (nil: none).
	Body []byte
}

// PassthroughResponse is the provider's answer, unchanged but for its
// headers: the adapter leaves out none, the caller of Passthrough removes
// the hop-by-hop and credential headers before answering.
type PassthroughResponse struct {
	Status int
	Header http.Header
	Body   []byte
}
