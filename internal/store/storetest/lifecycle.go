package storetest

// Contract tests of the Admin API's store methods (organisations, the API
// key lifecycle) and of the keyset-paged lists.

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/store"
)

// ---- organisations ---------------------------------------------------------

func testCreateOrganisation(t *testing.T, f *fixture) {
	before := time.Now()
	o, err := f.s.CreateOrganisation(f.ctx, store.Organisation{ID: "org_new", Name: "New Co"})
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "CreatedAt", o.CreatedAt, before, after)
	if o.ID != "org_new" || o.Name != "New Co" {
		t.Fatalf("CreateOrganisation = %+v", o)
	}
	got, err := f.s.GetOrganisation(f.ctx, "org_new")
	if err != nil || got.Name != "New Co" || !sameTime(got.CreatedAt, o.CreatedAt) {
		t.Fatalf("GetOrganisation = %+v, %v", got, err)
	}
	// EnsureOrganisation finds it by name.
	if e, err := f.s.EnsureOrganisation(f.ctx, "New Co"); err != nil || e.ID != "org_new" {
		t.Fatalf("EnsureOrganisation(New Co) = %+v, %v", e, err)
	}
	_, err = f.s.CreateOrganisation(f.ctx, store.Organisation{ID: "org_other", Name: "New Co"})
	wantErr(t, "CreateOrganisation(name in use)", err, store.ErrConflict)
	_, err = f.s.CreateOrganisation(f.ctx, store.Organisation{ID: "org_new", Name: "Another"})
	wantErr(t, "CreateOrganisation(id in use)", err, store.ErrConflict)
	if _, err := f.s.CreateOrganisation(f.ctx, store.Organisation{ID: "org_x"}); err == nil {
		t.Fatal("CreateOrganisation without a name succeeded")
	}
}

