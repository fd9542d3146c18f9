// Package core implements crmgate.core.v1.CoreService: an organisation's
// connector configs and connections. Settings are validated by the
// registered connector, which also decides what is secret; secrets are
// stored encrypted and never returned, only their names.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"regexp"
	"sort"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/auth"
	"github.com/crmgate/crmgate/internal/connections"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/paging"
	"github.com/crmgate/crmgate/internal/store"
	"github.com/crmgate/crmgate/internal/upstream"
)

// Service implements corev1.CoreServiceServer.
type Service struct {
	corev1.UnimplementedCoreServiceServer
	store store.Store
	conns *connections.Resolver
	log   *slog.Logger
	now   func() time.Time

	budgets upstream.Budgets
}

var _ corev1.CoreServiceServer = (*Service)(nil)

// New returns the service.
func New(s store.Store, conns *connections.Resolver, log *slog.Logger) *Service {
	return &Service{store: s, conns: conns, log: log, now: func() time.Time { return time.Now().UTC() }}
}

// WithBudgets lets GetConnectionRateLimit show the rate-limit figures the
// upstream transport records.
func (s *Service) WithBudgets(b upstream.Budgets) *Service {
	s.budgets = b
	return s
}

// GetConnectionRateLimit implements CoreService: the provider's budget for
// the connection as last reported by the provider (-1 where it never said).
func (s *Service) GetConnectionRateLimit(ctx context.Context, req *corev1.GetConnectionRateLimitRequest) (*corev1.GetConnectionRateLimitResponse, error) {
	c, err := s.connection(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	cfg, err := s.store.GetConnectorConfig(ctx, c.OrganisationID, c.ConnectorConfigID)
	if err != nil {
		return nil, err
	}
	cn, err := s.connector(cfg.ConnectorName)
	if err != nil {
		return nil, err
	}
	rl, ok := cn.(crm.RateLimited)
	if !ok || s.budgets == nil {
		return nil, apierr.New(codes.Unimplemented, "NOT_IMPLEMENTED", "connector %q has no rate-limit budget", cfg.ConnectorName)
	}
	b, seen, err := s.budgets.Get(ctx, rl.RateLimitKey(connections.Params(cfg, c)))
	if err != nil {
		return nil, err
	}
	out := &corev1.GetConnectionRateLimitResponse{BurstLimit: -1, BurstRemaining: -1, BurstIntervalMs: -1, DailyLimit: -1, DailyRemaining: -1}
	if seen {
		out.BurstLimit, out.BurstRemaining, out.BurstIntervalMs = clamp32(int64(b.BurstLimit)), clamp32(int64(b.BurstRemaining)), clamp32(b.BurstIntervalMS)
		out.DailyLimit, out.DailyRemaining = clamp32(int64(b.DailyLimit)), clamp32(int64(b.DailyRemaining))
		out.ObservedAt = timestamppb.New(b.ObservedAt)
	}
	return out, nil
}

var (
	idRe       = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	customerRe = regexp.MustCompile(`^[A-Za-z0-9_.:@-]{1,128}$`)
	settingRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

const maxSettingLen = 8192

func orgID(ctx context.Context) (string, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return "", apierr.ErrMissingAPIKey
	}
	return p.OrganisationID, nil
}

func checkID(field, v string) error {
	if v == "" {
		return crm.Invalid(field, "is required")
	}
	if !idRe.MatchString(v) {
		return crm.Invalid(field, "is not a valid id")
	}
	return nil
}

// settingsFromStruct turns a JSON object of strings into a map. With
// patch, null or "" values are kept as "" (meaning: remove).
func settingsFromStruct(field string, s *structpb.Struct, patch bool) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range s.GetFields() {
		if !settingRe.MatchString(k) {
			return nil, crm.Invalid(field+"."+k, "is not a valid setting name")
		}
		switch x := v.GetKind().(type) {
		case *structpb.Value_StringValue:
			if len(x.StringValue) > maxSettingLen {
				return nil, crm.Invalid(field+"."+k, "is longer than %d characters", maxSettingLen)
			}
			if x.StringValue == "" && !patch {
				continue
			}
			out[k] = x.StringValue
		case *structpb.Value_NullValue:
			if patch {
				out[k] = ""
			}
		default:
			return nil, crm.Invalid(field+"."+k, "must be a string")
		}
	}
	return out, nil
}

