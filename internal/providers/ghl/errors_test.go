package ghl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
)

// TestErrorMapping: every non-2xx answer becomes a *crm.ProviderError
// carrying GHL's status, message and retry hint.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		header   map[string]string
		wantMsg  string
		wantWait time.Duration
		notFound bool
	}{
		{name: "400", status: 400, body: `{"statusCode":400,"message":"Bad Request"}`, wantMsg: "Bad Request"},
		{name: "401", status: 401, body: `{"statusCode":401,"message":"Invalid token: access token is invalid","error":"Unauthorized"}`,
			wantMsg: "Invalid token: access token is invalid"},
		{name: "401 scope", status: 401, body: `{"statusCode":401,"message":"The token is not authorized for this scope."}`,
			wantMsg: "The token is not authorized for this scope."},
		{name: "403", status: 403, body: `{"statusCode":403,"message":"The token does not have access to this location."}`,
			wantMsg: "The token does not have access to this location."},
		{name: "404", status: 404, body: `{"statusCode":404,"message":"Object schema custom_objects.x not found"}`,
			wantMsg: "Object schema x not found", notFound: true},
		{name: "400 custom object names", status: 400,
			body:    `{"statusCode":400,"message":"custom_objects.pet.name is required: it is the primary display property of custom_objects.pet"}`,
			wantMsg: "pet.name is required: it is the primary display property of pet"},
		{name: "422 custom object names in a list", status: 422,
			body:    `{"statusCode":422,"message":["custom_objects.pet.age must be a number","'custom_objects.' would be added as prefix by default","xcustom_objects.pet stays"]}`,
			wantMsg: "pet.age must be a number; 'custom_objects.' would be added as prefix by default; xcustom_objects.pet stays"},
		{name: "400 company field keys", status: 400,
			body:    `{"statusCode":400,"message":"business.email must be an email. Your business. Nobusiness.x"}`,
			wantMsg: "account.email must be an email. Your business. Nobusiness.x"},
		{name: "404 empty body", status: 404, body: ``, wantMsg: "Not Found", notFound: true},
		{name: "422 message array", status: 422,
			body:    `{"statusCode":422,"message":["locationId must be a string","name should not be empty"],"error":"Unprocessable Entity"}`,
			wantMsg: "locationId must be a string; name should not be empty"},
		{name: "422 only error", status: 422, body: `{"statusCode":422,"error":"Unprocessable Entity"}`, wantMsg: "Unprocessable Entity"},
		{name: "429 burst", status: 429, body: `{"statusCode":429,"message":"Too Many Requests"}`,
			header:  map[string]string{"X-RateLimit-Interval-Milliseconds": "10000", "X-RateLimit-Remaining": "0", "X-RateLimit-Daily-Remaining": "1000"},
			wantMsg: "Too Many Requests", wantWait: 10 * time.Second},
		{name: "429 retry-after wins", status: 429, body: `{"message":"Too Many Requests"}`,
			header:  map[string]string{"Retry-After": "3", "X-RateLimit-Interval-Milliseconds": "10000"},
			wantMsg: "Too Many Requests", wantWait: 3 * time.Second},
		{name: "429 daily exhausted", status: 429, body: `{"message":"Too Many Requests"}`,
			header:  map[string]string{"X-RateLimit-Interval-Milliseconds": "10000", "X-RateLimit-Daily-Remaining": "0"},
			wantMsg: "Too Many Requests (daily rate limit exhausted)"},
		{name: "500", status: 500, body: `{"statusCode":500,"message":"Internal server error"}`, wantMsg: "Internal server error"},
		{name: "500 empty", status: 500, body: ``, wantMsg: "Internal Server Error"},
		{name: "502 html", status: 502, body: `<html><body>Bad gateway</body></html>`, wantMsg: "Bad Gateway"},
		{name: "503 retry-after", status: 503, body: `upstream down`, header: map[string]string{"Retry-After": "120"},
			wantMsg: "Service Unavailable", wantWait: 2 * time.Minute},
		{name: "400 malformed JSON", status: 400, body: `{"statusCode":400,"message":`, wantMsg: "Bad Request"},
		{name: "400 message not text", status: 400, body: `{"message":{"nested":true}}`, wantMsg: "Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newScripted(t, exchange{method: "GET", path: "/objects/", query: locQ(), status: tt.status, resp: tt.body, header: tt.header})
			err := c.Check(context.Background())
			var pe *crm.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("err %v (%T), want *crm.ProviderError", err, err)
			}
			if pe.Provider != "ghl" || pe.Status != tt.status || pe.Message != tt.wantMsg || pe.RetryAfter != tt.wantWait || pe.Cause != nil {
				t.Errorf("got %+v, want status %d message %q retry %v", *pe, tt.status, tt.wantMsg, tt.wantWait)
			}
			if errors.Is(err, crm.ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(ErrNotFound) = %v", !tt.notFound)
			}
		})
	}
}

