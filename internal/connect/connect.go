// Package connect serves the browser side of OAuth connect flows, outside
// /v0 (a customer's browser carries no API key; a sealed token or state
// authenticates each step):
//
//	GET  /connect/{connector}?token=   the connect page: provider, Connect button
//	POST /connect/{connector}/start    the button: 303 to the provider's authorization page
//	GET  /connect/{connector}/callback the provider's redirect back (?code=&state=)
//
// The callback redirects to the flow's return URL with connection_id= (or
// error=) added, or shows a result page when the flow has none. A forged,
// tampered, expired or replayed state gets a 400 page and changes nothing.
package connect

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/oauth"
)

// Flow is what the handlers need of internal/oauth.Flow.
type Flow interface {
	OpenPage(ctx context.Context, token string) (oauth.Page, error)
	StartFromPage(ctx context.Context, token string) (string, error)
	Complete(ctx context.Context, connectorName, state, code, providerError string) (oauth.Result, error)
}

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// Handler serves the connect routes.
type Handler struct {
	flow  Flow
	names map[string]string
	log   *slog.Logger
}

// New returns the handler. names maps connector names to display names
// ("ghl" -> "HighLevel").
func New(flow Flow, names map[string]string, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{flow: flow, names: names, log: log}
}

// Routes returns the handler's routes for server.Config.Routes.
func (h *Handler) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /connect/{connector}":           http.HandlerFunc(h.page),
		"POST /connect/{connector}/start":    http.HandlerFunc(h.start),
		"GET /connect/{connector}/callback":  http.HandlerFunc(h.callback),
		"POST /connect/{connector}/callback": http.HandlerFunc(methodNotAllowed),
	}
}

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

func (h *Handler) display(connector string) string {
	if n := h.names[connector]; n != "" {
		return n
	}
	return connector
}

// view is what the templates render.
type view struct {
	Title        string
	Provider     string
	Connector    string
	Organisation string
	CustomerID   string
	Token        string
	Expires      string
	OK           bool
	Error        string
	ErrorCode    string
	ConnectionID string
	Account      string
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, v view) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	// The page URL carries a token: never send it on as a Referer.
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, v); err != nil {
		h.log.Warn("connect: render page", "page", name, "err", err)
	}
}

// stateError renders the page of a refused state or token.
func (h *Handler) stateError(w http.ResponseWriter, r *http.Request, connector string, err error) {
	v := view{Title: "Connection failed", Provider: h.display(connector), Connector: connector}
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, oauth.ErrExpiredState):
		v.ErrorCode, v.Error = "expired", "This connect link has expired. Ask for a new one."
	case errors.Is(err, oauth.ErrReplayedState):
		v.ErrorCode, v.Error = "replayed", "This connect link was already used. Start again to connect."
	case errors.Is(err, oauth.ErrInvalidState):
		v.ErrorCode, v.Error = "invalid", "This connect link is not valid."
	default:
		status = http.StatusServiceUnavailable
		v.ErrorCode, v.Error = "unavailable", "The connection could not be checked right now. Try again in a moment."
		h.log.ErrorContext(r.Context(), "connect: state check failed", "connector", connector, "err", err)
	}
	h.log.InfoContext(r.Context(), "connect: refused", "connector", connector, "reason", v.ErrorCode)
	h.render(w, status, "result.html", v)
}

// page is GET /connect/{connector}?token=.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	connector := r.PathValue("connector")
	p, err := h.flow.OpenPage(r.Context(), r.URL.Query().Get("token"))
	if err == nil && p.State.ConnectorName != connector {
		err = oauth.ErrInvalidState
	}
	if err != nil {
		h.stateError(w, r, connector, err)
		return
	}
	h.render(w, http.StatusOK, "page.html", view{
		Title: "Connect " + h.display(connector), Provider: h.display(connector), Connector: connector,
		Organisation: p.OrganisationName, CustomerID: p.State.CustomerID, Token: r.URL.Query().Get("token"),
		Expires: p.State.Expires().Format(time.RFC1123),
	})
}

// start is POST /connect/{connector}/start (form field token).
func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	connector := r.PathValue("connector")
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		h.stateError(w, r, connector, oauth.ErrInvalidState)
		return
	}
	u, err := h.flow.StartFromPage(r.Context(), r.PostForm.Get("token"))
	if err != nil && (errors.Is(err, oauth.ErrInvalidState) || errors.Is(err, oauth.ErrExpiredState)) {
		h.stateError(w, r, connector, err)
		return
	}
	if err != nil {
		code, msg, status := classify(err)
		h.logFailure(r, connector, code, err)
		h.render(w, status, "result.html", view{Title: "Connection failed", Provider: h.display(connector), Connector: connector, ErrorCode: code, Error: msg})
		return
	}
	http.Redirect(w, r, u, http.StatusSeeOther) //nolint:gosec // u is the provider's authorization URL built from the connector config, not from the request
}

// callback is GET /connect/{connector}/callback?code=&state=.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	connector := r.PathValue("connector")
	q := r.URL.Query()
	res, err := h.flow.Complete(r.Context(), connector, q.Get("state"), q.Get("code"), q.Get("error"))
	if res.State.ID == "" { // the state itself was refused: nothing to redirect to
		h.stateError(w, r, connector, err)
		return
	}
	v := view{Provider: h.display(connector), Connector: connector}
	status := http.StatusOK
	if err != nil {
		var msg string
		v.ErrorCode, msg, status = classify(err)
		v.Title, v.Error = "Connection failed", msg
		h.logFailure(r, connector, v.ErrorCode, err)
	} else {
		v.Title, v.OK, v.ConnectionID, v.Account = "Connected", true, res.Connection.ID, res.Account
	}
	if ret := res.State.ReturnURL; ret != "" {
		if u, perr := url.Parse(ret); perr == nil {
			qs := u.Query()
			if v.OK {
				qs.Set("connection_id", v.ConnectionID)
			} else {
				qs.Set("error", v.ErrorCode)
			}
			u.RawQuery = qs.Encode()
			w.Header().Set("Referrer-Policy", "no-referrer")
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return
		}
	}
	h.render(w, status, "result.html", v)
}

func (h *Handler) logFailure(r *http.Request, connector, code string, err error) {
	lvl := slog.LevelInfo
	if code == "server_error" {
		lvl = slog.LevelError
	}
	h.log.Log(r.Context(), lvl, "connect: flow failed", "connector", connector, "error_code", code, "err", err)
}

// classify maps a flow failure after the state was accepted to an error
// code (for return_url), a message for people and an HTTP status.
func classify(err error) (code, message string, status int) {
	var pe *crm.ProviderError
	var ae *apierr.Error
	switch {
	case errors.Is(err, oauth.ErrAccessDenied):
		return "access_denied", "The authorization was declined.", http.StatusBadRequest
	case errors.Is(err, oauth.ErrInvalidGrant):
		return "invalid_grant", "The provider refused the authorization code (it may have expired or been used). Start again to connect.", http.StatusBadRequest
	case errors.As(err, &ae) && (ae.Code == codes.FailedPrecondition || ae.Code == codes.NotFound || ae.Code == codes.InvalidArgument):
		return "configuration_error", "The connection is not set up correctly: " + ae.Message, http.StatusBadRequest
	case errors.As(err, &pe):
		return "provider_error", "The provider could not complete the connection. Try again in a moment.", http.StatusBadGateway
	default:
		return "server_error", "Something went wrong on our side. Try again in a moment.", http.StatusInternalServerError
	}
}