func testListOrganisationsPaged(t *testing.T, f *fixture) {
	want := []string{f.orgA.ID, f.orgB.ID}
	for i := range 5 {
		time.Sleep(time.Millisecond)
		o, err := f.s.CreateOrganisation(f.ctx, store.Organisation{ID: fmt.Sprintf("org_%02d", i), Name: fmt.Sprintf("org %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, o.ID)
	}
	for _, limit := range []int{0, 1, 2, 3, 7, 8} {
		got := pageThrough(t, limit, func(p store.Page) ([]store.Organisation, error) { return f.s.ListOrganisations(f.ctx, p) },
			func(o store.Organisation) store.Cursor { return store.Cursor{CreatedAt: o.CreatedAt, ID: o.ID} },
			func(o store.Organisation) string { return o.ID })
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: organisations %v, want %v", limit, got, want)
		}
	}
}

// pageThrough reads a whole list page by page (limit 0: in one call),
// checking every page's size, and returns the ids in order.
func pageThrough[T any](t *testing.T, limit int, list func(store.Page) ([]T, error), cursor func(T) store.Cursor, id func(T) string) []string {
	t.Helper()
	var ids []string
	p := store.Page{Limit: limit}
	for range 100 {
		rows, err := list(p)
		if err != nil {
			t.Fatalf("list %+v: %v", p, err)
		}
		if limit > 0 && len(rows) > limit {
			t.Fatalf("list with Limit %d answered %d rows", limit, len(rows))
		}
		for _, r := range rows {
			ids = append(ids, id(r))
		}
		if limit == 0 || len(rows) < limit {
			return ids
		}
		c := cursor(rows[len(rows)-1])
		p.After = &c
	}
	t.Fatal("list does not end")
	return nil
}

// ---- API keys --------------------------------------------------------------

func (f *fixture) apiKey(orgID, id string, expires time.Time) store.APIKey {
	f.t.Helper()
	k, err := f.s.CreateAPIKey(f.ctx, store.APIKey{ID: id, OrganisationID: orgID, Name: "name " + id, Hash: hashOf(id), Prefix: "cgk_" + id, ExpiresAt: expires})
	if err != nil {
		f.t.Fatalf("CreateAPIKey(%s): %v", id, err)
	}
	return k
}

func (f *fixture) getAPIKey(orgID, id string) store.APIKey {
	f.t.Helper()
	k, err := f.s.GetAPIKey(f.ctx, orgID, id)
	if err != nil {
		f.t.Fatalf("GetAPIKey(%s): %v", id, err)
	}
	return k
}

func checkAPIKey(t *testing.T, got, want store.APIKey) {
	t.Helper()
	if got.ID != want.ID || got.OrganisationID != want.OrganisationID || got.Name != want.Name || string(got.Hash) != string(want.Hash) ||
		got.Prefix != want.Prefix || got.ReplacedBy != want.ReplacedBy ||
		!sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.ExpiresAt, want.ExpiresAt) ||
		!sameTime(got.RevokedAt, want.RevokedAt) || !sameTime(got.LastUsedAt, want.LastUsedAt) {
		t.Errorf("api key = %+v, want %+v", got, want)
	}
}

func testAPIKeyGetList(t *testing.T, f *fixture) {
	expires := time.Now().Add(time.Hour).UTC()
	a1 := f.apiKey(f.orgA.ID, "ka1", time.Time{})
	time.Sleep(time.Millisecond)
	a2 := f.apiKey(f.orgA.ID, "ka2", expires)
	f.apiKey(f.orgB.ID, "kb1", time.Time{})
	if !a1.ExpiresAt.IsZero() || !a1.RevokedAt.IsZero() || !a1.LastUsedAt.IsZero() || a1.ReplacedBy != "" {
		t.Errorf("new key's lifecycle fields = %+v, want empty", a1)
	}
	if !sameTime(a2.ExpiresAt, expires) {
		t.Errorf("ExpiresAt = %v, want %v", a2.ExpiresAt, expires)
	}
	checkAPIKey(t, f.getAPIKey(f.orgA.ID, "ka1"), a1)
	checkAPIKey(t, f.getAPIKey(f.orgA.ID, "ka2"), a2)
	byHash, err := f.s.APIKeyByHash(f.ctx, hashOf("ka2"))
	if err != nil {
		t.Fatal(err)
	}
	checkAPIKey(t, byHash, a2)
	_, err = f.s.GetAPIKey(f.ctx, f.orgA.ID, "nope")
	wantErr(t, "GetAPIKey(unknown)", err, store.ErrNotFound)

	got, err := f.s.ListAPIKeys(f.ctx, f.orgA.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("ListAPIKeys(A) = %d keys", len(got))
	}
	checkAPIKey(t, got[0], a1)
	checkAPIKey(t, got[1], a2)
	for _, limit := range []int{1, 2, 3} {
		ids := pageThrough(t, limit, func(p store.Page) ([]store.APIKey, error) { return f.s.ListAPIKeys(f.ctx, f.orgA.ID, p) },
			func(k store.APIKey) store.Cursor { return store.Cursor{CreatedAt: k.CreatedAt, ID: k.ID} },
			func(k store.APIKey) string { return k.ID })
		if !slices.Equal(ids, []string{"ka1", "ka2"}) {
			t.Errorf("limit %d: keys %v", limit, ids)
		}
	}
	if got, err := f.s.ListAPIKeys(f.ctx, "org_nope", store.Page{}); err != nil || len(got) != 0 {
		t.Fatalf("ListAPIKeys(unknown org) = %v, %v", got, err)
	}
}

func testAPIKeyExpiry(t *testing.T, f *fixture) {
	now := time.Now()
	for _, tc := range []struct {
		k    store.APIKey
		want string
	}{
		{store.APIKey{}, store.APIKeyActive},
		{store.APIKey{ExpiresAt: now.Add(time.Second)}, store.APIKeyActive},
		{store.APIKey{ExpiresAt: now}, store.APIKeyExpired},
		{store.APIKey{ExpiresAt: now.Add(-time.Second)}, store.APIKeyExpired},
		{store.APIKey{RevokedAt: now.Add(-time.Hour)}, store.APIKeyRevoked},
		{store.APIKey{RevokedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)}, store.APIKeyRevoked},
	} {
		if got := tc.k.State(now); got != tc.want {
			t.Errorf("State(%+v) = %s, want %s", tc.k, got, tc.want)
		}
	}
	// An expiry in the past is stored as given (the caller decides).
	k := f.apiKey(f.orgA.ID, "k1", now.Add(-time.Minute))
	if got := f.getAPIKey(f.orgA.ID, "k1"); got.State(time.Now()) != store.APIKeyExpired || !sameTime(got.ExpiresAt, k.ExpiresAt) {
		t.Errorf("expired key read back as %+v", got)
	}
}

