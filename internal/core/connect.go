package core

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/oauth"
	"github.com/crmgate/crmgate/internal/store"
)

// ConnectFlow is what the OAuth RPCs need (internal/oauth.Flow implements
// it).
type ConnectFlow interface {
	Start(ctx context.Context, req oauth.StartRequest) (oauth.Started, error)
	MintLocation(ctx context.Context, orgID, agencyID, locationID, customerID string) (store.Connection, error)
}

// ConnectService is the CoreService with the OAuth connect RPCs
// (CreateAuthorizationUrl, CreateLocationConnection) served by a
// ConnectFlow; every other RPC is the Service's.
type ConnectService struct {
	*Service
	flow ConnectFlow
}

var _ corev1.CoreServiceServer = (*ConnectService)(nil)

// WithConnect returns s with the OAuth connect RPCs enabled.
func WithConnect(s *Service, flow ConnectFlow) *ConnectService {
	return &ConnectService{Service: s, flow: flow}
}

const maxScopes = 100

// CreateAuthorizationUrl implements CoreService: it answers the provider's
// authorization URL (and the gateway's connect page) for a customer.
func (s *ConnectService) CreateAuthorizationUrl(ctx context.Context, req *corev1.CreateAuthorizationUrlRequest) (*corev1.CreateAuthorizationUrlResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.connector(req.GetConnectorName()); err != nil {
		return nil, err
	}
	if err := checkID("connector_config_id", req.GetConnectorConfigId()); err != nil {
		return nil, err
	}
	if !customerRe.MatchString(req.GetCustomerId()) {
		return nil, crm.Invalid("customer_id", "is required: letters, digits and _ . : @ -, at most 128")
	}
	if len(req.GetScopes()) > maxScopes {
		return nil, crm.Invalid("scopes", "at most %d", maxScopes)
	}
	started, err := s.flow.Start(ctx, oauth.StartRequest{
		OrganisationID:    org,
		ConnectorName:     req.GetConnectorName(),
		ConnectorConfigID: req.GetConnectorConfigId(),
		CustomerID:        req.GetCustomerId(),
		ReturnURL:         req.GetReturnUrl(),
		Scopes:            req.GetScopes(),
	})
	if err != nil {
		return nil, err
	}
	return &corev1.CreateAuthorizationUrlResponse{
		AuthorizationUrl: started.AuthorizationURL,
		ExpiresAt:        timestamppb.New(started.ExpiresAt),
		ConnectUrl:       started.ConnectURL,
	}, nil
}

// CreateLocationConnection implements CoreService: it mints a location
// connection from an agency (Company) OAuth connection.
func (s *ConnectService) CreateLocationConnection(ctx context.Context, req *corev1.CreateLocationConnectionRequest) (*corev1.CreateLocationConnectionResponse, error) {
	org, err := orgID(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkID("id", req.GetId()); err != nil {
		return nil, err
	}
	if err := checkID("location_id", req.GetLocationId()); err != nil {
		return nil, err
	}
	if c := req.GetCustomerId(); c != "" && !customerRe.MatchString(c) {
		return nil, crm.Invalid("customer_id", "letters, digits and _ . : @ -, at most 128")
	}
	c, err := s.flow.MintLocation(ctx, org, req.GetId(), req.GetLocationId(), req.GetCustomerId())
	if err != nil {
		return nil, err
	}
	return &corev1.CreateLocationConnectionResponse{Connection: connectionToProto(c)}, nil
}
