package ghlfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// customObjectPrefix starts every custom object key.
const customObjectPrefix = "custom_objects."

// keyPart is what HighLevel accepts as the last part of an object or field
// key: lowercase, underscore separated.
var keyPart = regexp.MustCompile(`^[a-z0-9_]+$`)

// Object type values of ICustomObjectSchema.type.
const (
	typeUserDefined   = "USER_DEFINED"
	typeSystemDefined = "SYSTEM_DEFINED"
)

// standardObjectDef describes a standard object every location has.
type standardObjectDef struct {
	key, singular, plural, primary string
	fields                         []standardFieldDef
}

type standardFieldDef struct {
	name, label, dataType string
	options               []option
}

var standardObjects = []standardObjectDef{
	{
		key: "contact", singular: "Contact", plural: "Contacts", primary: "first_name",
		fields: []standardFieldDef{
			{name: "first_name", label: "First Name", dataType: "TEXT"},
			{name: "last_name", label: "Last Name", dataType: "TEXT"},
			{name: "email", label: "Email", dataType: "EMAIL"},
			{name: "phone", label: "Phone", dataType: "PHONE"},
			{name: "company_name", label: "Company Name", dataType: "TEXT"},
			{name: "date_of_birth", label: "Date Of Birth", dataType: "DATE"},
		},
	},
	{
		key: "opportunity", singular: "Opportunity", plural: "Opportunities", primary: "name",
		fields: []standardFieldDef{
			{name: "name", label: "Opportunity Name", dataType: "TEXT"},
			{name: "monetary_value", label: "Opportunity Value", dataType: "MONETORY"},
			{name: "status", label: "Status", dataType: "SINGLE_OPTIONS", options: []option{
				{Key: "open", Label: "Open"}, {Key: "won", Label: "Won"},
				{Key: "lost", Label: "Lost"}, {Key: "abandoned", Label: "Abandoned"},
			}},
			{name: "source", label: "Opportunity Source", dataType: "TEXT"},
		},
	},
	{
		key: "business", singular: "Company", plural: "Companies", primary: "name",
		fields: []standardFieldDef{
			{name: "name", label: "Company Name", dataType: "TEXT"},
			{name: "email", label: "Email", dataType: "EMAIL"},
			{name: "phone", label: "Phone", dataType: "PHONE"},
			{name: "website", label: "Website", dataType: "TEXT"},
			{name: "address", label: "Address", dataType: "TEXT"},
			{name: "city", label: "City", dataType: "TEXT"},
			{name: "state", label: "State", dataType: "TEXT"},
			{name: "postal_code", label: "Postal Code", dataType: "TEXT"},
			{name: "country", label: "Country", dataType: "TEXT"},
			{name: "description", label: "Description", dataType: "LARGE_TEXT"},
		},
	},
}

// defaultFolderName names the folder every object's fields start in.
const defaultFolderName = "General Info"

func (s *Server) seedStandardObjects(loc *location) {
	now := s.now()
	for _, def := range standardObjects {
		o := &object{
			id:                 s.ids.objectID(now),
			key:                def.key,
			standard:           true,
			singular:           def.singular,
			plural:             def.plural,
			primaryDisplayProp: def.key + "." + def.primary,
			dateAdded:          now,
			updated:            now,
		}
		o.searchableProperties = []string{o.primaryDisplayProp}
		loc.addObject(o)
		o.defaultFolder = s.newFolder(loc, o.key, defaultFolderName, now)
		for _, fd := range def.fields {
			f := s.newField(loc, o, fd.name, fd.label, fd.dataType, now)
			f.standard = true
			f.options = append([]option(nil), fd.options...)
		}
	}
}

func (s *Server) newFolder(loc *location, objectKey, name string, now time.Time) *folder {
	f := &folder{id: s.ids.shortID(), locationID: loc.id, objectKey: objectKey, name: name, dateAdded: now, updated: now}
	loc.folders[f.id] = f
	return f
}

// newField adds a field with defaults to the object's default folder.
func (s *Server) newField(loc *location, o *object, name, label, dataType string, now time.Time) *field {
	f := &field{
		id:          s.ids.shortID(),
		locationID:  loc.id,
		objectKey:   o.key,
		fieldKey:    o.key + "." + name,
		displayName: label,
		showInForms: true,
		dataType:    dataType,
		parentID:    o.defaultFolder.id,
		dateAdded:   now,
		update:      now,
	}
	loc.fields[f.id] = f
	o.fields = append(o.fields, f)
	return f
}

