package admin

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/crmgate/crmgate/gen/crmgate/admin/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/secrets"
	"github.com/crmgate/crmgate/internal/store/sqlstore"
)

type forgotten []string

func (f *forgotten) Forget(id string) { *f = append(*f, id) }

func newService(t *testing.T) (*Service, *forgotten) {
	t.Helper()
	keys, err := secrets.ParseKeyring(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "admin.db"), keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &forgotten{}
	return New(st, f, slog.New(slog.DiscardHandler)), f
}

// field returns the field a validation error names ("" if err is none).
func field(err error) string {
	var v *crm.ValidationError
	if errors.As(err, &v) && len(v.Violations) > 0 {
		return v.Violations[0].Field
	}
	return ""
}

func code(err error) codes.Code {
	var e *apierr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return codes.Unknown
}

func TestValidation(t *testing.T) {
	s, _ := newService(t)
	ctx := t.Context()
	for _, name := range []string{"", "   ", "tab\there", strings.Repeat("x", 129), "\xff"} {
		if _, err := s.CreateOrganisation(ctx, &adminv1.CreateOrganisationRequest{Name: name}); field(err) != "name" {
			t.Errorf("CreateOrganisation(%q) = %v, want a name violation", name, err)
		}
	}
	o, err := s.CreateOrganisation(ctx, &adminv1.CreateOrganisationRequest{Name: "Ünïcode Co. (EU)"})
	if err != nil {
		t.Fatal(err)
	}
	org := o.GetOrganisation().GetId()
	if _, err := s.GetOrganisation(ctx, &adminv1.GetOrganisationRequest{Id: "bad/id"}); field(err) != "id" {
		t.Errorf("GetOrganisation(bad id) = %v", err)
	}
	if _, err := s.CreateApiKey(ctx, &adminv1.CreateApiKeyRequest{OrganisationId: org, Name: "k", ExpiresAt: timestamppb.New(time.Now().Add(-time.Minute))}); field(err) != "expires_at" {
		t.Errorf("CreateApiKey(expired) = %v", err)
	}
	if _, err := s.CreateApiKey(ctx, &adminv1.CreateApiKeyRequest{OrganisationId: "org_nosuch", Name: "k"}); code(err) != codes.NotFound {
		t.Errorf("CreateApiKey(unknown org) = %v", err)
	}
	k, err := s.CreateApiKey(ctx, &adminv1.CreateApiKeyRequest{OrganisationId: org, Name: "k", ExpiresAt: timestamppb.New(time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	id := k.GetApiKey().GetId()
	for _, g := range []*durationpb.Duration{durationpb.New(-time.Second), durationpb.New(MaxGrace + time.Second), {Seconds: 1, Nanos: -1}} {
		if _, err := s.RotateApiKey(ctx, &adminv1.RotateApiKeyRequest{OrganisationId: org, Id: id, GracePeriod: g}); field(err) != "grace_period" {
			t.Errorf("RotateApiKey(grace %v) = %v", g, err)
		}
	}
	if _, err := s.RotateApiKey(ctx, &adminv1.RotateApiKeyRequest{OrganisationId: org, Id: id, Name: "bad\nname"}); field(err) != "name" {
		t.Errorf("RotateApiKey(bad name) = %v", err)
	}
	if _, err := s.ListApiKeys(ctx, &adminv1.ListApiKeysRequest{OrganisationId: org, PageSize: -1}); field(err) != "page_size" {
		t.Errorf("ListApiKeys(page_size -1) = %v", err)
	}
	if _, err := s.GetApiKey(ctx, &adminv1.GetApiKeyRequest{OrganisationId: org, Id: "key_nosuch"}); code(err) != codes.NotFound {
		t.Errorf("GetApiKey(unknown) = %v", err)
	}
}

// TestRotateAndRevokeForget: the authenticator is told to forget the keys
// revoked and rotated; a rotation keeps the earlier expiry and answers
// both keys; the key is never in a list.
func TestRotateAndRevokeForget(t *testing.T) {
	s, f := newService(t)
	ctx := t.Context()
	o, err := s.CreateOrganisation(ctx, &adminv1.CreateOrganisationRequest{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	org := o.GetOrganisation().GetId()
	soon := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	k, err := s.CreateApiKey(ctx, &adminv1.CreateApiKeyRequest{OrganisationId: org, Name: "k", ExpiresAt: timestamppb.New(soon)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.RotateApiKey(ctx, &adminv1.RotateApiKeyRequest{OrganisationId: org, Id: k.GetApiKey().GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if !r.GetPrevious().GetExpiresAt().AsTime().Equal(soon) {
		t.Errorf("default grace moved an earlier expiry %v to %v", soon, r.GetPrevious().GetExpiresAt().AsTime())
	}
	if r.GetKey() == k.GetKey() || r.GetApiKey().GetName() != "k" || r.GetPrevious().GetReplacedBy() != r.GetApiKey().GetId() {
		t.Errorf("rotation = %v", r)
	}
	if _, err := s.RevokeApiKey(ctx, &adminv1.RevokeApiKeyRequest{OrganisationId: org, Id: r.GetApiKey().GetId()}); err != nil {
		t.Fatal(err)
	}
	if want := []string{k.GetApiKey().GetId(), r.GetApiKey().GetId()}; len(*f) != 2 || (*f)[0] != want[0] || (*f)[1] != want[1] {
		t.Errorf("forgotten %v, want %v", *f, want)
	}
	l, err := s.ListApiKeys(ctx, &adminv1.ListApiKeysRequest{OrganisationId: org})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.GetItems()) != 2 || l.GetItems()[1].GetStatus() != "revoked" || strings.Contains(l.String(), k.GetKey()) || strings.Contains(l.String(), r.GetKey()) {
		t.Errorf("list = %v", l)
	}
	if _, err := s.RotateApiKey(ctx, &adminv1.RotateApiKeyRequest{OrganisationId: org, Id: r.GetApiKey().GetId()}); code(err) != codes.FailedPrecondition {
		t.Errorf("rotating a revoked key = %v", err)
	}
}