func testAPIKeyRevoke(t *testing.T, f *fixture) {
	k := f.apiKey(f.orgA.ID, "k1", time.Time{})
	before := time.Now()
	r, err := f.s.RevokeAPIKey(f.ctx, f.orgA.ID, "k1")
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "RevokedAt", r.RevokedAt, before, after)
	want := k
	want.RevokedAt = r.RevokedAt
	checkAPIKey(t, r, want)
	checkAPIKey(t, f.getAPIKey(f.orgA.ID, "k1"), want)
	if r.State(time.Now()) != store.APIKeyRevoked {
		t.Errorf("state after revoke = %s", r.State(time.Now()))
	}
	// Again: unchanged.
	time.Sleep(2 * time.Millisecond)
	again, err := f.s.RevokeAPIKey(f.ctx, f.orgA.ID, "k1")
	if err != nil {
		t.Fatal(err)
	}
	checkAPIKey(t, again, want)
	_, err = f.s.RevokeAPIKey(f.ctx, f.orgA.ID, "nope")
	wantErr(t, "RevokeAPIKey(unknown)", err, store.ErrNotFound)
	// The hash still finds it (the caller refuses it).
	if byHash, err := f.s.APIKeyByHash(f.ctx, hashOf("k1")); err != nil || byHash.RevokedAt.IsZero() {
		t.Errorf("APIKeyByHash(revoked) = %+v, %v", byHash, err)
	}
}