// ---------------------------------------------------------------------------
// Views (ICustomObjectSchema)

type labelsView struct {
	Singular string `json:"singular"`
	Plural   string `json:"plural"`
}

type objectView struct {
	ID                     string     `json:"id"`
	Standard               bool       `json:"standard"`
	Key                    string     `json:"key"`
	Labels                 labelsView `json:"labels"`
	Description            *string    `json:"description,omitempty"`
	LocationID             string     `json:"locationId"`
	PrimaryDisplayProperty string     `json:"primaryDisplayProperty"`
	DateAdded              string     `json:"dateAdded"`
	DateUpdated            string     `json:"dateUpdated"`
	Type                   string     `json:"type"`
	SearchableProperties   []string   `json:"searchableProperties"`
}

func (o *object) view(locationID string) objectView {
	typ := typeUserDefined
	if o.standard {
		typ = typeSystemDefined
	}
	return objectView{
		ID:                     o.id,
		Standard:               o.standard,
		Key:                    o.key,
		Labels:                 labelsView{o.singular, o.plural},
		Description:            o.description,
		LocationID:             locationID,
		PrimaryDisplayProperty: o.primaryDisplayProp,
		DateAdded:              stamp(o.dateAdded),
		DateUpdated:            stamp(o.updated),
		Type:                   typ,
		SearchableProperties:   append([]string{}, o.searchableProperties...),
	}
}

// ---------------------------------------------------------------------------
// Handlers

// GET /objects/?locationId= -> CustomObjectListResponseDTO
func (s *Server) listObjects(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	views := make([]objectView, 0, len(c.loc.objectOrder))
	for _, o := range c.loc.objectOrder {
		views = append(views, o.view(c.loc.id))
	}
	return replyOK(map[string]any{"objects": views})
}

type createObjectBody struct {
	Labels *struct {
		Singular string `json:"singular"`
		Plural   string `json:"plural"`
	} `json:"labels"`
	Key                           string  `json:"key"`
	Description                   *string `json:"description"`
	LocationID                    string  `json:"locationId"`
	PrimaryDisplayPropertyDetails *struct {
		Key      string `json:"key"`
		Name     string `json:"name"`
		DataType string `json:"dataType"`
	} `json:"primaryDisplayPropertyDetails"`
}

// POST /objects/ (CreateCustomObjectSchemaDTO) -> 201 CustomObjectResponseDTO
func (s *Server) createObject(c *reqCtx) reply {
	var body createObjectBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	var msgs []string
	if body.Labels == nil {
		msgs = append(msgs, "labels should not be empty")
	} else {
		if strings.TrimSpace(body.Labels.Singular) == "" {
			msgs = append(msgs, "labels.singular should not be empty")
		}
		if strings.TrimSpace(body.Labels.Plural) == "" {
			msgs = append(msgs, "labels.plural should not be empty")
		}
	}
	if strings.TrimSpace(body.Key) == "" {
		msgs = append(msgs, "key should not be empty")
	}
	pd := body.PrimaryDisplayPropertyDetails
	if pd == nil {
		msgs = append(msgs, "primaryDisplayPropertyDetails should not be empty")
	} else {
		if strings.TrimSpace(pd.Key) == "" {
			msgs = append(msgs, "primaryDisplayPropertyDetails.key should not be empty")
		}
		if strings.TrimSpace(pd.Name) == "" {
			msgs = append(msgs, "primaryDisplayPropertyDetails.name should not be empty")
		}
		if strings.TrimSpace(pd.DataType) == "" {
			msgs = append(msgs, "primaryDisplayPropertyDetails.dataType should not be empty")
		}
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}

	// "'custom_objects.' would be added as prefix by default".
	key := strings.TrimPrefix(body.Key, customObjectPrefix)
	if !keyPart.MatchString(key) {
		return badRequest("Invalid key %q: the object key must be lowercase letters, digits and underscores", body.Key)
	}
	key = customObjectPrefix + key
	if c.loc.object(key) != nil {
		return badRequest("Custom object with key %s already exists", key)
	}
	primary := strings.TrimPrefix(pd.Key, key+".")
	if !keyPart.MatchString(primary) {
		return badRequest("Invalid primaryDisplayPropertyDetails.key %q: expected %s.<field_key>", pd.Key, key)
	}
	if pd.DataType != "TEXT" && pd.DataType != "NUMERICAL" {
		return badRequest("primaryDisplayPropertyDetails.dataType must be TEXT or NUMERICAL")
	}

	now := s.now()
	o := &object{
		id:                 s.ids.objectID(now),
		key:                key,
		singular:           body.Labels.Singular,
		plural:             body.Labels.Plural,
		description:        body.Description,
		primaryDisplayProp: key + "." + primary,
		dateAdded:          now,
		updated:            now,
	}
	o.searchableProperties = []string{o.primaryDisplayProp}
	c.loc.addObject(o)
	o.defaultFolder = s.newFolder(c.loc, o.key, defaultFolderName, now)
	s.newField(c.loc, o, primary, pd.Name, pd.DataType, now)
	return replyCreated(map[string]any{"object": o.view(c.loc.id)})
}