// merge applies a patch ("" removes) to the flattened previous settings.
func merge(prev crm.SplitSettings, patch map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range prev.Public {
		out[k] = v
	}
	for k, v := range prev.Secret {
		out[k] = v
	}
	for k, v := range patch {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func publicStruct(m map[string]string) *structpb.Struct {
	f := make(map[string]any, len(m))
	for k, v := range m {
		f[k] = v
	}
	s, _ := structpb.NewStruct(f) // strings always convert
	return s
}

func secretKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func configToProto(c store.ConnectorConfig) *corev1.ConnectorConfig {
	return &corev1.ConnectorConfig{
		Id:            c.ID,
		ConnectorName: c.ConnectorName,
		Config:        publicStruct(c.Settings),
		SecretKeys:    secretKeys(c.Secrets),
		CreatedAt:     timestamppb.New(c.CreatedAt),
		UpdatedAt:     timestamppb.New(c.UpdatedAt),
	}
}

func connectionToProto(c store.Connection) *corev1.Connection {
	return &corev1.Connection{
		Id:                c.ID,
		ConnectorConfigId: c.ConnectorConfigID,
		ConnectorName:     c.ConnectorName,
		CustomerId:        c.CustomerID,
		AuthType:          c.AuthType,
		Status:            c.Status,
		StatusMessage:     c.StatusMessage,
		Settings:          publicStruct(c.Settings),
		SecretKeys:        secretKeys(c.Credentials),
		CreatedAt:         timestamppb.New(c.CreatedAt),
		UpdatedAt:         timestamppb.New(c.UpdatedAt),
	}
}

func (s *Service) connector(name string) (crm.Connector, error) {
	if name == "" {
		return nil, crm.Invalid("connector_name", "is required")
	}
	c, ok := s.conns.Connector(name)
	if !ok {
		return nil, crm.Invalid("connector_name", "unknown connector %q", clipS(name))
	}
	return c, nil
}

func clipS(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func configNotFound(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apierr.New(codes.NotFound, "CONNECTOR_CONFIG_NOT_FOUND", "connector config %q not found", id)
	}
	return err
}

// connection loads the caller's connection id (validated).
func (s *Service) connection(ctx context.Context, id string) (store.Connection, error) {
	org, err := orgID(ctx)
	if err != nil {
		return store.Connection{}, err
	}
	if err := checkID("id", id); err != nil {
		return store.Connection{}, err
	}
	c, err := s.store.GetConnection(ctx, org, id)
	if err != nil {
		return store.Connection{}, connectionNotFound(err, id)
	}
	return c, nil
}

func connectionNotFound(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apierr.New(codes.NotFound, "CONNECTION_NOT_FOUND", "connection %q not found", id)
	}
	return err
}

// CreateConnectorConfig implements CoreService.
func (s *Service) CreateConnectorConfig(ctx context.Context, req *corev1.CreateConnectorConfigRequest) (*corev1.CreateConnectorConfigResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	cn, err := s.connector(req.GetConnectorName())
	if err != nil {
		return nil, err
	}
	in, err := settingsFromStruct("config", req.GetConfig(), false)
	if err != nil {
		return nil, err
	}
	split, err := cn.CheckConfig(in, nil)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c, err := s.store.CreateConnectorConfig(ctx, store.ConnectorConfig{
		ID: auth.NewID("ccfg_" + cn.Name() + "_"), OrganisationID: org, ConnectorName: cn.Name(),
		Settings: split.Public, Secrets: split.Secret, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return nil, err
	}
	return &corev1.CreateConnectorConfigResponse{ConnectorConfig: configToProto(c)}, nil
}

// ListConnectorConfigs implements CoreService: one page, oldest first.
func (s *Service) ListConnectorConfigs(ctx context.Context, req *corev1.ListConnectorConfigsRequest) (*corev1.ListConnectorConfigsResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := paging.Parse("connector_configs", req.GetPageSize(), req.GetCursor())
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListConnectorConfigs(ctx, org, pr.Page)
	if err != nil {
		return nil, err
	}
	list, next := paging.Finish(pr, list, func(c store.ConnectorConfig) store.Cursor { return store.Cursor{CreatedAt: c.CreatedAt, ID: c.ID} })
	out := &corev1.ListConnectorConfigsResponse{Items: make([]*corev1.ConnectorConfig, 0, len(list)), NextCursor: next, HasNextPage: next != ""}
	for _, c := range list {
		out.Items = append(out.Items, configToProto(c))
	}
	return out, nil
}

// GetConnectorConfig implements CoreService.
func (s *Service) GetConnectorConfig(ctx context.Context, req *corev1.GetConnectorConfigRequest) (*corev1.GetConnectorConfigResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	c, err := s.store.GetConnectorConfig(ctx, org, req.GetId())
	if err != nil {
		return nil, configNotFound(err, req.GetId())
	}
	return &corev1.GetConnectorConfigResponse{ConnectorConfig: configToProto(c)}, nil
}

// UpdateConnectorConfig implements CoreService.
func (s *Service) UpdateConnectorConfig(ctx context.Context, req *corev1.UpdateConnectorConfigRequest) (*corev1.UpdateConnectorConfigResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	patch, err := settingsFromStruct("config", req.GetConfig(), true)
	if err != nil {
		return nil, err
	}
	c, err := s.store.GetConnectorConfig(ctx, org, req.GetId())
	if err != nil {
		return nil, configNotFound(err, req.GetId())
	}
	cn, err := s.connector(c.ConnectorName)
	if err != nil {
		return nil, err
	}
	split, err := cn.CheckConfig(merge(crm.SplitSettings{Public: c.Settings, Secret: c.Secrets}, patch), nil)
	if err != nil {
		return nil, err
	}
	c.Settings, c.Secrets, c.UpdatedAt = split.Public, split.Secret, s.now()
	c, err = s.store.UpdateConnectorConfig(ctx, c)
	s.conns.ForgetAll()
	if err != nil {
		return nil, configNotFound(err, req.GetId())
	}
	return &corev1.UpdateConnectorConfigResponse{ConnectorConfig: configToProto(c)}, nil
}

// DeleteConnectorConfig implements CoreService.
func (s *Service) DeleteConnectorConfig(ctx context.Context, req *corev1.DeleteConnectorConfigRequest) (*corev1.DeleteConnectorConfigResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	err = s.store.DeleteConnectorConfig(ctx, org, req.GetId())
	if errors.Is(err, store.ErrConflict) {
		return nil, apierr.New(codes.FailedPrecondition, "CONNECTOR_CONFIG_IN_USE", "connector config %q is used by connections; delete them first", req.GetId())
	}
	if err != nil {
		return nil, configNotFound(err, req.GetId())
	}
	return &corev1.DeleteConnectorConfigResponse{}, nil
}

// CreateConnection implements CoreService.
func (s *Service) CreateConnection(ctx context.Context, req *corev1.CreateConnectionRequest) (*corev1.CreateConnectionResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("connector_config_id", req.GetConnectorConfigId()); err != nil {
		return nil, err
	}
	if !customerRe.MatchString(req.GetCustomerId()) {
		return nil, crm.Invalid("customer_id", "is required: letters, digits and _ . : @ -, at most 128")
	}
	in, err := settingsFromStruct("settings", req.GetSettings(), false)
	if err != nil {
		return nil, err
	}
	cfg, err := s.store.GetConnectorConfig(ctx, org, req.GetConnectorConfigId())
	if err != nil {
		return nil, configNotFound(err, req.GetConnectorConfigId())
	}
	cn, err := s.connector(cfg.ConnectorName)
	if err != nil {
		return nil, err
	}
	split, authType, err := cn.CheckConnection(in, nil)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c, err := s.store.CreateConnection(ctx, store.Connection{
		ID: auth.NewID("conn_" + cn.Name() + "_"), OrganisationID: org, ConnectorConfigID: cfg.ID, ConnectorName: cn.Name(),
		CustomerID: req.GetCustomerId(), AuthType: authType, Status: store.ConnectionActive,
		Settings: split.Public, Credentials: split.Secret, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return nil, configNotFound(err, req.GetConnectorConfigId())
	}
	return &corev1.CreateConnectionResponse{Connection: connectionToProto(c)}, nil
}

// ListConnections implements CoreService: one page, oldest first.
func (s *Service) ListConnections(ctx context.Context, req *corev1.ListConnectionsRequest) (*corev1.ListConnectionsResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	if c := req.GetCustomerId(); c != "" && !customerRe.MatchString(c) {
		return nil, crm.Invalid("customer_id", "is not a valid customer id")
	}
	if c := req.GetConnectorConfigId(); c != "" {
		if err := checkID("connector_config_id", c); err != nil {
			return nil, err
		}
	}
	// A cursor belongs to the filter it was made with.
	filter := url.Values{"customer_id": {req.GetCustomerId()}, "connector_config_id": {req.GetConnectorConfigId()}}
	pr, err := paging.Parse("connections?"+filter.Encode(), req.GetPageSize(), req.GetCursor())
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListConnections(ctx, org, store.ConnectionFilter{CustomerID: req.GetCustomerId(), ConnectorConfigID: req.GetConnectorConfigId(), Page: pr.Page})
	if err != nil {
		return nil, err
	}
	list, next := paging.Finish(pr, list, func(c store.Connection) store.Cursor { return store.Cursor{CreatedAt: c.CreatedAt, ID: c.ID} })
	out := &corev1.ListConnectionsResponse{Items: make([]*corev1.Connection, 0, len(list)), NextCursor: next, HasNextPage: next != ""}
	for _, c := range list {
		out.Items = append(out.Items, connectionToProto(c))
	}
	return out, nil
}

// GetConnection implements CoreService.
func (s *Service) GetConnection(ctx context.Context, req *corev1.GetConnectionRequest) (*corev1.GetConnectionResponse, error) {
	c, err := s.connection(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &corev1.GetConnectionResponse{Connection: connectionToProto(c)}, nil
}

// UpdateConnection implements CoreService: it merges the settings given
// (e.g. a rotated private_integration_token) and re-activates the
// connection.
func (s *Service) UpdateConnection(ctx context.Context, req *corev1.UpdateConnectionRequest) (*corev1.UpdateConnectionResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	patch, err := settingsFromStruct("settings", req.GetSettings(), true)
	if err != nil {
		return nil, err
	}
	if len(patch) == 0 {
		return nil, crm.Invalid("settings", "nothing to update")
	}
	for attempt := 0; ; attempt++ {
		c, err := s.store.GetConnection(ctx, org, req.GetId())
		if err != nil {
			return nil, connectionNotFound(err, req.GetId())
		}
		cn, err := s.connector(c.ConnectorName)
		if err != nil {
			return nil, err
		}
		split, authType, err := cn.CheckConnection(merge(crm.SplitSettings{Public: c.Settings, Secret: c.Credentials}, patch), nil)
		if err != nil {
			return nil, err
		}
		c.Settings, c.Credentials, c.AuthType = split.Public, split.Secret, authType
		c.Status, c.StatusMessage, c.UpdatedAt = store.ConnectionActive, "", s.now()
		out, err := s.store.UpdateConnection(ctx, c)
		s.conns.Forget(org, req.GetId())
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue // changed concurrently: re-read and re-apply
		}
		if err != nil {
			return nil, connectionNotFound(err, req.GetId())
		}
		return &corev1.UpdateConnectionResponse{Connection: connectionToProto(out)}, nil
	}
}

// DeleteConnection implements CoreService.
func (s *Service) DeleteConnection(ctx context.Context, req *corev1.DeleteConnectionRequest) (*corev1.DeleteConnectionResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	err = s.store.DeleteConnection(ctx, org, req.GetId())
	s.conns.Forget(org, req.GetId())
	if err != nil {
		return nil, connectionNotFound(err, req.GetId())
	}
	return &corev1.DeleteConnectionResponse{}, nil
}

// CheckConnection implements CoreService: a provider that refuses the
// credentials gives ok=false with its message; a provider that cannot be
// reached is an error.
func (s *Service) CheckConnection(ctx context.Context, req *corev1.CheckConnectionRequest) (*corev1.CheckConnectionResponse, error) {
	c, err := s.connection(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	p, err := s.conns.OpenConnection(ctx, c)
	if err != nil {
		return nil, err
	}
	err = p.Check(ctx)
	var pe *crm.ProviderError
	switch {
	case err == nil:
		return &corev1.CheckConnectionResponse{Ok: true, Status: c.Status, Message: "credentials accepted by " + c.ConnectorName}, nil
	case errors.As(err, &pe) && pe.Status >= 400 && pe.Status < 500 && pe.Status != 429:
		return &corev1.CheckConnectionResponse{Ok: false, Status: c.Status, Message: fmt.Sprintf("%s refused the credentials (%d): %s", c.ConnectorName, pe.Status, pe.Message)}, nil
	default:
		return nil, err
	}
}

func clamp32(v int64) int32 {
	switch {
	case v > math.MaxInt32:
		return math.MaxInt32
	case v < math.MinInt32:
		return math.MinInt32
	}
	return int32(v)
}
