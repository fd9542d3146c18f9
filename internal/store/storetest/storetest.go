// Package storetest is the conformance suite every store.Store backend runs:
//
//	func TestMyBackend(t *testing.T) {
//		storetest.RunContractTests(t, func(t *testing.T) store.Store { ... })
//	}
//
// It pins down the behaviour store.go documents (organisation scoping,
// sentinel errors, compare-and-swap updates, secrets round-trip) plus the
// conventions backends share:
//
//   - Create* stamp CreatedAt (and UpdatedAt) with the current time and
//     return the row as Get would; times are UTC and survive a round trip
//     with at least millisecond precision. Updates advance UpdatedAt and
//     keep CreatedAt.
//   - A new connection has Version 1; an empty Status becomes
//     store.ConnectionActive and an empty ConnectorName the config's (a
//     different one is an error).
//   - Maps (Settings, Secrets, Credentials) come back non-nil.
//   - Referencing an organisation that does not exist answers ErrNotFound.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/store"
)

// RunContractTests runs the suite. newStore must return a fresh, empty store
// each call (every subtest gets its own); the suite closes it when the
// subtest ends, before any cleanup newStore registered with t.Cleanup (drop
// a schema, remove a file ...) runs.
func RunContractTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	for _, tc := range contractTests() {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, newFixture(t, s))
		})
	}
}

// contractTests is the suite, in the order it runs.
func contractTests() []contractTest {
	return []contractTest{
		{"Organisation/EnsureCreates", testEnsureOrganisationCreates},
		{"Organisation/EnsureIdempotent", testEnsureOrganisationIdempotent},
		{"Organisation/EnsureConcurrent", testEnsureOrganisationConcurrent},
		{"Organisation/EnsureEmptyName", testEnsureOrganisationEmptyName},
		{"Organisation/GetNotFound", testGetOrganisationNotFound},
		{"Organisation/Create", testCreateOrganisation},
		{"Organisation/ListPaged", testListOrganisationsPaged},

		{"APIKey/CreateAndLookup", testAPIKeyCreateAndLookup},
		{"APIKey/NotFound", testAPIKeyNotFound},
		{"APIKey/DuplicateHash", testAPIKeyDuplicateHash},
		{"APIKey/DuplicateID", testAPIKeyDuplicateID},
		{"APIKey/UnknownOrganisation", testAPIKeyUnknownOrganisation},
		{"APIKey/GetList", testAPIKeyGetList},
		{"APIKey/Expiry", testAPIKeyExpiry},
		{"APIKey/Revoke", testAPIKeyRevoke},
		{"APIKey/Rotate", testAPIKeyRotate},
		{"APIKey/RotateRefused", testAPIKeyRotateRefused},
		{"APIKey/RotateConcurrent", testAPIKeyRotateConcurrent},
		{"APIKey/Touch", testAPIKeyTouch},
		{"APIKey/OrgIsolation", testAPIKeyOrgIsolation},

		{"ConnectorConfig/CreateGet", testConfigCreateGet},
		{"ConnectorConfig/CreateDuplicate", testConfigCreateDuplicate},
		{"ConnectorConfig/CreateUnknownOrganisation", testConfigCreateUnknownOrganisation},
		{"ConnectorConfig/GetNotFound", testConfigGetNotFound},
		{"ConnectorConfig/List", testConfigList},
		{"ConnectorConfig/Update", testConfigUpdate},
		{"ConnectorConfig/UpdateNotFound", testConfigUpdateNotFound},
		{"ConnectorConfig/Delete", testConfigDelete},
		{"ConnectorConfig/DeleteInUse", testConfigDeleteInUse},
		{"ConnectorConfig/OrgIsolation", testConfigOrgIsolation},
		{"ConnectorConfig/ListPaged", testConfigListPaged},

		{"Customer/Ensure", testEnsureCustomer},

		{"Connection/CreateGet", testConnectionCreateGet},
		{"Connection/CreateDefaults", testConnectionCreateDefaults},
		{"Connection/CreateErrors", testConnectionCreateErrors},
		{"Connection/List", testConnectionList},
		{"Connection/Update", testConnectionUpdate},
		{"Connection/UpdateStale", testConnectionUpdateStale},
		{"Connection/UpdateNotFound", testConnectionUpdateNotFound},
		{"Connection/ConcurrentCAS", testConnectionConcurrentCAS},
		{"Connection/ConcurrentIncrements", testConnectionConcurrentIncrements},
		{"Connection/Delete", testConnectionDelete},
		{"Connection/OrgIsolation", testConnectionOrgIsolation},
		{"Connection/ListPaged", testConnectionListPaged},

		{"Secrets/RoundTrip", testSecretsRoundTrip},
		{"Timestamps", testTimestamps},
	}
}

type contractTest struct {
	name string
	fn   func(t *testing.T, f *fixture)
}

// ---- fixture ---------------------------------------------------------------

// fixture is a store with two organisations, A and B, and helpers.
type fixture struct {
	t          *testing.T
	s          store.Store
	ctx        context.Context
	orgA, orgB store.Organisation
}

func newFixture(t *testing.T, s store.Store) *fixture {
	t.Helper()
	f := &fixture{t: t, s: s, ctx: t.Context()}
	var err error
	if f.orgA, err = s.EnsureOrganisation(f.ctx, "org-a"); err != nil {
		t.Fatalf("EnsureOrganisation(org-a): %v", err)
	}
	if f.orgB, err = s.EnsureOrganisation(f.ctx, "org-b"); err != nil {
		t.Fatalf("EnsureOrganisation(org-b): %v", err)
	}
	return f
}