func testAPIKeyRotate(t *testing.T, f *fixture) {
	old := f.apiKey(f.orgA.ID, "k1", time.Time{})
	next := store.APIKey{ID: "k2", OrganisationID: f.orgA.ID, Name: "rotated", Hash: hashOf("k2"), Prefix: "cgk_k2"}
	before := time.Now()
	gotOld, created, err := f.s.RotateAPIKey(f.ctx, f.orgA.ID, "k1", next, time.Hour)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	checkTime(t, "new CreatedAt", created.CreatedAt, before, after)
	wantNew := next
	wantNew.CreatedAt = created.CreatedAt
	checkAPIKey(t, created, wantNew)
	checkAPIKey(t, f.getAPIKey(f.orgA.ID, "k2"), wantNew)
	checkTime(t, "old ExpiresAt", gotOld.ExpiresAt, before.Add(time.Hour), after.Add(time.Hour))
	wantOld := old
	wantOld.ReplacedBy, wantOld.ExpiresAt = "k2", gotOld.ExpiresAt
	checkAPIKey(t, gotOld, wantOld)
	checkAPIKey(t, f.getAPIKey(f.orgA.ID, "k1"), wantOld)
	if gotOld.State(time.Now()) != store.APIKeyActive {
		t.Errorf("old key within its grace period is %s", gotOld.State(time.Now()))
	}

	// An earlier expiry is kept; a zero grace expires the old key at once.
	soon := time.Now().Add(10 * time.Minute).UTC()
	f.apiKey(f.orgA.ID, "k3", soon)
	o3, _, err := f.s.RotateAPIKey(f.ctx, f.orgA.ID, "k3", store.APIKey{ID: "k4", OrganisationID: f.orgA.ID, Hash: hashOf("k4")}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !sameTime(o3.ExpiresAt, soon) {
		t.Errorf("old key's earlier expiry %v became %v", soon, o3.ExpiresAt)
	}
	f.apiKey(f.orgA.ID, "k5", time.Time{})
	o5, _, err := f.s.RotateAPIKey(f.ctx, f.orgA.ID, "k5", store.APIKey{ID: "k6", OrganisationID: f.orgA.ID, Hash: hashOf("k6")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if o5.State(time.Now()) != store.APIKeyExpired {
		t.Errorf("old key after a zero grace period is %s (expires %v)", o5.State(time.Now()), o5.ExpiresAt)
	}
}

func testAPIKeyRotateRefused(t *testing.T, f *fixture) {
	f.apiKey(f.orgA.ID, "revoked", time.Time{})
	if _, err := f.s.RevokeAPIKey(f.ctx, f.orgA.ID, "revoked"); err != nil {
		t.Fatal(err)
	}
	f.apiKey(f.orgA.ID, "expired", time.Now().Add(-time.Second))
	f.apiKey(f.orgA.ID, "rotated", time.Time{})
	if _, _, err := f.s.RotateAPIKey(f.ctx, f.orgA.ID, "rotated", store.APIKey{ID: "successor", OrganisationID: f.orgA.ID, Hash: hashOf("successor")}, time.Hour); err != nil {
		t.Fatal(err)
	}
	f.apiKey(f.orgA.ID, "fine", time.Time{})
	next := func(id string) store.APIKey {
		return store.APIKey{ID: id, OrganisationID: f.orgA.ID, Hash: hashOf(id)}
	}
	for _, tc := range []struct {
		id   string
		next store.APIKey
		want error
	}{
		{"revoked", next("n1"), store.ErrConflict},
		{"expired", next("n2"), store.ErrConflict},
		{"rotated", next("n3"), store.ErrConflict},
		{"nope", next("n4"), store.ErrNotFound},
		{"fine", store.APIKey{ID: "n5", OrganisationID: f.orgA.ID, Hash: hashOf("fine")}, store.ErrConflict},      // the old key's hash
		{"fine", store.APIKey{ID: "successor", OrganisationID: f.orgA.ID, Hash: hashOf("n6")}, store.ErrConflict}, // an id in use
	} {
		_, _, err := f.s.RotateAPIKey(f.ctx, f.orgA.ID, tc.id, tc.next, time.Hour)
		wantErr(t, fmt.Sprintf("RotateAPIKey(%s -> %s)", tc.id, tc.next.ID), err, tc.want)
		if _, err := f.s.GetAPIKey(f.ctx, f.orgA.ID, tc.next.ID); tc.next.ID != "successor" && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refused rotation of %s left key %s behind (%v)", tc.id, tc.next.ID, err)
		}
	}
	if k := f.getAPIKey(f.orgA.ID, "fine"); k.ReplacedBy != "" || !k.ExpiresAt.IsZero() {
		t.Errorf("refused rotations changed the key: %+v", k)
	}
	// Another organisation's key cannot be rotated, nor into another one.
	f.apiKey(f.orgB.ID, "kb", time.Time{})
	_, _, err := f.s.RotateAPIKey(f.ctx, f.orgA.ID, "kb", next("n7"), time.Hour)
	wantErr(t, "RotateAPIKey(B's key as A)", err, store.ErrNotFound)
	if _, _, err := f.s.RotateAPIKey(f.ctx, f.orgB.ID, "kb", next("n8"), time.Hour); err == nil {
		t.Error("RotateAPIKey into a key of another organisation succeeded")
	}
}

// testAPIKeyRotateConcurrent: of concurrent rotations of one key exactly
// one wins, and the losers leave no key behind.
func testAPIKeyRotateConcurrent(t *testing.T, f *fixture) {
	f.apiKey(f.orgA.ID, "k1", time.Time{})
	const workers = 6
	var wins atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			id := fmt.Sprintf("next%d", w)
			_, _, err := f.s.RotateAPIKey(f.ctx, f.orgA.ID, "k1", store.APIKey{ID: id, OrganisationID: f.orgA.ID, Hash: hashOf(id)}, time.Hour)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrConflict):
			default:
				t.Errorf("RotateAPIKey: %v", err)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d concurrent rotations won, want 1", n)
	}
	keys, err := f.s.ListAPIKeys(f.ctx, f.orgA.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ReplacedBy != keys[1].ID {
		t.Fatalf("after concurrent rotations: %+v", keys)
	}
}

func testAPIKeyTouch(t *testing.T, f *fixture) {
	f.apiKey(f.orgA.ID, "k1", time.Time{})
	t1 := time.Now().UTC().Add(-time.Minute)
	if err := f.s.TouchAPIKey(f.ctx, "k1", t1); err != nil {
		t.Fatal(err)
	}
	if got := f.getAPIKey(f.orgA.ID, "k1").LastUsedAt; !sameTime(got, t1) {
		t.Fatalf("LastUsedAt = %v, want %v", got, t1)
	}
	// An earlier use does not move it back; a later one moves it on.
	if err := f.s.TouchAPIKey(f.ctx, "k1", t1.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := f.getAPIKey(f.orgA.ID, "k1").LastUsedAt; !sameTime(got, t1) {
		t.Fatalf("LastUsedAt after an earlier touch = %v, want %v", got, t1)
	}
	t2 := t1.Add(30 * time.Second)
	if err := f.s.TouchAPIKey(f.ctx, "k1", t2); err != nil {
		t.Fatal(err)
	}
	if got := f.getAPIKey(f.orgA.ID, "k1").LastUsedAt; !sameTime(got, t2) {
		t.Fatalf("LastUsedAt = %v, want %v", got, t2)
	}
	if err := f.s.TouchAPIKey(f.ctx, "nope", t2); err != nil {
		t.Errorf("TouchAPIKey(unknown) = %v, want nil", err)
	}
}

func testAPIKeyOrgIsolation(t *testing.T, f *fixture) {
	a := f.apiKey(f.orgA.ID, "k1", time.Time{})
	_, err := f.s.GetAPIKey(f.ctx, f.orgB.ID, "k1")
	wantErr(t, "B GetAPIKey(A's)", err, store.ErrNotFound)
	_, err = f.s.RevokeAPIKey(f.ctx, f.orgB.ID, "k1")
	wantErr(t, "B RevokeAPIKey(A's)", err, store.ErrNotFound)
	if got, err := f.s.ListAPIKeys(f.ctx, f.orgB.ID, store.Page{}); err != nil || len(got) != 0 {
		t.Fatalf("B ListAPIKeys = %v, %v", got, err)
	}
	checkAPIKey(t, f.getAPIKey(f.orgA.ID, "k1"), a)
}

// ---- paged lists -----------------------------------------------------------

func testConfigListPaged(t *testing.T, f *fixture) {
	var want []string
	for i := range 7 {
		want = append(want, f.config(f.orgA.ID, fmt.Sprintf("cc%d", 9-i)).ID) // ids against creation order
	}
	f.config(f.orgB.ID, "ccB")
	for _, limit := range []int{0, 1, 2, 3, 7, 8} {
		got := pageThrough(t, limit, func(p store.Page) ([]store.ConnectorConfig, error) {
			return f.s.ListConnectorConfigs(f.ctx, f.orgA.ID, p)
		},
			func(c store.ConnectorConfig) store.Cursor { return store.Cursor{CreatedAt: c.CreatedAt, ID: c.ID} },
			func(c store.ConnectorConfig) string { return c.ID })
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: configs %v, want %v (creation order)", limit, got, want)
		}
	}
}

func testConnectionListPaged(t *testing.T, f *fixture) {
	f.config(f.orgA.ID, "cc1")
	f.config(f.orgA.ID, "cc2")
	var all, cust1 []string
	for i := range 7 {
		customer := []string{"cust1", "cust2"}[i%2]
		config := []string{"cc1", "cc2"}[i%3%2]
		c := f.connection(f.orgA.ID, fmt.Sprintf("conn%d", 9-i), config, customer)
		all = append(all, c.ID)
		if customer == "cust1" {
			cust1 = append(cust1, c.ID)
		}
	}
	cursor := func(c store.Connection) store.Cursor { return store.Cursor{CreatedAt: c.CreatedAt, ID: c.ID} }
	id := func(c store.Connection) string { return c.ID }
	for _, limit := range []int{0, 1, 2, 3, 7} {
		got := pageThrough(t, limit, func(p store.Page) ([]store.Connection, error) {
			return f.s.ListConnections(f.ctx, f.orgA.ID, store.ConnectionFilter{Page: p})
		}, cursor, id)
		if !slices.Equal(got, all) {
			t.Errorf("limit %d: connections %v, want %v", limit, got, all)
		}
		got = pageThrough(t, limit, func(p store.Page) ([]store.Connection, error) {
			return f.s.ListConnections(f.ctx, f.orgA.ID, store.ConnectionFilter{CustomerID: "cust1", Page: p})
		}, cursor, id)
		if !slices.Equal(got, cust1) {
			t.Errorf("limit %d, customer cust1: connections %v, want %v", limit, got, cust1)
		}
	}
}
