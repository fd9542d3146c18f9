// Package admin implements crmgate.admin.v1.AdminService: organisations and
// their API keys, for the gateway's operators. The server authenticates
// its calls by x-admin-key (auth.AdminAuthenticator) before they get here.
// API keys are hashed as the gateway's other keys are (auth.HashKey); the
// key itself is in the answer of the call that makes it, and nowhere else.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/crmgate/crmgate/gen/crmgate/admin/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/paging"
	"github.com/crmgate/crmgate/internal/store"
)

// Rotation grace periods.
const (
	DefaultGrace = 24 * time.Hour
	MaxGrace     = 30 * 24 * time.Hour
)

// maxNameLen bounds organisation and key names (in characters).
const maxNameLen = 128

// Forgetter drops what an authenticator remembers of a key
// (auth.Authenticator.Forget).
type Forgetter interface {
	Forget(apiKeyID string)
}

// Service implements adminv1.AdminServiceServer.
type Service struct {
	adminv1.UnimplementedAdminServiceServer
	store  store.Store
	keys   Forgetter
	log    *slog.Logger
	now    func() time.Time
	newKey func() (string, error)
}

var _ adminv1.AdminServiceServer = (*Service)(nil)

// New returns the service; keys is told of revoked and rotated keys.
func New(s store.Store, keys Forgetter, log *slog.Logger) *Service {
	return &Service{store: s, keys: keys, log: log, now: time.Now, newKey: auth.NewKey}
}

// checkName validates a human-readable name: 1 to 128 characters, valid
// UTF-8, no control characters, not blank.
func checkName(field, v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return crm.Invalid(field, "is required")
	case !utf8.ValidString(v):
		return crm.Invalid(field, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > maxNameLen:
		return crm.Invalid(field, "is longer than %d characters", maxNameLen)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return crm.Invalid(field, "must not contain control characters")
	}
	return nil
}

// checkID validates an id given in a path.
func checkID(field, v string) error {
	if v == "" {
		return crm.Invalid(field, "is required")
	}
	if len(v) > 128 || strings.IndexFunc(v, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' && r != '-'
	}) >= 0 {
		return crm.Invalid(field, "is not a valid id")
	}
	return nil
}

func orgNotFound(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apierr.New(codes.NotFound, "ORGANISATION_NOT_FOUND", "organisation %q not found", id)
	}
	return err
}

func keyNotFound(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apierr.New(codes.NotFound, "API_KEY_NOT_FOUND", "api key %q not found", id)
	}
	return err
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func orgToProto(o store.Organisation) *adminv1.Organisation {
	return &adminv1.Organisation{Id: o.ID, Name: o.Name, CreatedAt: ts(o.CreatedAt)}
}

func (s *Service) keyToProto(k store.APIKey) *adminv1.ApiKey {
	return &adminv1.ApiKey{
		Id: k.ID, OrganisationId: k.OrganisationID, Name: k.Name, Prefix: k.Prefix, Status: k.State(s.now()),
		CreatedAt: ts(k.CreatedAt), LastUsedAt: ts(k.LastUsedAt), ExpiresAt: ts(k.ExpiresAt), RevokedAt: ts(k.RevokedAt),
		ReplacedBy: k.ReplacedBy,
	}
}

// organisation loads organisation id (validated), for the key calls.
func (s *Service) organisation(ctx context.Context, field, id string) (store.Organisation, error) {
	if err := checkID(field, id); err != nil {
		return store.Organisation{}, err
	}
	o, err := s.store.GetOrganisation(ctx, id)
	if err != nil {
		return store.Organisation{}, orgNotFound(err, id)
	}
	return o, nil
}