// config creates a "ghl" connector config with some settings and secrets.
func (f *fixture) config(orgID, id string) store.ConnectorConfig {
	f.t.Helper()
	c, err := f.s.CreateConnectorConfig(f.ctx, store.ConnectorConfig{
		ID:             id,
		OrganisationID: orgID,
		ConnectorName:  "ghl",
		Settings:       map[string]string{"base_url": "https://api.example.com", "cfg": id},
		Secrets:        map[string]string{"client_secret": "cs-" + id},
	})
	if err != nil {
		f.t.Fatalf("CreateConnectorConfig(%s): %v", id, err)
	}
	return c
}

// connection creates a connection of config configID for customerID.
func (f *fixture) connection(orgID, id, configID, customerID string) store.Connection {
	f.t.Helper()
	c, err := f.s.CreateConnection(f.ctx, store.Connection{
		ID:                id,
		OrganisationID:    orgID,
		ConnectorConfigID: configID,
		ConnectorName:     "ghl",
		CustomerID:        customerID,
		AuthType:          "oauth",
		Status:            store.ConnectionActive,
		Settings:          map[string]string{"location_id": "loc-" + id},
		Credentials:       map[string]string{"access_token": "at-" + id, "refresh_token": "rt-" + id},
	})
	if err != nil {
		f.t.Fatalf("CreateConnection(%s): %v", id, err)
	}
	return c
}

func (f *fixture) getConnection(orgID, id string) store.Connection {
	f.t.Helper()
	c, err := f.s.GetConnection(f.ctx, orgID, id)
	if err != nil {
		f.t.Fatalf("GetConnection(%s): %v", id, err)
	}
	return c
}

func (f *fixture) getConfig(orgID, id string) store.ConnectorConfig {
	f.t.Helper()
	c, err := f.s.GetConnectorConfig(f.ctx, orgID, id)
	if err != nil {
		f.t.Fatalf("GetConnectorConfig(%s): %v", id, err)
	}
	return c
}

// ---- assertions ------------------------------------------------------------

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

// sameTime compares at millisecond precision, the contract's promise.
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

func checkTime(t *testing.T, what string, got time.Time, notBefore, notAfter time.Time) {
	t.Helper()
	if got.IsZero() {
		t.Fatalf("%s is zero", what)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, got.Location())
	}
	if got.Before(notBefore.Truncate(time.Millisecond)) || got.After(notAfter) {
		t.Errorf("%s = %v, want within [%v, %v]", what, got, notBefore, notAfter)
	}
}