// GET /objects/{key}?locationId=&fetchProperties= -> CustomObjectByIdResponseDTO
func (s *Server) getObject(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	o := c.loc.object(c.params["key"])
	if o == nil {
		return objectNotFound(c.params["key"])
	}
	resp := map[string]any{"object": o.view(c.loc.id), "cache": false}
	if strings.EqualFold(c.query.Get("fetchProperties"), "true") {
		fields := make([]fieldView, 0, len(o.fields))
		for _, f := range o.fields {
			fields = append(fields, f.view())
		}
		resp["fields"] = fields
	}
	return replyOK(resp)
}

type updateObjectBody struct {
	Labels *struct {
		Singular *string `json:"singular"`
		Plural   *string `json:"plural"`
	} `json:"labels"`
	Description          json.RawMessage `json:"description"`
	LocationID           string          `json:"locationId"`
	SearchableProperties *[]string       `json:"searchableProperties"`
}

// PUT /objects/{key} (UpdateCustomObjectSchemaDTO) -> CustomObjectResponseDTO
func (s *Server) updateObject(c *reqCtx) reply {
	var body updateObjectBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	o := c.loc.object(c.params["key"])
	if o == nil {
		return objectNotFound(c.params["key"])
	}
	var desc *string
	descSet := len(body.Description) > 0
	if descSet && string(body.Description) != "null" {
		var d string
		if err := json.Unmarshal(body.Description, &d); err != nil {
			return unprocessable("description must be a string")
		}
		desc = &d
	}
	if o.standard && (body.Labels != nil || descSet) {
		return badRequest("Only the searchable properties of the standard object %s can be updated", o.key)
	}
	if body.Labels != nil {
		if (body.Labels.Singular != nil && strings.TrimSpace(*body.Labels.Singular) == "") ||
			(body.Labels.Plural != nil && strings.TrimSpace(*body.Labels.Plural) == "") {
			return unprocessable("labels should not be empty")
		}
	}
	var searchable []string
	if body.SearchableProperties != nil {
		for _, k := range *body.SearchableProperties {
			f := o.fieldByKey(k)
			if f == nil {
				return badRequest("Invalid searchable property %s: no such field on %s", k, o.key)
			}
			if f.dataType == "FILE_UPLOAD" {
				return badRequest("Field %s of type FILE_UPLOAD cannot be searchable", k)
			}
			searchable = append(searchable, f.fieldKey)
		}
	}

	if body.Labels != nil {
		if body.Labels.Singular != nil {
			o.singular = *body.Labels.Singular
		}
		if body.Labels.Plural != nil {
			o.plural = *body.Labels.Plural
		}
	}
	if descSet {
		o.description = desc
	}
	if body.SearchableProperties != nil {
		o.searchableProperties = searchable
	}
	o.updated = s.now()
	return replyOK(map[string]any{"object": o.view(c.loc.id)})
}

// notFound answers 404 in NestJS's NotFoundException shape.
func notFound(format string, args ...any) reply {
	return reply{http.StatusNotFound, errorBody{http.StatusNotFound, fmt.Sprintf(format, args...), "Not Found"}}
}

func objectNotFound(key string) reply { return notFound("Object schema %s not found", key) }

// recordsObject resolves the schemaKey of a records route.
func (c *reqCtx) recordsObject() (*object, reply, bool) {
	key := c.params["schemaKey"]
	o := c.loc.object(key)
	if o == nil {
		return nil, objectNotFound(key), false
	}
	if !o.supportsRecords() {
		return nil, badRequest("Records of the standard object %s are not supported by this API; supported objects are business and custom objects", o.key), false
	}
	return o, reply{}, true
}
