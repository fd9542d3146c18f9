package crm

import "context"

// Provider is one open connection to one provider account. Every adapter
// implements it; the capabilities below are optional and found by type
// assertion. A method an adapter cannot serve answers ErrUnsupported.
//
// Errors: ErrNotFound (or a *ProviderError whose Is(ErrNotFound) holds) for
// an unknown object, property, record or relation; *ProviderError for any
// other answer of the provider; context errors as they are.
type Provider interface {
	// Check verifies the connection's credentials against the provider.
	Check(ctx context.Context) error
}

// SchemaReader reads object schemas.
type SchemaReader interface {
	// ListObjects returns every object of the account, standard and custom.
	ListObjects(ctx context.Context) ([]Object, error)
	// GetSchema returns an object with its properties.
	GetSchema(ctx context.Context, objectName string) (Schema, error)
}

// SchemaRefresher is an optional capability of caching decorators:
// RefreshSchema makes sure an object's schema is not a stale cached copy
// (changed moments ago through another replica whose invalidation has not
// arrived yet) and reports whether it found and replaced one. It must be
// cheap when the cache is current (no provider call), so callers may ask
// whenever a cached schema disagrees with a request.
type SchemaRefresher interface {
	RefreshSchema(ctx context.Context, objectName string) (Schema, bool, error)
}

// SchemaWriter changes object schemas.
type SchemaWriter interface {
	CreateObject(ctx context.Context, in ObjectInput) (Schema, error)
	UpdateObject(ctx context.Context, objectName string, p ObjectPatch) (Object, error)
	CreateProperty(ctx context.Context, objectName string, p Property) (Property, error)
	UpdateProperty(ctx context.Context, objectName, propertyID string, p PropertyPatch) (Property, error)
	DeleteProperty(ctx context.Context, objectName, propertyID string) error
}

// RecordReader reads records.
type RecordReader interface {
	GetRecord(ctx context.Context, objectName, id string) (Record, error)
	// ListRecords pages through every record of an object, each exactly
	// once, in a stable order.
	ListRecords(ctx context.Context, objectName string, q RecordQuery) (RecordPage, error)
	// SearchRecords pages through the records matching q.Query.
	SearchRecords(ctx context.Context, objectName string, q RecordQuery) (RecordPage, error)
}

// RecordWriter changes records.
type RecordWriter interface {
	CreateRecord(ctx context.Context, objectName string, in RecordInput) (Record, error)
	UpdateRecord(ctx context.Context, objectName, id string, in RecordInput) (Record, error)
	DeleteRecord(ctx context.Context, objectName, id string) error
}

// AssociationManager reads and writes association schemas and relations.
type AssociationManager interface {
	ListAssociationSchemas(ctx context.Context) ([]AssociationSchema, error)
	CreateAssociationSchema(ctx context.Context, in AssociationInput) (AssociationSchema, []string, error)
	// CreateRelation links two records; SourceRecordID is a record of the
	// association's source object, TargetRecordID one of its target object.
	CreateRelation(ctx context.Context, r Relation) (Relation, error)
	ListRelations(ctx context.Context, recordID string, cursor string, pageSize int) (RelationPage, error)
	DeleteRelation(ctx context.Context, relationID string) error
}

// ConnectionParams is what a Connector needs to open a Provider: the
// connector config's settings and secrets and the connection's settings and
// credentials, all decrypted.
type ConnectionParams struct {
	// OrganisationID owns the connection (OAuth token refresh reads and
	// writes the connection row through it).
	OrganisationID string
	ConnectionID   string
	// ConnectorConfigID names the app registration; rate-limit budgets are
	// per (connector config, provider account).
	ConnectorConfigID string
	ConfigSettings    map[string]string
	ConfigSecrets     map[string]string
	Settings          map[string]string
	Credentials       map[string]string
}

// SplitSettings is a validated settings map split into what may be shown
// (Public) and what is encrypted and never echoed (Secret).
type SplitSettings struct {
	Public map[string]string
	Secret map[string]string
}

// Connector is one kind of provider (GHL, HubSpot ...): it validates
// connector-config and connection settings and opens Providers.
// Connectors are registered explicitly by name in cmd/gateway.
type Connector interface {
	// Name is the connector's registry key, e.g. "ghl".
	Name() string
	// CheckConfig validates a connector config, filling defaults. prev is the
	// stored config on update (nil on create): keys absent from in keep
	// their previous values.
	CheckConfig(in map[string]string, prev *SplitSettings) (SplitSettings, error)
	// CheckConnection validates connection settings the same way and
	// reports the connection's auth type ("pit", "oauth").
	CheckConnection(in map[string]string, prev *SplitSettings) (SplitSettings, string, error)
	// Open returns a Provider for one connection. It does no I/O.
	Open(p ConnectionParams) (Provider, error)
}

// RateLimited is an optional Connector capability: connections whose calls
// spend a provider rate-limit budget name it (e.g. GHL: per app and
// location), so the budget can be paced and shown.
type RateLimited interface {
	RateLimitKey(p ConnectionParams) string
}