// CreateOrganisation implements AdminService.
func (s *Service) CreateOrganisation(ctx context.Context, req *adminv1.CreateOrganisationRequest) (*adminv1.CreateOrganisationResponse, error) {
	if err := checkName("name", req.GetName()); err != nil {
		return nil, err
	}
	o, err := s.store.CreateOrganisation(ctx, store.Organisation{ID: auth.NewID("org_"), Name: req.GetName()})
	if errors.Is(err, store.ErrConflict) {
		return nil, apierr.New(codes.AlreadyExists, "ORGANISATION_EXISTS", "an organisation named %q exists", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "admin: organisation created", "organisation_id", o.ID)
	return &adminv1.CreateOrganisationResponse{Organisation: orgToProto(o)}, nil
}

// ListOrganisations implements AdminService: one page, oldest first.
func (s *Service) ListOrganisations(ctx context.Context, req *adminv1.ListOrganisationsRequest) (*adminv1.ListOrganisationsResponse, error) {
	pr, err := paging.Parse("organisations", req.GetPageSize(), req.GetCursor())
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListOrganisations(ctx, pr.Page)
	if err != nil {
		return nil, err
	}
	list, next := paging.Finish(pr, list, func(o store.Organisation) store.Cursor { return store.Cursor{CreatedAt: o.CreatedAt, ID: o.ID} })
	out := &adminv1.ListOrganisationsResponse{Items: make([]*adminv1.Organisation, 0, len(list)), NextCursor: next, HasNextPage: next != ""}
	for _, o := range list {
		out.Items = append(out.Items, orgToProto(o))
	}
	return out, nil
}

// GetOrganisation implements AdminService.
func (s *Service) GetOrganisation(ctx context.Context, req *adminv1.GetOrganisationRequest) (*adminv1.GetOrganisationResponse, error) {
	o, err := s.organisation(ctx, "id", req.GetId())
	if err != nil {
		return nil, err
	}
	return &adminv1.GetOrganisationResponse{Organisation: orgToProto(o)}, nil
}

// newAPIKey makes a key for org: the secret and the row to store.
func (s *Service) newAPIKey(org, name string, expires time.Time) (string, store.APIKey, error) {
	key, err := s.newKey()
	if err != nil {
		return "", store.APIKey{}, err
	}
	return key, store.APIKey{
		ID: auth.NewID("key_"), OrganisationID: org, Name: name, Hash: auth.HashKey(key), Prefix: auth.DisplayPrefix(key),
		ExpiresAt: expires,
	}, nil
}

// CreateApiKey implements AdminService.
func (s *Service) CreateApiKey(ctx context.Context, req *adminv1.CreateApiKeyRequest) (*adminv1.CreateApiKeyResponse, error) { //nolint:revive // the proto's name
	o, err := s.organisation(ctx, "organisation_id", req.GetOrganisationId())
	if err != nil {
		return nil, err
	}
	if err := checkName("name", req.GetName()); err != nil {
		return nil, err
	}
	var expires time.Time
	if e := req.GetExpiresAt(); e != nil {
		if err := e.CheckValid(); err != nil {
			return nil, crm.Invalid("expires_at", "is not a valid time")
		}
		if expires = e.AsTime(); !expires.After(s.now()) {
			return nil, crm.Invalid("expires_at", "must be in the future")
		}
	}
	key, k, err := s.newAPIKey(o.ID, req.GetName(), expires)
	if err != nil {
		return nil, err
	}
	k, err = s.store.CreateAPIKey(ctx, k)
	if err != nil {
		return nil, orgNotFound(err, o.ID)
	}
	s.log.InfoContext(ctx, "admin: api key created", "organisation_id", o.ID, "api_key_id", k.ID)
	return &adminv1.CreateApiKeyResponse{ApiKey: s.keyToProto(k), Key: key}, nil
}

// ListApiKeys implements AdminService: one page, oldest first.
func (s *Service) ListApiKeys(ctx context.Context, req *adminv1.ListApiKeysRequest) (*adminv1.ListApiKeysResponse, error) { //nolint:revive // the proto's name
	o, err := s.organisation(ctx, "organisation_id", req.GetOrganisationId())
	if err != nil {
		return nil, err
	}
	pr, err := paging.Parse("api_keys?organisation_id="+o.ID, req.GetPageSize(), req.GetCursor())
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListAPIKeys(ctx, o.ID, pr.Page)
	if err != nil {
		return nil, err
	}
	list, next := paging.Finish(pr, list, func(k store.APIKey) store.Cursor { return store.Cursor{CreatedAt: k.CreatedAt, ID: k.ID} })
	out := &adminv1.ListApiKeysResponse{Items: make([]*adminv1.ApiKey, 0, len(list)), NextCursor: next, HasNextPage: next != ""}
	for _, k := range list {
		out.Items = append(out.Items, s.keyToProto(k))
	}
	return out, nil
}

// apiKey validates the organisation and key ids of a key call.
func (s *Service) apiKey(ctx context.Context, orgID, id string) (store.APIKey, error) {
	if _, err := s.organisation(ctx, "organisation_id", orgID); err != nil {
		return store.APIKey{}, err
	}
	if err := checkID("id", id); err != nil {
		return store.APIKey{}, err
	}
	k, err := s.store.GetAPIKey(ctx, orgID, id)
	if err != nil {
		return store.APIKey{}, keyNotFound(err, id)
	}
	return k, nil
}

// GetApiKey implements AdminService.
func (s *Service) GetApiKey(ctx context.Context, req *adminv1.GetApiKeyRequest) (*adminv1.GetApiKeyResponse, error) { //nolint:revive // the proto's name
	k, err := s.apiKey(ctx, req.GetOrganisationId(), req.GetId())
	if err != nil {
		return nil, err
	}
	return &adminv1.GetApiKeyResponse{ApiKey: s.keyToProto(k)}, nil
}

// RevokeApiKey implements AdminService.
func (s *Service) RevokeApiKey(ctx context.Context, req *adminv1.RevokeApiKeyRequest) (*adminv1.RevokeApiKeyResponse, error) { //nolint:revive // the proto's name
	if _, err := s.apiKey(ctx, req.GetOrganisationId(), req.GetId()); err != nil {
		return nil, err
	}
	k, err := s.store.RevokeAPIKey(ctx, req.GetOrganisationId(), req.GetId())
	s.keys.Forget(req.GetId())
	if err != nil {
		return nil, keyNotFound(err, req.GetId())
	}
	s.log.InfoContext(ctx, "admin: api key revoked", "organisation_id", k.OrganisationID, "api_key_id", k.ID)
	return &adminv1.RevokeApiKeyResponse{ApiKey: s.keyToProto(k)}, nil
}

// RotateApiKey implements AdminService.
func (s *Service) RotateApiKey(ctx context.Context, req *adminv1.RotateApiKeyRequest) (*adminv1.RotateApiKeyResponse, error) { //nolint:revive // the proto's name
	old, err := s.apiKey(ctx, req.GetOrganisationId(), req.GetId())
	if err != nil {
		return nil, err
	}
	grace := DefaultGrace
	if g := req.GetGracePeriod(); g != nil {
		if err := g.CheckValid(); err != nil {
			return nil, crm.Invalid("grace_period", "is not a valid duration")
		}
		if grace = g.AsDuration(); grace < 0 || grace > MaxGrace {
			return nil, crm.Invalid("grace_period", "must be between 0s and %s, got %s", MaxGrace, grace)
		}
	}
	name := old.Name
	if req.GetName() != "" {
		if err := checkName("name", req.GetName()); err != nil {
			return nil, err
		}
		name = req.GetName()
	}
	if err := rotatable(old, s.now()); err != nil {
		return nil, err
	}
	key, next, err := s.newAPIKey(old.OrganisationID, name, time.Time{})
	if err != nil {
		return nil, err
	}
	prev, created, err := s.store.RotateAPIKey(ctx, old.OrganisationID, old.ID, next, grace)
	s.keys.Forget(old.ID) // its cached expiry is gone
	if errors.Is(err, store.ErrConflict) {
		// Changed since it was read (revoked or rotated concurrently).
		if cur, gerr := s.store.GetAPIKey(ctx, old.OrganisationID, old.ID); gerr == nil {
			if rerr := rotatable(cur, s.now()); rerr != nil {
				return nil, rerr
			}
		}
		return nil, apierr.New(codes.Aborted, "API_KEY_CHANGED", "api key %q changed during the rotation; try again", old.ID)
	}
	if err != nil {
		return nil, keyNotFound(err, old.ID)
	}
	s.log.InfoContext(ctx, "admin: api key rotated", "organisation_id", old.OrganisationID, "api_key_id", old.ID,
		"new_api_key_id", created.ID, "grace", grace.String())
	return &adminv1.RotateApiKeyResponse{ApiKey: s.keyToProto(created), Key: key, Previous: s.keyToProto(prev)}, nil
}

// rotatable tells why k cannot be rotated, if it cannot.
func rotatable(k store.APIKey, now time.Time) error {
	switch {
	case k.State(now) == store.APIKeyRevoked:
		return apierr.New(codes.FailedPrecondition, "API_KEY_REVOKED", "api key %q is revoked; create a new key instead", k.ID)
	case k.State(now) == store.APIKeyExpired:
		return apierr.New(codes.FailedPrecondition, "API_KEY_EXPIRED", "api key %q has expired; create a new key instead", k.ID)
	case k.ReplacedBy != "":
		return apierr.New(codes.FailedPrecondition, "API_KEY_ROTATED", "api key %q was rotated already (replaced by %q); rotate that one", k.ID, k.ReplacedBy)
	}
	return nil
}
