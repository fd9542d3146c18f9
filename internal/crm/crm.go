// Package crm holds crmgate's provider-neutral CRM domain: the small Go
// types adapters work on (objects, properties, records, associations), the
// provider interfaces every adapter implements, and the errors they share.
// Protobuf types never appear here: internal/unified converts at the edge.
package crm

import (
	"encoding/json"
	"fmt"
	"time"
)

// ObjectType tells standard objects (contact, opportunity, account) from
// custom ones.
type ObjectType string

// Object types.
const (
	ObjectStandard ObjectType = "standard"
	ObjectCustom   ObjectType = "custom"
)

// Labels are an object's display names.
type Labels struct {
	Singular string
	Plural   string
}

// Object is an object schema (without its properties).
type Object struct {
	// Name is the neutral key: "pet" for GHL "custom_objects.pet",
	// "account" for GHL "business".
	Name           string
	Type           ObjectType
	Labels         Labels
	Description    string
	PrimaryFieldID string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Raw is the provider's own JSON for the object.
	Raw json.RawMessage
}

// PropertyType is a neutral property (field) type.
type PropertyType string

// Neutral property types. See docs/type-mapping.md for each provider's mapping.
const (
	TypeText          PropertyType = "text"
	TypeTextarea      PropertyType = "textarea"
	TypeNumber        PropertyType = "number"
	TypeCurrency      PropertyType = "currency"
	TypePhone         PropertyType = "phone"
	TypeEmail         PropertyType = "email"
	TypeURL           PropertyType = "url"
	TypeBoolean       PropertyType = "boolean"
	TypePicklist      PropertyType = "picklist"
	TypeMultipicklist PropertyType = "multipicklist"
	TypeDate          PropertyType = "date"
	TypeDatetime      PropertyType = "datetime"
	TypeFile          PropertyType = "file"
	TypeOther         PropertyType = "other"
)

// PropertyTypes lists every neutral type, in documentation order.
var PropertyTypes = []PropertyType{
	TypeText, TypeTextarea, TypeNumber, TypeCurrency, TypePhone, TypeEmail, TypeURL,
	TypeBoolean, TypePicklist, TypeMultipicklist, TypeDate, TypeDatetime, TypeFile, TypeOther,
}

// Valid reports whether t is a known neutral type.
func (t PropertyType) Valid() bool {
	for _, k := range PropertyTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Option is one choice of a picklist or multipicklist property.
type Option struct {
	Label       string
	Value       string
	Description string
	Hidden      bool
}

// Property is one field of an object.
type Property struct {
	// ID is the neutral key: "name" for GHL "custom_objects.pet.name".
	ID          string
	Label       string
	Description string
	Type        PropertyType
	IsRequired  bool
	Options     []Option
	Precision   int32
	Scale       int32
	GroupName   string
	// RawDetails carries provider specifics, e.g. GHL's own dataType
	// ("ghl_data_type") when the neutral type has no exact twin. Values
	// given on create round-trip unchanged.
	RawDetails map[string]any
}

// Schema is an object with its properties.
type Schema struct {
	Object     Object
	Properties []Property
}

// Property returns the property with this id.
func (s Schema) Property(id string) (Property, bool) {
	for _, p := range s.Properties {
		if p.ID == id {
			return p, true
		}
	}
	return Property{}, false
}

// ObjectInput creates an object with its first properties.
type ObjectInput struct {
	Name           string
	Description    string
	Labels         Labels
	PrimaryFieldID string
	Fields         []Property
}

// ObjectPatch changes an object; nil fields stay unchanged.
type ObjectPatch struct {
	Labels      *Labels
	Description *string
}

// PropertyPatch changes a property; nil fields stay unchanged. A property's
// id and type cannot change.
type PropertyPatch struct {
	Label       *string
	Description *string
	Options     *[]Option
	IsRequired  *bool
	GroupName   *string
}

// Record is one record of an object.
type Record struct {
	ID         string
	ObjectName string
	// Properties are keyed by neutral property id, typed values:
	// numbers as float64, multi-options as []any of strings, currency as
	// map{"currency","value"}.
	//
	// An adapter sets Properties or PropertiesJSON, never both; readers
	// use PropertyMap.
	Properties map[string]any
	// PropertiesJSON holds the same values as one JSON object, for an
	// adapter whose provider already answers in the neutral shape: it
	// hands the provider's bytes through and the gateway builds its
	// answer from them, with no map of boxed values in between (for a
	// page of 100 records, ~3,000 allocations fewer). It must be a JSON
	// object that encoding/json decodes into a map[string]any.
	PropertiesJSON []byte
	OwnerIDs       []string
	FollowerIDs    []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Raw            json.RawMessage
}

// PropertyMap returns the record's properties as a map, decoding
// PropertiesJSON when that is how the adapter delivered them (an empty
// map when there are none).
func (r Record) PropertyMap() (map[string]any, error) {
	if len(r.PropertiesJSON) == 0 {
		if r.Properties == nil {
			return map[string]any{}, nil
		}
		return r.Properties, nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.PropertiesJSON, &m); err != nil {
		return nil, fmt.Errorf("record %q: properties: %w", r.ID, err)
	}
	if m == nil { // "null"
		return nil, fmt.Errorf("record %q: properties are null, not an object", r.ID)
	}
	return m, nil
}

// RecordInput creates or updates a record. On update only the named
// properties change; nil OwnerIDs/FollowerIDs stay unchanged.
type RecordInput struct {
	Properties  map[string]any
	OwnerIDs    []string
	FollowerIDs []string
}

// RecordQuery lists or searches records. Cursor is the provider's own
// cursor from a previous page ("" for the first page).
type RecordQuery struct {
	Query    string
	Cursor   string
	PageSize int
	// IncludeRaw asks for each record's Raw (the provider's own JSON).
	// Without it a provider may leave Raw empty: keeping it costs a copy
	// and, for a page, a second decoding pass.
	IncludeRaw bool
}

// RecordPage is one page of records. NextCursor is "" on the last page.
type RecordPage struct {
	Items      []Record
	NextCursor string
	Total      int64 // provider's total, -1 when unknown
}

// AssociationSchema links two objects.
type AssociationSchema struct {
	ID           string
	Key          string
	SourceObject string
	TargetObject string
	SourceLabel  string
	TargetLabel  string
	Raw          json.RawMessage
}

// AssociationInput creates an association schema.
type AssociationInput struct {
	SourceObject string
	TargetObject string
	Key          string
	SourceLabel  string
	TargetLabel  string
}

// Relation links two records through an association schema.
type Relation struct {
	ID             string
	AssociationID  string
	SourceRecordID string
	TargetRecordID string
}

// RelationPage is one page of relations.
type RelationPage struct {
	Items      []Relation
	NextCursor string
}