func checkMap(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if got == nil {
		t.Errorf("%s is nil, want a non-nil map", what)
	}
	if !maps.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func checkConfig(t *testing.T, got, want store.ConnectorConfig) {
	t.Helper()
	if got.ID != want.ID || got.OrganisationID != want.OrganisationID || got.ConnectorName != want.ConnectorName {
		t.Errorf("config = {%s %s %s}, want {%s %s %s}", got.ID, got.OrganisationID, got.ConnectorName,
			want.ID, want.OrganisationID, want.ConnectorName)
	}
	checkMap(t, "config "+want.ID+" Settings", got.Settings, want.Settings)
	checkMap(t, "config "+want.ID+" Secrets", got.Secrets, want.Secrets)
	if !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Errorf("config %s times = %v/%v, want %v/%v", want.ID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func checkConnection(t *testing.T, got, want store.Connection) {
	t.Helper()
	type scalars struct {
		ID, OrganisationID, ConnectorConfigID, ConnectorName, CustomerID, AuthType, Status, StatusMessage string
		Version                                                                                           int64
	}
	g := scalars{got.ID, got.OrganisationID, got.ConnectorConfigID, got.ConnectorName, got.CustomerID,
		got.AuthType, got.Status, got.StatusMessage, got.Version}
	w := scalars{want.ID, want.OrganisationID, want.ConnectorConfigID, want.ConnectorName, want.CustomerID,
		want.AuthType, want.Status, want.StatusMessage, want.Version}
	if g != w {
		t.Errorf("connection = %+v, want %+v", g, w)
	}
	checkMap(t, "connection "+want.ID+" Settings", got.Settings, want.Settings)
	checkMap(t, "connection "+want.ID+" Credentials", got.Credentials, want.Credentials)
	if !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Errorf("connection %s times = %v/%v, want %v/%v", want.ID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func configIDs(cs []store.ConnectorConfig) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

func connectionIDs(cs []store.Connection) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

// ---- organisations ---------------------------------------------------------

func testEnsureOrganisationCreates(t *testing.T, f *fixture) {
	before := time.Now()
	o, err := f.s.EnsureOrganisation(f.ctx, "Acme Ltd")
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if o.ID == "" || o.Name != "Acme Ltd" {
		t.Fatalf("EnsureOrganisation = %+v", o)
	}
	if o.ID == f.orgA.ID || o.ID == f.orgB.ID || f.orgA.ID == f.orgB.ID {
		t.Fatal("organisations share an id")
	}
	checkTime(t, "CreatedAt", o.CreatedAt, before, after)
	got, err := f.s.GetOrganisation(f.ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != o.ID || got.Name != o.Name || !sameTime(got.CreatedAt, o.CreatedAt) {
		t.Fatalf("GetOrganisation = %+v, want %+v", got, o)
	}
}

func testEnsureOrganisationIdempotent(t *testing.T, f *fixture) {
	again, err := f.s.EnsureOrganisation(f.ctx, "org-a")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != f.orgA.ID || !sameTime(again.CreatedAt, f.orgA.CreatedAt) {
		t.Fatalf("second EnsureOrganisation = %+v, want %+v", again, f.orgA)
	}
	// Names are exact: case and spacing matter.
	other, err := f.s.EnsureOrganisation(f.ctx, "ORG-A")
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == f.orgA.ID {
		t.Fatal("names differing in case map to one organisation")
	}
}

func testEnsureOrganisationConcurrent(t *testing.T, f *fixture) {
	const n = 10
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			o, err := f.s.EnsureOrganisation(f.ctx, "racy")
			if err != nil {
				t.Errorf("EnsureOrganisation: %v", err)
				return
			}
			ids[i] = o.ID
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("concurrent EnsureOrganisation returned different ids: %v", ids)
		}
	}
}

func testEnsureOrganisationEmptyName(t *testing.T, f *fixture) {
	if _, err := f.s.EnsureOrganisation(f.ctx, ""); err == nil {
		t.Fatal("EnsureOrganisation(\"\") succeeded")
	}
}

func testGetOrganisationNotFound(t *testing.T, f *fixture) {
	_, err := f.s.GetOrganisation(f.ctx, "org_doesnotexist")
	wantErr(t, "GetOrganisation(unknown)", err, store.ErrNotFound)
}

// ---- API keys --------------------------------------------------------------

func hashOf(s string) []byte {
	h := make([]byte, 32)
	copy(h, s)
	h[31] = 0xff // not valid UTF-8: the store must keep bytes, not text
	return h
}

func testAPIKeyCreateAndLookup(t *testing.T, f *fixture) {
	in := store.APIKey{ID: "key1", OrganisationID: f.orgA.ID, Name: "CI key", Hash: hashOf("one"), Prefix: "cg_live_ab"}
	before := time.Now()
	k, err := f.s.CreateAPIKey(f.ctx, in)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "CreatedAt", k.CreatedAt, before, after)
	got, err := f.s.APIKeyByHash(f.ctx, hashOf("one"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != in.ID || got.OrganisationID != in.OrganisationID || got.Name != in.Name ||
		string(got.Hash) != string(in.Hash) || got.Prefix != in.Prefix || !sameTime(got.CreatedAt, k.CreatedAt) {
		t.Fatalf("APIKeyByHash = %+v, want %+v", got, k)
	}
}

func testAPIKeyNotFound(t *testing.T, f *fixture) {
	if _, err := f.s.CreateAPIKey(f.ctx, store.APIKey{ID: "key1", OrganisationID: f.orgA.ID, Hash: hashOf("one")}); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.APIKeyByHash(f.ctx, hashOf("two"))
	wantErr(t, "APIKeyByHash(unknown)", err, store.ErrNotFound)
	_, err = f.s.APIKeyByHash(f.ctx, hashOf("one")[:31])
	wantErr(t, "APIKeyByHash(prefix of a hash)", err, store.ErrNotFound)
}

func testAPIKeyDuplicateHash(t *testing.T, f *fixture) {
	if _, err := f.s.CreateAPIKey(f.ctx, store.APIKey{ID: "key1", OrganisationID: f.orgA.ID, Hash: hashOf("one")}); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.CreateAPIKey(f.ctx, store.APIKey{ID: "key2", OrganisationID: f.orgA.ID, Hash: hashOf("one")})
	wantErr(t, "CreateAPIKey(duplicate hash)", err, store.ErrConflict)
	// Hashes are unique across organisations too: a key identifies its org.
	_, err = f.s.CreateAPIKey(f.ctx, store.APIKey{ID: "key3", OrganisationID: f.orgB.ID, Hash: hashOf("one")})
	wantErr(t, "CreateAPIKey(duplicate hash, other org)", err, store.ErrConflict)
	got, err := f.s.APIKeyByHash(f.ctx, hashOf("one"))
	if err != nil || got.ID != "key1" {
		t.Fatalf("APIKeyByHash after conflicts = %+v, %v", got, err)
	}
}

func testAPIKeyDuplicateID(t *testing.T, f *fixture) {
	if _, err := f.s.CreateAPIKey(f.ctx, store.APIKey{ID: "key1", OrganisationID: f.orgA.ID, Hash: hashOf("one")}); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.CreateAPIKey(f.ctx, store.APIKey{ID: "key1", OrganisationID: f.orgA.ID, Hash: hashOf("two")})
	wantErr(t, "CreateAPIKey(duplicate id)", err, store.ErrConflict)
}

func testAPIKeyUnknownOrganisation(t *testing.T, f *fixture) {
	_, err := f.s.CreateAPIKey(f.ctx, store.APIKey{ID: "key1", OrganisationID: "org_nope", Hash: hashOf("one")})
	wantErr(t, "CreateAPIKey(unknown org)", err, store.ErrNotFound)
}

// ---- connector configs -----------------------------------------------------

func testConfigCreateGet(t *testing.T, f *fixture) {
	in := store.ConnectorConfig{
		ID:             "cc1",
		OrganisationID: f.orgA.ID,
		ConnectorName:  "ghl",
		Settings:       map[string]string{"base_url": "https://services.example.com", "version": "2021-07-28"},
		Secrets:        map[string]string{"client_id": "cid", "client_secret": "s3cr3t"},
	}
	before := time.Now()
	c, err := f.s.CreateConnectorConfig(f.ctx, in)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "CreatedAt", c.CreatedAt, before, after)
	if !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Errorf("new config UpdatedAt %v != CreatedAt %v", c.UpdatedAt, c.CreatedAt)
	}
	want := in
	want.CreatedAt, want.UpdatedAt = c.CreatedAt, c.UpdatedAt
	checkConfig(t, c, want)
	checkConfig(t, f.getConfig(f.orgA.ID, "cc1"), want)
}

func testConfigCreateDuplicate(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	_, err := f.s.CreateConnectorConfig(f.ctx, store.ConnectorConfig{ID: "cc1", OrganisationID: f.orgA.ID, ConnectorName: "ghl"})
	wantErr(t, "CreateConnectorConfig(duplicate)", err, store.ErrConflict)
	// The original is intact.
	if got := f.getConfig(f.orgA.ID, "cc1"); got.Secrets["client_secret"] != "cs-cc1" {
		t.Fatalf("original config changed: %+v", got)
	}
}

func testConfigCreateUnknownOrganisation(t *testing.T, f *fixture) {
	_, err := f.s.CreateConnectorConfig(f.ctx, store.ConnectorConfig{ID: "cc1", OrganisationID: "org_nope", ConnectorName: "ghl"})
	wantErr(t, "CreateConnectorConfig(unknown org)", err, store.ErrNotFound)
}

func testConfigGetNotFound(t *testing.T, f *fixture) {
	_, err := f.s.GetConnectorConfig(f.ctx, f.orgA.ID, "nope")
	wantErr(t, "GetConnectorConfig(unknown)", err, store.ErrNotFound)
}

func testConfigList(t *testing.T, f *fixture) {
	if got, err := f.s.ListConnectorConfigs(f.ctx, f.orgA.ID, store.Page{}); err != nil || len(got) != 0 {
		t.Fatalf("ListConnectorConfigs(empty) = %v, %v", got, err)
	}
	a1 := f.config(f.orgA.ID, "a1")
	a2 := f.config(f.orgA.ID, "a2")
	f.config(f.orgB.ID, "b1")
	got, err := f.s.ListConnectorConfigs(f.ctx, f.orgA.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if ids := configIDs(got); !slices.Equal(ids, []string{"a1", "a2"}) {
		t.Fatalf("ListConnectorConfigs(A) = %v", ids)
	}
	for _, c := range got {
		want := a1
		if c.ID == "a2" {
			want = a2
		}
		checkConfig(t, c, want)
	}
	got, err = f.s.ListConnectorConfigs(f.ctx, f.orgB.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if ids := configIDs(got); !slices.Equal(ids, []string{"b1"}) {
		t.Fatalf("ListConnectorConfigs(B) = %v", ids)
	}
	if got, err := f.s.ListConnectorConfigs(f.ctx, "org_nope", store.Page{}); err != nil || len(got) != 0 {
		t.Fatalf("ListConnectorConfigs(unknown org) = %v, %v", got, err)
	}
}

func testConfigUpdate(t *testing.T, f *fixture) {
	orig := f.config(f.orgA.ID, "cc1")
	time.Sleep(5 * time.Millisecond) // so UpdatedAt visibly moves
	before := time.Now()
	u, err := f.s.UpdateConnectorConfig(f.ctx, store.ConnectorConfig{
		ID:             "cc1",
		OrganisationID: f.orgA.ID,
		ConnectorName:  "ignored", // only Settings and Secrets are written
		Settings:       map[string]string{"base_url": "https://new.example.com"},
		Secrets:        map[string]string{"client_secret": "rotated"}, // dropped keys are dropped
	})
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "UpdatedAt", u.UpdatedAt, before, after)
	if !u.UpdatedAt.After(orig.UpdatedAt) {
		t.Errorf("UpdatedAt %v did not advance from %v", u.UpdatedAt, orig.UpdatedAt)
	}
	want := store.ConnectorConfig{
		ID: "cc1", OrganisationID: f.orgA.ID, ConnectorName: "ghl",
		Settings:  map[string]string{"base_url": "https://new.example.com"},
		Secrets:   map[string]string{"client_secret": "rotated"},
		CreatedAt: orig.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
	checkConfig(t, u, want)
	checkConfig(t, f.getConfig(f.orgA.ID, "cc1"), want)

	// Clearing works too.
	u, err = f.s.UpdateConnectorConfig(f.ctx, store.ConnectorConfig{ID: "cc1", OrganisationID: f.orgA.ID})
	if err != nil {
		t.Fatal(err)
	}
	want.Settings, want.Secrets, want.UpdatedAt = map[string]string{}, map[string]string{}, u.UpdatedAt
	checkConfig(t, f.getConfig(f.orgA.ID, "cc1"), want)
}

func testConfigUpdateNotFound(t *testing.T, f *fixture) {
	_, err := f.s.UpdateConnectorConfig(f.ctx, store.ConnectorConfig{ID: "nope", OrganisationID: f.orgA.ID, ConnectorName: "ghl"})
	wantErr(t, "UpdateConnectorConfig(unknown)", err, store.ErrNotFound)
}

func testConfigDelete(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	f.config(f.orgA.ID, "cc2")
	if err := f.s.DeleteConnectorConfig(f.ctx, f.orgA.ID, "cc1"); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.GetConnectorConfig(f.ctx, f.orgA.ID, "cc1")
	wantErr(t, "GetConnectorConfig(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteConnectorConfig(again)", f.s.DeleteConnectorConfig(f.ctx, f.orgA.ID, "cc1"), store.ErrNotFound)
	wantErr(t, "DeleteConnectorConfig(unknown)", f.s.DeleteConnectorConfig(f.ctx, f.orgA.ID, "nope"), store.ErrNotFound)
	f.getConfig(f.orgA.ID, "cc2") // untouched
	// The id is free again.
	f.config(f.orgA.ID, "cc1")
}

func testConfigDeleteInUse(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	f.connection(f.orgA.ID, "conn1", "cc1", "cust1")
	f.connection(f.orgA.ID, "conn2", "cc1", "cust2")
	wantErr(t, "DeleteConnectorConfig(in use)", f.s.DeleteConnectorConfig(f.ctx, f.orgA.ID, "cc1"), store.ErrConflict)
	f.getConfig(f.orgA.ID, "cc1")
	if err := f.s.DeleteConnection(f.ctx, f.orgA.ID, "conn1"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteConnectorConfig(still in use)", f.s.DeleteConnectorConfig(f.ctx, f.orgA.ID, "cc1"), store.ErrConflict)
	if err := f.s.DeleteConnection(f.ctx, f.orgA.ID, "conn2"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteConnectorConfig(f.ctx, f.orgA.ID, "cc1"); err != nil {
		t.Fatalf("DeleteConnectorConfig(unused): %v", err)
	}
}

func testConfigOrgIsolation(t *testing.T, f *fixture) {
	a := f.config(f.orgA.ID, "cc1")
	_, err := f.s.GetConnectorConfig(f.ctx, f.orgB.ID, "cc1")
	wantErr(t, "B GetConnectorConfig(A's)", err, store.ErrNotFound)
	_, err = f.s.UpdateConnectorConfig(f.ctx, store.ConnectorConfig{
		ID: "cc1", OrganisationID: f.orgB.ID, ConnectorName: "ghl",
		Secrets: map[string]string{"client_secret": "stolen"},
	})
	wantErr(t, "B UpdateConnectorConfig(A's)", err, store.ErrNotFound)
	wantErr(t, "B DeleteConnectorConfig(A's)", f.s.DeleteConnectorConfig(f.ctx, f.orgB.ID, "cc1"), store.ErrNotFound)
	if got, err := f.s.ListConnectorConfigs(f.ctx, f.orgB.ID, store.Page{}); err != nil || len(got) != 0 {
		t.Fatalf("B ListConnectorConfigs = %v, %v", configIDs(got), err)
	}
	checkConfig(t, f.getConfig(f.orgA.ID, "cc1"), a)
}

// ---- customers -------------------------------------------------------------

func testEnsureCustomer(t *testing.T, f *fixture) {
	for range 2 {
		if err := f.s.EnsureCustomer(f.ctx, f.orgA.ID, "cust1"); err != nil {
			t.Fatalf("EnsureCustomer: %v", err)
		}
	}
	// Customer ids are per organisation.
	if err := f.s.EnsureCustomer(f.ctx, f.orgB.ID, "cust1"); err != nil {
		t.Fatalf("EnsureCustomer(B, same id): %v", err)
	}
	wantErr(t, "EnsureCustomer(unknown org)", f.s.EnsureCustomer(f.ctx, "org_nope", "cust1"), store.ErrNotFound)
	// A connection for an ensured customer works (the customer is not
	// created twice).
	f.config(f.orgA.ID, "cc1")
	f.connection(f.orgA.ID, "conn1", "cc1", "cust1")
	if err := f.s.EnsureCustomer(f.ctx, f.orgA.ID, "cust1"); err != nil {
		t.Fatalf("EnsureCustomer after CreateConnection: %v", err)
	}
}

// ---- connections -----------------------------------------------------------

func testConnectionCreateGet(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	in := store.Connection{
		ID:                "conn1",
		OrganisationID:    f.orgA.ID,
		ConnectorConfigID: "cc1",
		ConnectorName:     "ghl",
		CustomerID:        "cust1",
		AuthType:          "pit",
		Status:            store.ConnectionNeedsReauth,
		StatusMessage:     "token expired",
		Settings:          map[string]string{"location_id": "loc1"},
		Credentials:       map[string]string{"private_integration_token": "pit-123"},
		Version:           42, // ignored: new rows start at 1
	}
	before := time.Now()
	c, err := f.s.CreateConnection(f.ctx, in)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "CreatedAt", c.CreatedAt, before, after)
	if !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Errorf("new connection UpdatedAt %v != CreatedAt %v", c.UpdatedAt, c.CreatedAt)
	}
	want := in
	want.Version = 1
	want.CreatedAt, want.UpdatedAt = c.CreatedAt, c.UpdatedAt
	checkConnection(t, c, want)
	checkConnection(t, f.getConnection(f.orgA.ID, "conn1"), want)
}

func testConnectionCreateDefaults(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	c, err := f.s.CreateConnection(f.ctx, store.Connection{
		ID: "conn1", OrganisationID: f.orgA.ID, ConnectorConfigID: "cc1", CustomerID: "cust1", AuthType: "oauth",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.ConnectorName != "ghl" || c.Status != store.ConnectionActive || c.Version != 1 {
		t.Fatalf("defaults: ConnectorName=%q Status=%q Version=%d", c.ConnectorName, c.Status, c.Version)
	}
	got := f.getConnection(f.orgA.ID, "conn1")
	checkConnection(t, got, c)
	checkMap(t, "Settings", got.Settings, map[string]string{})
	checkMap(t, "Credentials", got.Credentials, map[string]string{})
}

func testConnectionCreateErrors(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "ccA")
	f.config(f.orgB.ID, "ccB")
	f.connection(f.orgA.ID, "conn1", "ccA", "cust1")
	base := store.Connection{
		ID: "conn2", OrganisationID: f.orgA.ID, ConnectorConfigID: "ccA", ConnectorName: "ghl",
		CustomerID: "cust1", AuthType: "oauth", Status: store.ConnectionActive,
	}

	c := base
	c.ConnectorConfigID = "ccB"
	_, err := f.s.CreateConnection(f.ctx, c)
	wantErr(t, "CreateConnection(other org's config)", err, store.ErrNotFound)

	c = base
	c.ConnectorConfigID = "nope"
	_, err = f.s.CreateConnection(f.ctx, c)
	wantErr(t, "CreateConnection(unknown config)", err, store.ErrNotFound)

	c = base
	c.OrganisationID = "org_nope"
	_, err = f.s.CreateConnection(f.ctx, c)
	wantErr(t, "CreateConnection(unknown org)", err, store.ErrNotFound)

	c = base
	c.ID = "conn1"
	c.CustomerID = "cust2"
	_, err = f.s.CreateConnection(f.ctx, c)
	wantErr(t, "CreateConnection(duplicate id)", err, store.ErrConflict)
	if got := f.getConnection(f.orgA.ID, "conn1"); got.CustomerID != "cust1" {
		t.Fatalf("duplicate create changed the original: %+v", got)
	}

	c = base
	c.ConnectorName = "hubspot"
	if _, err = f.s.CreateConnection(f.ctx, c); err == nil {
		t.Fatal("CreateConnection with a connector name other than its config's succeeded")
	}

	// None of the failures left a row behind.
	if got, err := f.s.ListConnections(f.ctx, f.orgA.ID, store.ConnectionFilter{}); err != nil || len(got) != 1 {
		t.Fatalf("ListConnections after failures = %v, %v", connectionIDs(got), err)
	}
	if got, err := f.s.ListConnections(f.ctx, f.orgB.ID, store.ConnectionFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("B ListConnections after failures = %v, %v", connectionIDs(got), err)
	}
}

func testConnectionList(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	f.config(f.orgA.ID, "cc2")
	f.config(f.orgB.ID, "ccB")
	f.connection(f.orgA.ID, "a1", "cc1", "cust1")
	f.connection(f.orgA.ID, "a2", "cc2", "cust1")
	f.connection(f.orgA.ID, "a3", "cc1", "cust2")
	f.connection(f.orgB.ID, "b1", "ccB", "cust1") // same customer id, other org

	tests := []struct {
		org    string
		filter store.ConnectionFilter
		want   []string
	}{
		{f.orgA.ID, store.ConnectionFilter{}, []string{"a1", "a2", "a3"}},
		{f.orgA.ID, store.ConnectionFilter{CustomerID: "cust1"}, []string{"a1", "a2"}},
		{f.orgA.ID, store.ConnectionFilter{CustomerID: "cust2"}, []string{"a3"}},
		{f.orgA.ID, store.ConnectionFilter{CustomerID: "cust3"}, nil},
		{f.orgA.ID, store.ConnectionFilter{ConnectorConfigID: "cc1"}, []string{"a1", "a3"}},
		{f.orgA.ID, store.ConnectionFilter{ConnectorConfigID: "ccB"}, nil},
		{f.orgA.ID, store.ConnectionFilter{CustomerID: "cust1", ConnectorConfigID: "cc1"}, []string{"a1"}},
		{f.orgB.ID, store.ConnectionFilter{}, []string{"b1"}},
		{f.orgB.ID, store.ConnectionFilter{CustomerID: "cust1"}, []string{"b1"}},
		{f.orgB.ID, store.ConnectionFilter{CustomerID: "cust2"}, nil},
		{"org_nope", store.ConnectionFilter{}, nil},
	}
	for _, tt := range tests {
		got, err := f.s.ListConnections(f.ctx, tt.org, tt.filter)
		if err != nil {
			t.Fatalf("ListConnections(%s, %+v): %v", tt.org, tt.filter, err)
		}
		if ids := connectionIDs(got); !slices.Equal(ids, tt.want) {
			t.Errorf("ListConnections(%s, %+v) = %v, want %v", tt.org, tt.filter, ids, tt.want)
		}
		for _, c := range got {
			checkConnection(t, c, f.getConnection(tt.org, c.ID))
		}
	}
}

func testConnectionUpdate(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	f.config(f.orgA.ID, "cc2")
	orig := f.connection(f.orgA.ID, "conn1", "cc1", "cust1")
	time.Sleep(5 * time.Millisecond)

	u := orig
	u.Status = store.ConnectionNeedsReauth
	u.StatusMessage = "refresh token revoked"
	u.Settings = map[string]string{"location_id": "loc-2"}
	u.Credentials = map[string]string{"access_token": "new-at"} // refresh_token dropped
	// Not writable through UpdateConnection: ignored.
	u.ConnectorConfigID, u.CustomerID, u.AuthType, u.ConnectorName = "cc2", "cust9", "pit", "other"
	u.CreatedAt = orig.CreatedAt.Add(-time.Hour)
	before := time.Now()
	got, err := f.s.UpdateConnection(f.ctx, u)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "UpdatedAt", got.UpdatedAt, before, after)
	if !got.UpdatedAt.After(orig.UpdatedAt) {
		t.Errorf("UpdatedAt %v did not advance from %v", got.UpdatedAt, orig.UpdatedAt)
	}
	want := orig
	want.Status, want.StatusMessage = store.ConnectionNeedsReauth, "refresh token revoked"
	want.Settings = map[string]string{"location_id": "loc-2"}
	want.Credentials = map[string]string{"access_token": "new-at"}
	want.Version = orig.Version + 1
	want.UpdatedAt = got.UpdatedAt
	checkConnection(t, got, want)
	checkConnection(t, f.getConnection(f.orgA.ID, "conn1"), want)

	// The returned row is the base of the next update.
	got.Status, got.StatusMessage = store.ConnectionActive, ""
	again, err := f.s.UpdateConnection(f.ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != orig.Version+2 || again.Status != store.ConnectionActive {
		t.Fatalf("second update = version %d status %q", again.Version, again.Status)
	}
}

func testConnectionUpdateStale(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	orig := f.connection(f.orgA.ID, "conn1", "cc1", "cust1")
	first := orig
	first.StatusMessage = "first"
	cur, err := f.s.UpdateConnection(f.ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{orig.Version, orig.Version + 2, 0, -1} {
		stale := orig
		stale.Version = v
		stale.StatusMessage = "stale"
		stale.Credentials = map[string]string{"access_token": "stale"}
		_, err := f.s.UpdateConnection(f.ctx, stale)
		wantErr(t, fmt.Sprintf("UpdateConnection(version %d, stored %d)", v, cur.Version), err, store.ErrConflict)
	}
	checkConnection(t, f.getConnection(f.orgA.ID, "conn1"), cur)
}

func testConnectionUpdateNotFound(t *testing.T, f *fixture) {
	_, err := f.s.UpdateConnection(f.ctx, store.Connection{
		ID: "nope", OrganisationID: f.orgA.ID, Status: store.ConnectionActive, Version: 1,
	})
	wantErr(t, "UpdateConnection(unknown)", err, store.ErrNotFound)
}

// testConnectionConcurrentCAS: many updaters holding the same version race;
// exactly one wins each round and the row is wholly the winner's.
func testConnectionConcurrentCAS(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	f.connection(f.orgA.ID, "conn1", "cc1", "cust1")
	const workers, rounds = 8, 5
	for round := range rounds {
		base := f.getConnection(f.orgA.ID, "conn1")
		var wins atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				u := base
				u.StatusMessage = fmt.Sprintf("round %d worker %d", round, w)
				u.Credentials = map[string]string{"access_token": u.StatusMessage}
				got, err := f.s.UpdateConnection(f.ctx, u)
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(got)
				case errors.Is(err, store.ErrConflict):
				default:
					t.Errorf("UpdateConnection: %v", err)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d updates of version %d won, want exactly 1", round, n, base.Version)
		}
		w := winner.Load().(store.Connection)
		if w.Version != base.Version+1 {
			t.Fatalf("round %d: winner's version = %d, want %d", round, w.Version, base.Version+1)
		}
		got := f.getConnection(f.orgA.ID, "conn1")
		checkConnection(t, got, w)
		if got.Credentials["access_token"] != got.StatusMessage {
			t.Fatalf("round %d: row mixes updates: %q vs %q", round, got.Credentials["access_token"], got.StatusMessage)
		}
	}
}

// testConnectionConcurrentIncrements: read-modify-write with retry on
// conflict loses no update.
func testConnectionConcurrentIncrements(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	orig := f.connection(f.orgA.ID, "conn1", "cc1", "cust1")
	const workers = 8
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for attempt := 0; ; attempt++ {
				if attempt > 1000 {
					t.Error("no progress after 1000 attempts")
					return
				}
				c, err := f.s.GetConnection(f.ctx, f.orgA.ID, "conn1")
				if err != nil {
					t.Errorf("GetConnection: %v", err)
					return
				}
				c.Settings["counter"] = strings.Repeat("x", countOf(c)+1)
				_, err = f.s.UpdateConnection(f.ctx, c)
				if err == nil {
					return
				}
				if !errors.Is(err, store.ErrConflict) {
					t.Errorf("UpdateConnection: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := f.getConnection(f.orgA.ID, "conn1")
	if got.Version != orig.Version+workers {
		t.Fatalf("version = %d, want %d", got.Version, orig.Version+workers)
	}
	if n := countOf(got); n != workers {
		t.Fatalf("counter = %d, want %d (lost updates)", n, workers)
	}
}

// countOf reads the counter testConnectionConcurrentIncrements keeps as a
// run of x's (so the test needs no strconv error handling).
func countOf(c store.Connection) int { return len(c.Settings["counter"]) }

func testConnectionDelete(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	f.connection(f.orgA.ID, "conn1", "cc1", "cust1")
	f.connection(f.orgA.ID, "conn2", "cc1", "cust1")
	if err := f.s.DeleteConnection(f.ctx, f.orgA.ID, "conn1"); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.GetConnection(f.ctx, f.orgA.ID, "conn1")
	wantErr(t, "GetConnection(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteConnection(again)", f.s.DeleteConnection(f.ctx, f.orgA.ID, "conn1"), store.ErrNotFound)
	wantErr(t, "DeleteConnection(unknown)", f.s.DeleteConnection(f.ctx, f.orgA.ID, "nope"), store.ErrNotFound)
	_, err = f.s.UpdateConnection(f.ctx, store.Connection{ID: "conn1", OrganisationID: f.orgA.ID, Status: store.ConnectionActive, Version: 1})
	wantErr(t, "UpdateConnection(deleted)", err, store.ErrNotFound)
	f.getConnection(f.orgA.ID, "conn2") // untouched
	// The id is free again.
	f.connection(f.orgA.ID, "conn1", "cc1", "cust1")
}

func testConnectionOrgIsolation(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	f.config(f.orgB.ID, "ccB")
	a := f.connection(f.orgA.ID, "conn1", "cc1", "cust1")

	_, err := f.s.GetConnection(f.ctx, f.orgB.ID, "conn1")
	wantErr(t, "B GetConnection(A's)", err, store.ErrNotFound)

	stolen := a
	stolen.OrganisationID = f.orgB.ID
	stolen.Credentials = map[string]string{"access_token": "attacker"}
	_, err = f.s.UpdateConnection(f.ctx, stolen)
	wantErr(t, "B UpdateConnection(A's)", err, store.ErrNotFound)

	wantErr(t, "B DeleteConnection(A's)", f.s.DeleteConnection(f.ctx, f.orgB.ID, "conn1"), store.ErrNotFound)

	for _, filter := range []store.ConnectionFilter{{}, {CustomerID: "cust1"}, {ConnectorConfigID: "cc1"}} {
		if got, err := f.s.ListConnections(f.ctx, f.orgB.ID, filter); err != nil || len(got) != 0 {
			t.Fatalf("B ListConnections(%+v) = %v, %v", filter, connectionIDs(got), err)
		}
	}
	checkConnection(t, f.getConnection(f.orgA.ID, "conn1"), a)
}

// ---- secrets and timestamps ------------------------------------------------

func testSecretsRoundTrip(t *testing.T, f *fixture) {
	tricky := map[string]string{
		"empty":     "",
		"unicode":   "pässwörd 🔑 秘密",
		"quotes":    `"quoted" 'single' \back\slash`,
		"newlines":  "line1\nline2\r\n\ttab",
		"json":      `{"nested":"json","n":[1,2]}`,
		"large":     strings.Repeat("0123456789abcdef", 1024),
		"key.with":  "dots/and/slashes",
		"":          "empty key",
		"v1.k1.xyz": "looks like a ciphertext",
	}
	cases := []struct {
		name string
		m    map[string]string
		want map[string]string
	}{
		{"tricky", tricky, tricky},
		{"nil", nil, map[string]string{}},
		{"empty", map[string]string{}, map[string]string{}},
	}
	for i, tc := range cases {
		cfgID := fmt.Sprintf("cc%d", i)
		_, err := f.s.CreateConnectorConfig(f.ctx, store.ConnectorConfig{
			ID: cfgID, OrganisationID: f.orgA.ID, ConnectorName: "ghl", Settings: tc.m, Secrets: tc.m,
		})
		if err != nil {
			t.Fatalf("%s: CreateConnectorConfig: %v", tc.name, err)
		}
		got := f.getConfig(f.orgA.ID, cfgID)
		checkMap(t, tc.name+" config Settings", got.Settings, tc.want)
		checkMap(t, tc.name+" config Secrets", got.Secrets, tc.want)

		connID := fmt.Sprintf("conn%d", i)
		_, err = f.s.CreateConnection(f.ctx, store.Connection{
			ID: connID, OrganisationID: f.orgA.ID, ConnectorConfigID: cfgID, CustomerID: "cust1",
			AuthType: "oauth", Settings: tc.m, Credentials: tc.m,
		})
		if err != nil {
			t.Fatalf("%s: CreateConnection: %v", tc.name, err)
		}
		c := f.getConnection(f.orgA.ID, connID)
		checkMap(t, tc.name+" connection Settings", c.Settings, tc.want)
		checkMap(t, tc.name+" connection Credentials", c.Credentials, tc.want)

		// And through an update.
		c.Credentials = tc.m
		if _, err := f.s.UpdateConnection(f.ctx, c); err != nil {
			t.Fatalf("%s: UpdateConnection: %v", tc.name, err)
		}
		checkMap(t, tc.name+" updated Credentials", f.getConnection(f.orgA.ID, connID).Credentials, tc.want)
	}

	// The caller's maps are not retained: mutating them after a call does
	// not change what is stored.
	in := map[string]string{"client_secret": "original"}
	if _, err := f.s.CreateConnectorConfig(f.ctx, store.ConnectorConfig{
		ID: "ccAlias", OrganisationID: f.orgA.ID, ConnectorName: "ghl", Secrets: in,
	}); err != nil {
		t.Fatal(err)
	}
	in["client_secret"] = "mutated"
	if got := f.getConfig(f.orgA.ID, "ccAlias").Secrets["client_secret"]; got != "original" {
		t.Fatalf("stored secret follows the caller's map: %q", got)
	}
}

func testTimestamps(t *testing.T, f *fixture) {
	// Every row type: created times are near now, UTC, and read back equal
	// (to the millisecond) to what Create returned.
	before := time.Now()
	org, err := f.s.EnsureOrganisation(f.ctx, "timed")
	if err != nil {
		t.Fatal(err)
	}
	key, err := f.s.CreateAPIKey(f.ctx, store.APIKey{ID: "key1", OrganisationID: org.ID, Hash: hashOf("t")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.config(org.ID, "cc1")
	conn := f.connection(org.ID, "conn1", "cc1", "cust1")
	after := time.Now()

	checkTime(t, "organisation CreatedAt", org.CreatedAt, before, after)
	checkTime(t, "api key CreatedAt", key.CreatedAt, before, after)
	checkTime(t, "config CreatedAt", cfg.CreatedAt, before, after)
	checkTime(t, "connection CreatedAt", conn.CreatedAt, before, after)
	if cfg.CreatedAt.After(conn.CreatedAt) {
		t.Error("config created after the connection that followed it")
	}

	gotOrg, err := f.s.GetOrganisation(f.ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	gotKey, err := f.s.APIKeyByHash(f.ctx, hashOf("t"))
	if err != nil {
		t.Fatal(err)
	}
	gotCfg := f.getConfig(org.ID, "cc1")
	gotConn := f.getConnection(org.ID, "conn1")
	for _, p := range []struct {
		what      string
		got, want time.Time
	}{
		{"organisation CreatedAt", gotOrg.CreatedAt, org.CreatedAt},
		{"api key CreatedAt", gotKey.CreatedAt, key.CreatedAt},
		{"config CreatedAt", gotCfg.CreatedAt, cfg.CreatedAt},
		{"config UpdatedAt", gotCfg.UpdatedAt, cfg.UpdatedAt},
		{"connection CreatedAt", gotConn.CreatedAt, conn.CreatedAt},
		{"connection UpdatedAt", gotConn.UpdatedAt, conn.UpdatedAt},
	} {
		if !sameTime(p.got, p.want) {
			t.Errorf("%s read back as %v, created as %v", p.what, p.got, p.want)
		}
		if p.got.Location() != time.UTC {
			t.Errorf("%s read back in %v, want UTC", p.what, p.got.Location())
		}
	}
	// Millisecond precision: two rows created a few ms apart do not collapse
	// onto one second.
	time.Sleep(3 * time.Millisecond)
	cfg2 := f.config(org.ID, "cc2")
	if got := f.getConfig(org.ID, "cc2").CreatedAt; !got.After(gotCfg.CreatedAt) {
		t.Errorf("CreatedAt %v of a later row is not after %v", got, gotCfg.CreatedAt)
	}
	if cfg2.CreatedAt.Sub(cfg.CreatedAt) > time.Minute {
		t.Error("clock jumped")
	}
}
