package ghl

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

func violationOn(t *testing.T, err error, field string) {
	t.Helper()
	var ve *crm.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v, want a ValidationError on %s", err, field)
	}
	for _, v := range ve.Violations {
		if v.Field == field {
			return
		}
	}
	t.Errorf("violations %+v, want one on %s", ve.Violations, field)
}

func TestCheckConfig(t *testing.T) {
	c := NewConnector(ConnectorOptions{})
	if c.Name() != "ghl" {
		t.Errorf("Name %q", c.Name())
	}
	tests := []struct {
		name      string
		in        map[string]string
		prev      *crm.SplitSettings
		want      crm.SplitSettings
		violation string
	}{
		{name: "defaults", in: map[string]string{},
			want: crm.SplitSettings{Public: map[string]string{"base_url": DefaultBaseURL}, Secret: map[string]string{}}},
		{name: "full", in: map[string]string{"client_id": "cid", "client_secret": " csecret ", "base_url": "http://fake.local:8080/ghl/"},
			want: crm.SplitSettings{Public: map[string]string{"client_id": "cid", "base_url": "http://fake.local:8080/ghl/"}, Secret: map[string]string{"client_secret": "csecret"}}},
		{name: "unknown key", in: map[string]string{"colour": "red"}, violation: "colour"},
		{name: "relative url", in: map[string]string{"base_url": "/api"}, violation: "base_url"},
		{name: "ftp url", in: map[string]string{"base_url": "ftp://x"}, violation: "base_url"},
		{name: "url with query", in: map[string]string{"base_url": "https://x/?a=1"}, violation: "base_url"},
		{name: "id without secret", in: map[string]string{"client_id": "cid"}, violation: "client_secret"},
		{name: "secret without id", in: map[string]string{"client_secret": "s"}, violation: "client_id"},
		{name: "update keeps absent keys",
			in:   map[string]string{"base_url": "https://other.example"},
			prev: &crm.SplitSettings{Public: map[string]string{"client_id": "cid", "base_url": DefaultBaseURL}, Secret: map[string]string{"client_secret": "s"}},
			want: crm.SplitSettings{Public: map[string]string{"client_id": "cid", "base_url": "https://other.example"}, Secret: map[string]string{"client_secret": "s"}}},
		{name: "update clears with empty value",
			in:   map[string]string{"client_id": "", "client_secret": "", "base_url": ""},
			prev: &crm.SplitSettings{Public: map[string]string{"client_id": "cid", "base_url": "https://other.example"}, Secret: map[string]string{"client_secret": "s"}},
			want: crm.SplitSettings{Public: map[string]string{"base_url": DefaultBaseURL}, Secret: map[string]string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.CheckConfig(tt.in, tt.prev)
			if tt.violation != "" {
				violationOn(t, err, tt.violation)
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	custom := NewConnector(ConnectorOptions{DefaultBaseURL: "http://127.0.0.1:9999"})
	if got, err := custom.CheckConfig(nil, nil); err != nil || got.Public["base_url"] != "http://127.0.0.1:9999" {
		t.Errorf("custom default: %+v, %v", got, err)
	}
}

func TestCheckConnection(t *testing.T) {
	c := NewConnector(ConnectorOptions{})
	tests := []struct {
		name      string
		in        map[string]string
		prev      *crm.SplitSettings
		want      crm.SplitSettings
		auth      string
		violation string
	}{
		{name: "pit", in: map[string]string{"location_id": "loc1", "private_integration_token": "pit-1"}, auth: "pit",
			want: crm.SplitSettings{Public: map[string]string{"location_id": "loc1"}, Secret: map[string]string{"private_integration_token": "pit-1"}}},
		{name: "oauth", in: map[string]string{"location_id": "loc1", "access_token": "at", "refresh_token": "rt"}, auth: "oauth",
			want: crm.SplitSettings{Public: map[string]string{"location_id": "loc1"}, Secret: map[string]string{"access_token": "at", "refresh_token": "rt"}}},
		{name: "oauth refresh only", in: map[string]string{"location_id": "loc1", "refresh_token": "rt"}, auth: "oauth",
			want: crm.SplitSettings{Public: map[string]string{"location_id": "loc1"}, Secret: map[string]string{"refresh_token": "rt"}}},
		{name: "no location", in: map[string]string{"private_integration_token": "pit-1"}, violation: "location_id"},
		{name: "bad location", in: map[string]string{"location_id": "a b", "private_integration_token": "pit-1"}, violation: "location_id"},
		{name: "no credentials", in: map[string]string{"location_id": "loc1"}, violation: "private_integration_token"},
		{name: "both kinds", in: map[string]string{"location_id": "loc1", "private_integration_token": "p", "access_token": "a"}, violation: "private_integration_token"},
		{name: "token with space", in: map[string]string{"location_id": "loc1", "private_integration_token": "p q"}, violation: "private_integration_token"},
		{name: "unknown key", in: map[string]string{"location_id": "loc1", "private_integration_token": "p", "api_key": "x"}, violation: "api_key"},
		{name: "update keeps token",
			in:   map[string]string{"location_id": "loc2"},
			prev: &crm.SplitSettings{Public: map[string]string{"location_id": "loc1"}, Secret: map[string]string{"private_integration_token": "pit-1"}},
			auth: "pit",
			want: crm.SplitSettings{Public: map[string]string{"location_id": "loc2"}, Secret: map[string]string{"private_integration_token": "pit-1"}}},
		{name: "update switches to oauth",
			in:   map[string]string{"private_integration_token": "", "access_token": "at", "refresh_token": "rt"},
			prev: &crm.SplitSettings{Public: map[string]string{"location_id": "loc1"}, Secret: map[string]string{"private_integration_token": "pit-1"}},
			auth: "oauth",
			want: crm.SplitSettings{Public: map[string]string{"location_id": "loc1"}, Secret: map[string]string{"access_token": "at", "refresh_token": "rt"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, auth, err := c.CheckConnection(tt.in, tt.prev)
			if tt.violation != "" {
				violationOn(t, err, tt.violation)
				return
			}
			if err != nil || auth != tt.auth || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v %q, %v; want %+v %q", got, auth, err, tt.want, tt.auth)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	var gotAuth, gotPath, gotLoc string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath, gotLoc = r.Header.Get("Authorization"), r.URL.Path, r.URL.Query().Get("locationId")
		_, _ = w.Write([]byte(`{"objects":[]}`))
	}))
	defer srv.Close()
	c := NewConnector(ConnectorOptions{HTTPClient: srv.Client()})

	p, err := c.Open(crm.ConnectionParams{
		ConnectionID:   "conn1",
		ConfigSettings: map[string]string{"base_url": srv.URL + "/prefix"},
		Settings:       map[string]string{"location_id": "loc9"},
		Credentials:    map[string]string{"private_integration_token": "pit-9"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*Client); !ok {
		t.Fatalf("Open returned %T", p)
	}
	if gotPath != "" {
		t.Fatal("Open did I/O")
	}
	if err := p.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer pit-9" || gotPath != "/prefix/objects/" || gotLoc != "loc9" {
		t.Errorf("request: auth %q path %q location %q", gotAuth, gotPath, gotLoc)
	}

	p, err = c.Open(crm.ConnectionParams{
		ConfigSettings: map[string]string{"base_url": srv.URL},
		Settings:       map[string]string{"location_id": "loc9"},
		Credentials:    map[string]string{"access_token": "at", "refresh_token": "rt"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(context.Background()); err != nil || gotAuth != "Bearer at" {
		t.Errorf("oauth: %v, auth %q", err, gotAuth)
	}

	if _, err := c.Open(crm.ConnectionParams{Settings: map[string]string{"location_id": "loc9"}}); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("no credentials: %v", err)
	}
	if _, err := c.Open(crm.ConnectionParams{Credentials: map[string]string{"private_integration_token": "p"}}); !errors.Is(err, crm.ErrInvalidArgument) {
		t.Errorf("no location: %v", err)
	}
	if _, err := c.Open(crm.ConnectionParams{Settings: map[string]string{"location_id": "l"}, Credentials: map[string]string{"refresh_token": "rt"}}); !errors.Is(err, crm.ErrUnsupported) {
		t.Errorf("refresh token only: %v", err)
	}
	// Default base URL.
	p, err = NewConnector(ConnectorOptions{}).Open(crm.ConnectionParams{Settings: map[string]string{"location_id": "l"}, Credentials: map[string]string{"private_integration_token": "p"}})
	if err != nil || p.(*Client).base != DefaultBaseURL {
		t.Errorf("default base: %v %v", p, err)
	}
}
