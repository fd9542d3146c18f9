package oauth

import (
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/crmgate/crmgate/internal/apierr"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrInvalidState: a state or connect-page token is malformed, forged,
	// tampered with, or sealed for another purpose.
	ErrInvalidState = errors.New("oauth: invalid state")
	// ErrExpiredState: a state or connect-page token has expired.
	ErrExpiredState = errors.New("oauth: state expired")
	// ErrReplayedState: an authorize state was used before.
	ErrReplayedState = errors.New("oauth: state already used")
	// ErrInvalidGrant: the provider refused an authorization code or a
	// refresh token for good (OAuth "invalid_grant": spent, revoked, or the
	// app was uninstalled). A RefreshFunc wraps it; the Manager then marks
	// the connection needs_reauth.
	ErrInvalidGrant = errors.New("oauth: grant refused by the provider (invalid_grant)")
	// ErrNeedsReauth: the connection's owner must connect it again.
	ErrNeedsReauth = errors.New("oauth: connection needs re-authorisation")
	// ErrNotConfigured: the connector config lacks what OAuth needs
	// (client id, secret, redirect URI).
	ErrNotConfigured = errors.New("oauth: connector config not set up for OAuth")
	// ErrNotAgency: the connection is not an agency connection that can
	// mint location connections.
	ErrNotAgency = errors.New("oauth: not an agency connection")
	// ErrAccessDenied: the provider sent the browser back with an error
	// instead of a code (the user declined), or with no code.
	ErrAccessDenied = errors.New("oauth: authorization declined")
)

// needsReauthError is the API error of a connection marked needs_reauth:
// FAILED_PRECONDITION naming the connection (as internal/connections
// words it), with ErrNeedsReauth as its cause.
func needsReauthError(connectionID, message string) error {
	e := apierr.New(codes.FailedPrecondition, "CONNECTION_NEEDS_REAUTH",
		"connection %q needs re-authorisation by its owner: %s", connectionID, message)
	e.Cause = ErrNeedsReauth
	return e
}
