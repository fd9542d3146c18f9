package crm

import (
	"context"
	"encoding/json"
	"time"
)

// EntityOpportunity names the opportunity (deal) entity, as in the REST
// paths and as an object name in the metadata API.
const EntityOpportunity = "opportunity"

// Opportunity statuses.
const (
	StatusOpen      = "open"
	StatusWon       = "won"
	StatusLost      = "lost"
	StatusAbandoned = "abandoned"
)

// Money is an amount in a currency. Amount is a decimal string (an
// optional '-', digits, optionally '.' and digits), never a float.
// CurrencyCode is ISO 4217, "" when the provider keeps none per record.
type Money struct {
	CurrencyCode string
	Amount       string
}

// Opportunity is a deal. Amount is nil when the provider keeps none;
// CloseDate is "YYYY-MM-DD" or "". CustomFields are keyed by neutral
// property id with JSON-shaped values (as Record properties).
type Opportunity struct {
	ID           string
	Name         string
	Amount       *Money
	Status       string
	PipelineID   string
	StageID      string
	CloseDate    string
	OwnerID      string
	ContactID    string
	AccountID    string
	CustomFields map[string]any
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Raw is the provider's own JSON of the opportunity.
	Raw json.RawMessage
}

// Opportunity field names, as the API names them (the proto's field
// names): update masks and field selections use them.
const (
	OpportunityName         = "name"
	OpportunityAmount       = "amount"
	OpportunityStatus       = "status"
	OpportunityPipelineID   = "pipeline_id"
	OpportunityStageID      = "stage_id"
	OpportunityCloseDate    = "close_date"
	OpportunityOwnerID      = "owner_id"
	OpportunityContactID    = "contact_id"
	OpportunityAccountID    = "account_id"
	OpportunityCustomFields = "custom_fields"
)

// OpportunityWritable lists the fields a write may set, in documentation
// order.
var OpportunityWritable = []string{
	OpportunityName, OpportunityAmount, OpportunityStatus, OpportunityPipelineID, OpportunityStageID,
	OpportunityCloseDate, OpportunityOwnerID, OpportunityContactID, OpportunityAccountID, OpportunityCustomFields,
}

// SetFields names the writable fields of o that are set (non-empty).
func (o Opportunity) SetFields() Fields {
	set := Fields{}
	for f, isSet := range map[string]bool{
		OpportunityName: o.Name != "", OpportunityAmount: o.Amount != nil, OpportunityStatus: o.Status != "",
		OpportunityPipelineID: o.PipelineID != "", OpportunityStageID: o.StageID != "", OpportunityCloseDate: o.CloseDate != "",
		OpportunityOwnerID: o.OwnerID != "", OpportunityContactID: o.ContactID != "", OpportunityAccountID: o.AccountID != "",
		OpportunityCustomFields: len(o.CustomFields) > 0,
	} {
		if isSet {
			set[f] = true
		}
	}
	return set
}

// Stage is one stage of a pipeline; Position is its 0-based place.
type Stage struct {
	ID       string
	Name     string
	Position int
}

// Pipeline is an ordered list of stages.
type Pipeline struct {
	ID     string
	Name   string
	Stages []Stage
}

// HasStage reports whether the pipeline has the stage id.
func (p Pipeline) HasStage(id string) bool {
	for _, s := range p.Stages {
		if s.ID == id {
			return true
		}
	}
	return false
}

// OpportunityPage is one page of opportunities; NextCursor is "" on the
// last page.
type OpportunityPage struct {
	Items      []Opportunity
	NextCursor string
	// Total is the provider's count of all matches, -1 when unknown.
	Total int64
}

// PipelineReader lists the opportunity pipelines, stages in order.
type PipelineReader interface {
	ListPipelines(ctx context.Context) ([]Pipeline, error)
}

// OpportunityReader reads opportunities. sc is the opportunity object's
// schema. A provider that cannot filter on q.UpdatedAfter answers an error
// satisfying errors.Is(err, ErrUnsupported).
type OpportunityReader interface {
	// GetOpportunity returns one opportunity, Raw always set.
	GetOpportunity(ctx context.Context, sc Schema, id string) (Opportunity, error)
	// ListOpportunities pages through every opportunity, each exactly
	// once, in a stable order.
	ListOpportunities(ctx context.Context, sc Schema, q EntityQuery) (OpportunityPage, error)
}

// OpportunityWriter changes opportunities. sc is the opportunity object's
// schema; the gateway has checked o.CustomFields against it, the amount's
// syntax, the status, and the pipeline and stage against the pipelines.
type OpportunityWriter interface {
	CreateOpportunity(ctx context.Context, sc Schema, o Opportunity) (Opportunity, error)
	// UpdateOpportunity changes the fields named in set
	// (OpportunityWritable names); for custom_fields only the keys of
	// o.CustomFields change.
	UpdateOpportunity(ctx context.Context, sc Schema, id string, o Opportunity, set Fields) (Opportunity, error)
	DeleteOpportunity(ctx context.Context, id string) error
}

// OpportunityCounter counts opportunities changed after updatedAfter (all
// when zero); a provider that cannot filter on it answers an error
// satisfying errors.Is(err, ErrUnsupported).
type OpportunityCounter interface {
	CountOpportunities(ctx context.Context, sc Schema, updatedAfter time.Time) (int64, error)
}