// TestBadSuccessAnswers: a 2xx answer that cannot be used is a
// ProviderError without status, with the cause.
func TestBadSuccessAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"malformed":     `{"objects":[`,
		"empty":         ``,
		"wrong shape":   `{"objects":{"a":1}}`,
		"trailing data": `{"objects":[]} {}`,
		"no key":        `{"objects":[{"id":"x"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			c := newScripted(t, exchange{method: "GET", path: "/objects/", query: locQ(), resp: body})
			_, err := c.ListObjects(context.Background())
			var pe *crm.ProviderError
			if !errors.As(err, &pe) || pe.Status != 0 || pe.Cause == nil {
				t.Fatalf("err %v, want a ProviderError with status 0 and a cause", err)
			}
		})
	}
}

// TestTransportErrors: no answer at all.
func TestTransportErrors(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		c, err := NewClient(ClientOptions{BaseURL: url, LocationID: testLoc, Token: StaticToken(testToken)})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Check(context.Background())
		var pe *crm.ProviderError
		if !errors.As(err, &pe) || pe.Status != 0 || pe.Cause == nil || pe.Provider != "ghl" {
			t.Fatalf("err %v, want a ProviderError with status 0 and a cause", err)
		}
		if !strings.HasPrefix(err.Error(), "ghl: request failed: ") {
			t.Errorf("message %q", err)
		}
	})

	block := func(t *testing.T) *Client {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(func() { close(release); srv.Close() })
		c, err := NewClient(ClientOptions{BaseURL: srv.URL, LocationID: testLoc, Token: StaticToken(testToken), HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("canceled", func(t *testing.T) {
		c := block(t)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		err := c.Check(ctx)
		var pe *crm.ProviderError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &pe) || pe.Status != 0 {
			t.Fatalf("err %v, want context.Canceled inside a ProviderError", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		c := block(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := c.Check(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("token source fails", func(t *testing.T) {
		c, err := NewClient(ClientOptions{BaseURL: "http://127.0.0.1:1", LocationID: testLoc, Token: StaticToken("")})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Check(context.Background()); err == nil {
			t.Fatal("no error")
		}
	})
}

// TestResponseTooLarge: bodies are read up to MaxResponseBytes only.
func TestResponseTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"objects":[],"pad":"`)
		_, _ = w.Write(bytes.Repeat([]byte("x"), 4096))
		_, _ = io.WriteString(w, `"}`)
	}))
	defer srv.Close()
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, LocationID: testLoc, Token: StaticToken(testToken), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if c.maxBody != MaxResponseBytes || MaxResponseBytes != 16<<20 {
		t.Fatalf("limit %d", c.maxBody)
	}
	c.maxBody = 4096
	_, err = c.ListObjects(context.Background())
	var pe *crm.ProviderError
	if !errors.As(err, &pe) || !errors.Is(err, errResponseTooLarge) {
		t.Fatalf("err %v, want errResponseTooLarge", err)
	}
	c.maxBody = 8192
	if _, err := c.ListObjects(context.Background()); err != nil {
		t.Fatalf("within the limit: %v", err)
	}
}

// TestTokenNeverLogged: the debug log names requests, never the token.
func TestTokenNeverLogged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"nope"}`, http.StatusUnauthorized)
	}))
	defer srv.Close()
	var buf bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := NewClient(ClientOptions{BaseURL: srv.URL, LocationID: testLoc, Token: StaticToken(testToken), HTTPClient: srv.Client(), Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Check(context.Background())
	srv.Close()
	_ = c.Check(context.Background())
	out := buf.String()
	if !strings.Contains(out, "/objects/") || !strings.Contains(out, "status=401") {
		t.Errorf("log lacks the request: %s", out)
	}
	if strings.Contains(out, testToken) {
		t.Errorf("log contains the token: %s", out)
	}
}

func TestNewClientValidation(t *testing.T) {
	ok := ClientOptions{BaseURL: "https://x.example", LocationID: "loc1", Token: StaticToken("t")}
	for name, mut := range map[string]func(*ClientOptions){
		"relative url":  func(o *ClientOptions) { o.BaseURL = "/api" },
		"ftp url":       func(o *ClientOptions) { o.BaseURL = "ftp://x.example" },
		"query":         func(o *ClientOptions) { o.BaseURL = "https://x.example/?a=b" },
		"no location":   func(o *ClientOptions) { o.LocationID = "" },
		"bad location":  func(o *ClientOptions) { o.LocationID = "loc/1" },
		"no token":      func(o *ClientOptions) { o.Token = nil },
		"empty baseurl": func(o *ClientOptions) { o.BaseURL = "" },
	} {
		o := ok
		mut(&o)
		if _, err := NewClient(o); !errors.Is(err, crm.ErrInvalidArgument) {
			t.Errorf("%s: err %v, want ErrInvalidArgument", name, err)
		}
	}
	if _, err := NewClient(ok); err != nil {
		t.Errorf("valid options: %v", err)
	}
}
