package ghl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/crmgate/crmgate/internal/crm"
)

// ghlLabels is GHL's CustomObjectLabelDto.
type ghlLabels struct {
	Singular string `json:"singular,omitempty"`
	Plural   string `json:"plural,omitempty"`
}

// ghlObject is the part of GHL's ICustomObjectSchema the adapter reads.
type ghlObject struct {
	ID                     string    `json:"id"`
	Standard               bool      `json:"standard"`
	Key                    string    `json:"key"`
	Labels                 ghlLabels `json:"labels"`
	Description            string    `json:"description"`
	PrimaryDisplayProperty string    `json:"primaryDisplayProperty"`
	DateAdded              string    `json:"dateAdded"`
	DateUpdated            string    `json:"dateUpdated"`
	CreatedAt              string    `json:"createdAt"`
	UpdatedAt              string    `json:"updatedAt"`
	// SearchableProperties is not in the spec's ICustomObjectSchema but is
	// part of GHL's object (see the ObjectSchema webhooks); read if present.
	SearchableProperties []string `json:"searchableProperties"`
}

// objectFromGHL maps one GHL object schema (raw JSON).
func objectFromGHL(raw json.RawMessage) (crm.Object, ghlObject, error) {
	var o ghlObject
	if len(raw) == 0 || string(raw) == "null" {
		return crm.Object{}, o, errors.New("no object in response")
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return crm.Object{}, o, fmt.Errorf("decoding GHL object: %w", err)
	}
	if o.Key == "" {
		return crm.Object{}, o, errors.New("GHL object has no key")
	}
	obj := crm.Object{
		Name:           ObjectName(o.Key),
		Type:           crm.ObjectCustom,
		Labels:         crm.Labels{Singular: o.Labels.Singular, Plural: o.Labels.Plural},
		Description:    o.Description,
		PrimaryFieldID: PropertyID(o.Key, o.PrimaryDisplayProperty),
		CreatedAt:      parseTime(firstNonEmpty(o.DateAdded, o.CreatedAt)),
		UpdatedAt:      parseTime(firstNonEmpty(o.DateUpdated, o.UpdatedAt)),
		Raw:            append(json.RawMessage(nil), raw...),
	}
	if o.Standard {
		obj.Type = crm.ObjectStandard
	}
	return obj, o, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// badAnswer is the error of a 2xx answer the adapter cannot use.
func badAnswer(op string, err error) error {
	return &crm.ProviderError{Provider: providerName, Cause: fmt.Errorf("%s: unexpected answer: %w", op, err)}
}

// ListObjects returns every object of the location: GET /objects/.
func (c *Client) ListObjects(ctx context.Context) ([]crm.Object, error) {
	var resp struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/objects/", c.locQuery(), nil, &resp); err != nil {
		return nil, err
	}
	out := make([]crm.Object, 0, len(resp.Objects))
	for _, raw := range resp.Objects {
		obj, _, err := objectFromGHL(raw)
		if err != nil {
			return nil, badAnswer("list objects", err)
		}
		out = append(out, obj)
	}
	return out, nil
}

// GetSchema returns an object with its fields in one call:
// GET /objects/{key}?locationId=&fetchProperties=true.
func (c *Client) GetSchema(ctx context.Context, objectName string) (crm.Schema, error) {
	key, err := objectKeyArg(objectName)
	if err != nil {
		return crm.Schema{}, err
	}
	q := c.locQuery()
	q.Set("fetchProperties", "true")
	var resp struct {
		Object json.RawMessage   `json:"object"`
		Fields []json.RawMessage `json:"fields"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/objects/"+seg(key), q, nil, &resp); err != nil {
		return crm.Schema{}, err
	}
	obj, o, err := objectFromGHL(resp.Object)
	if err != nil {
		return crm.Schema{}, badAnswer("get object", err)
	}
	s := crm.Schema{Object: obj, Properties: make([]crm.Property, 0, len(resp.Fields))}
	for _, raw := range resp.Fields {
		p, _, err := propertyFromGHL(o.Key, raw)
		if err != nil {
			return crm.Schema{}, badAnswer("get object", err)
		}
		s.Properties = append(s.Properties, p)
	}
	return s, nil
}

// getObject reads an object without its fields: GET /objects/{key}.
func (c *Client) getObject(ctx context.Context, key string) (crm.Object, ghlObject, error) {
	var resp struct {
		Object json.RawMessage `json:"object"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/objects/"+seg(key), c.locQuery(), nil, &resp); err != nil {
		return crm.Object{}, ghlObject{}, err
	}
	obj, o, err := objectFromGHL(resp.Object)
	if err != nil {
		return crm.Object{}, ghlObject{}, badAnswer("get object", err)
	}
	return obj, o, nil
}

// displayProperty is GHL's CustomObjectDisplayPropertyDetails.
type displayProperty struct {
	Key      string `json:"key"`
	Name     string `json:"name"`
	DataType string `json:"dataType"`
}

// createObjectBody is GHL's CreateCustomObjectSchemaDTO.
type createObjectBody struct {
	Labels                        ghlLabels       `json:"labels"`
	Key                           string          `json:"key"`
	Description                   string          `json:"description,omitempty"`
	LocationID                    string          `json:"locationId"`
	PrimaryDisplayPropertyDetails displayProperty `json:"primaryDisplayPropertyDetails"`
}

// CreateObject creates a custom object with its fields: POST /objects/
// (which creates the primary display field too), then POST /custom-fields/
// for every other field, in the object's default folder; it answers the new
// schema (GetSchema). Everything is validated before the first call. GHL
// has no delete-object endpoint: when a field fails after the object was
// created, the object stays, with the fields created so far.
func (c *Client) CreateObject(ctx context.Context, in crm.ObjectInput) (crm.Schema, error) {
	var vs []crm.FieldViolation
	bad := func(field, format string, args ...any) {
		vs = append(vs, crm.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	key := ""
	switch {
	case neutralToStandard[in.Name] != "" || standardToNeutral[in.Name] != "":
		bad("name", "%q is a standard object name", in.Name)
	default:
		if err := checkIdent(in.Name); err != nil {
			bad("name", "%v", err)
		} else {
			key = customPrefix + in.Name
		}
	}
	if in.Labels.Singular == "" {
		bad("labels.singular", "required")
	}
	if in.Labels.Plural == "" {
		bad("labels.plural", "required")
	}
	specs := make([]fieldSpec, len(in.Fields))
	primary := -1
	ids := map[string]bool{}
	for i, f := range in.Fields {
		prefix := fmt.Sprintf("fields[%d].", i)
		spec, fvs := buildField(prefix, key, f)
		vs = append(vs, fvs...)
		specs[i] = spec
		if ids[f.ID] {
			bad(prefix+"id", "duplicate property id %q", f.ID)
		}
		ids[f.ID] = true
		if f.ID == in.PrimaryFieldID && in.PrimaryFieldID != "" {
			primary = i
		}
	}
	switch {
	case in.PrimaryFieldID == "":
		bad("primary_field_id", "required")
	case primary < 0:
		bad("primary_field_id", "%q is not among the fields", in.PrimaryFieldID)
	default:
		p := specs[primary]
		if dt := p.body.DataType; dt != "" && dt != DataText && dt != DataNumerical {
			bad(fmt.Sprintf("fields[%d].type", primary), "GHL's primary display property must be text (TEXT) or number (NUMERICAL), not %s", dt)
		}
		for _, k := range p.extraRaw {
			bad(fmt.Sprintf("fields[%d].raw_details.%s", primary, k), "cannot be set on the primary display property")
		}
	}
	if len(vs) > 0 {
		return crm.Schema{}, &crm.ValidationError{Violations: vs}
	}

	pf := specs[primary].body
	body := createObjectBody{
		Labels:      ghlLabels{Singular: in.Labels.Singular, Plural: in.Labels.Plural},
		Key:         key,
		Description: in.Description,
		LocationID:  c.locationID,
		PrimaryDisplayPropertyDetails: displayProperty{
			Key:      pf.FieldKey,
			Name:     pf.Name,
			DataType: pf.DataType,
		},
	}
	if _, err := c.do(ctx, http.MethodPost, "/objects/", nil, body, nil); err != nil {
		return crm.Schema{}, err
	}

	ps := specs[primary]
	needPrimaryUpdate := pf.Description != "" || ps.hasPlaceholder || ps.hasShowInForms
	if len(in.Fields) > 1 || needPrimaryUpdate {
		fields, folders, err := c.listFields(ctx, key)
		if err != nil {
			return crm.Schema{}, fmt.Errorf("ghl: object %s created, reading its fields: %w", key, err)
		}
		if needPrimaryUpdate {
			pfield, ok := findField(key, fields, in.PrimaryFieldID)
			if !ok {
				return crm.Schema{}, badAnswer("create object", fmt.Errorf("primary field %s missing after create", pf.FieldKey))
			}
			upd := updateFieldBody{LocationID: c.locationID, ShowInForms: pf.ShowInForms}
			if pf.Description != "" {
				upd.Description = &pf.Description
			}
			if ps.hasPlaceholder {
				upd.Placeholder = &pf.Placeholder
			}
			if _, err := c.do(ctx, http.MethodPut, "/custom-fields/"+seg(pfield.ID), nil, upd, nil); err != nil {
				return crm.Schema{}, fmt.Errorf("ghl: object %s created, updating primary field %s: %w", key, in.PrimaryFieldID, err)
			}
		}
		var folder string
		for i := range specs {
			if i == primary {
				continue
			}
			b := specs[i].body
			b.LocationID = c.locationID
			if b.ParentID == "" {
				if folder == "" {
					folder, err = c.defaultFolder(ctx, key, fields, folders, FieldKey(key, in.PrimaryFieldID))
					if err != nil {
						return crm.Schema{}, fmt.Errorf("ghl: object %s created: %w", key, err)
					}
				}
				b.ParentID = folder
			}
			if _, err := c.do(ctx, http.MethodPost, "/custom-fields/", nil, b, nil); err != nil {
				return crm.Schema{}, fmt.Errorf("ghl: object %s created, creating field %s: %w", key, in.Fields[i].ID, err)
			}
		}
	}
	return c.GetSchema(ctx, in.Name)
}

// updateObjectBody is GHL's UpdateCustomObjectSchemaDTO.
type updateObjectBody struct {
	Labels               *ghlLabels `json:"labels,omitempty"`
	Description          *string    `json:"description,omitempty"`
	LocationID           string     `json:"locationId"`
	SearchableProperties []string   `json:"searchableProperties"`
}

// UpdateObject changes an object's labels and description:
// PUT /objects/{key}. GHL requires searchableProperties on every update, so
// the object's current ones are read first (GET /objects/{key}) and sent
// back unchanged ([] if GHL does not report them). An empty part of Labels
// leaves that label unchanged. Standard objects (contact, opportunity,
// account) only have searchable fields to update in GHL: changing their
// labels or description answers crm.ErrUnsupported.
func (c *Client) UpdateObject(ctx context.Context, objectName string, p crm.ObjectPatch) (crm.Object, error) {
	key, err := objectKeyArg(objectName)
	if err != nil {
		return crm.Object{}, err
	}
	if p.Labels != nil && p.Labels.Singular == "" && p.Labels.Plural == "" {
		return crm.Object{}, crm.Invalid("labels", "give singular, plural or both")
	}
	cur, o, err := c.getObject(ctx, key)
	if err != nil {
		return crm.Object{}, err
	}
	if p.Labels == nil && p.Description == nil {
		return cur, nil
	}
	if o.Standard {
		// The spec: standard objects update only their searchable fields.
		return crm.Object{}, fmt.Errorf("ghl: the labels and description of standard object %q cannot be changed: %w", objectName, crm.ErrUnsupported)
	}
	body := updateObjectBody{
		Description:          p.Description,
		LocationID:           c.locationID,
		SearchableProperties: o.SearchableProperties,
	}
	if body.SearchableProperties == nil {
		body.SearchableProperties = []string{}
	}
	if p.Labels != nil {
		body.Labels = &ghlLabels{Singular: p.Labels.Singular, Plural: p.Labels.Plural}
	}
	var resp struct {
		Object json.RawMessage `json:"object"`
	}
	if _, err := c.do(ctx, http.MethodPut, "/objects/"+seg(key), nil, body, &resp); err != nil {
		return crm.Object{}, err
	}
	obj, _, err := objectFromGHL(resp.Object)
	if err != nil {
		return crm.Object{}, badAnswer("update object", err)
	}
	return obj, nil
}

// ghlFolder is a custom-field folder.
type ghlFolder struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// listedField is one field of a listing, raw and decoded.
type listedField struct {
	ghlField
	raw json.RawMessage
}

// listFields reads an object's fields and folders:
// GET /custom-fields/object-key/{objectKey}?locationId=.
func (c *Client) listFields(ctx context.Context, key string) ([]listedField, []ghlFolder, error) {
	var resp struct {
		Fields  []json.RawMessage `json:"fields"`
		Folders []ghlFolder       `json:"folders"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/custom-fields/object-key/"+seg(key), c.locQuery(), nil, &resp); err != nil {
		return nil, nil, err
	}
	out := make([]listedField, 0, len(resp.Fields))
	for _, raw := range resp.Fields {
		var f ghlField
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, nil, badAnswer("list fields", err)
		}
		out = append(out, listedField{ghlField: f, raw: raw})
	}
	return out, resp.Folders, nil
}

// findField finds the field of neutral id among fields of key.
func findField(key string, fields []listedField, id string) (listedField, bool) {
	for _, f := range fields {
		if PropertyID(key, f.FieldKey) == id {
			return f, true
		}
	}
	return listedField{}, false
}

// defaultFolder picks the folder new fields go to, as GHL requires a
// parentId: the folder of preferKey's field (the primary display property
// of a new object), else the object's first folder, else the folder of any
// field; when the object has no folder at all one is created
// (POST /custom-fields/folder).
func (c *Client) defaultFolder(ctx context.Context, key string, fields []listedField, folders []ghlFolder, preferKey string) (string, error) {
	if preferKey != "" {
		for _, f := range fields {
			if f.FieldKey == preferKey && f.ParentID != "" {
				return f.ParentID, nil
			}
		}
	}
	for _, f := range folders {
		if f.ID != "" {
			return f.ID, nil
		}
	}
	for _, f := range fields {
		if f.ParentID != "" {
			return f.ParentID, nil
		}
	}
	body := struct {
		ObjectKey  string `json:"objectKey"`
		Name       string `json:"name"`
		LocationID string `json:"locationId"`
	}{key, "General", c.locationID}
	var resp struct {
		ghlFolder
		Folder *ghlFolder `json:"folder"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/custom-fields/folder", nil, body, &resp); err != nil {
		return "", fmt.Errorf("creating a field folder: %w", err)
	}
	id := resp.ID
	if id == "" && resp.Folder != nil {
		id = resp.Folder.ID
	}
	if id == "" {
		return "", badAnswer("create folder", errors.New("folder has no id"))
	}
	return id, nil
}

// CreateProperty adds a field: POST /custom-fields/ (custom objects and
// account only). The field goes to raw_details.parentId, else the object's
// default folder.
func (c *Client) CreateProperty(ctx context.Context, objectName string, p crm.Property) (crm.Property, error) {
	key, err := fieldsAPIKey(objectName)
	if err != nil {
		return crm.Property{}, err
	}
	spec, vs := buildField("", key, p)
	if len(vs) > 0 {
		return crm.Property{}, &crm.ValidationError{Violations: vs}
	}
	body := spec.body
	body.LocationID = c.locationID
	if body.ParentID == "" {
		fields, folders, err := c.listFields(ctx, key)
		if err != nil {
			return crm.Property{}, err
		}
		if body.ParentID, err = c.defaultFolder(ctx, key, fields, folders, ""); err != nil {
			return crm.Property{}, fmt.Errorf("ghl: %w", err)
		}
	}
	return c.fieldCall(ctx, "create field", http.MethodPost, "/custom-fields/", key, body)
}

// fieldCall sends a create/update field request and maps its {field}.
func (c *Client) fieldCall(ctx context.Context, op, method, path, key string, body any) (crm.Property, error) {
	var resp struct {
		Field json.RawMessage `json:"field"`
	}
	if _, err := c.do(ctx, method, path, nil, body, &resp); err != nil {
		return crm.Property{}, err
	}
	if len(resp.Field) == 0 || string(resp.Field) == "null" {
		return crm.Property{}, badAnswer(op, errors.New("no field in response"))
	}
	prop, _, err := propertyFromGHL(key, resp.Field)
	if err != nil {
		return crm.Property{}, badAnswer(op, err)
	}
	return prop, nil
}

// updateOption is an option in GHL's UpdateCustomFieldsDTO. Its OptionDTO
// schema requires key and label; the key's prose says "Included in Create
// and Response, excluded in Update". The machine-generated schema is
// followed: the key is sent, so existing options keep their keys (and can
// be relabelled) and added options get the value the caller chose.
type updateOption struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

// updateFieldBody is GHL's UpdateCustomFieldsDTO.
type updateFieldBody struct {
	LocationID  string         `json:"locationId"`
	Name        *string        `json:"name,omitempty"`
	Description *string        `json:"description,omitempty"`
	Placeholder *string        `json:"placeholder,omitempty"`
	ShowInForms bool           `json:"showInForms"`
	Options     []updateOption `json:"options,omitempty"`
}

// UpdateProperty changes a field: its GHL id is looked up by field key
// (GET /custom-fields/object-key/{objectKey}), then PUT /custom-fields/{id}.
//
// Options follow GHL's rules: the given list replaces the field's options
// and options cannot be removed (every current option value must still be
// there; labels may change). Option urls (RADIO) are kept.
func (c *Client) UpdateProperty(ctx context.Context, objectName, propertyID string, p crm.PropertyPatch) (crm.Property, error) {
	key, err := fieldsAPIKey(objectName)
	if err != nil {
		return crm.Property{}, err
	}
	var vs []crm.FieldViolation
	bad := func(field, format string, args ...any) {
		vs = append(vs, crm.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	if p.Label != nil && *p.Label == "" {
		bad("label", "cannot be empty")
	}
	if p.IsRequired != nil && *p.IsRequired {
		bad("is_required", "GHL custom fields cannot be required")
	}
	if p.GroupName != nil && *p.GroupName != "" {
		bad("group_name", "GHL groups fields in folders, which cannot be changed here")
	}
	if len(vs) > 0 {
		return crm.Property{}, &crm.ValidationError{Violations: vs}
	}
	fields, _, err := c.listFields(ctx, key)
	if err != nil {
		return crm.Property{}, err
	}
	f, ok := findField(key, fields, propertyID)
	if !ok {
		return crm.Property{}, fmt.Errorf("ghl: property %q of %q: %w", propertyID, objectName, crm.ErrNotFound)
	}
	body := updateFieldBody{
		LocationID:  c.locationID,
		Name:        p.Label,
		Description: p.Description,
		ShowInForms: f.ShowInForms == nil || *f.ShowInForms,
	}
	if p.Options != nil {
		opts, ovs := updateOptions(f.ghlField, *p.Options)
		if len(ovs) > 0 {
			return crm.Property{}, &crm.ValidationError{Violations: ovs}
		}
		body.Options = opts
	}
	if body.Name == nil && body.Description == nil && body.Options == nil {
		prop, _, err := propertyFromGHL(key, f.raw)
		if err != nil {
			return crm.Property{}, badAnswer("list fields", err)
		}
		return prop, nil
	}
	return c.fieldCall(ctx, "update field", http.MethodPut, "/custom-fields/"+seg(f.ID), key, body)
}

// updateOptions checks a new option list against field's current options.
func updateOptions(f ghlField, opts []crm.Option) ([]updateOption, []crm.FieldViolation) {
	var vs []crm.FieldViolation
	bad := func(field, format string, args ...any) {
		vs = append(vs, crm.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	if !optionTypes[f.DataType] {
		bad("options", "GHL dataType %s has no options", f.DataType)
		return nil, vs
	}
	current := map[string]ghlOption{}
	for _, o := range f.Options {
		current[o.Key] = o
	}
	given := map[string]bool{}
	out := make([]updateOption, 0, len(opts))
	for i, o := range opts {
		fp := fmt.Sprintf("options[%d].", i)
		if o.Label == "" {
			bad(fp+"label", "required")
		}
		if o.Description != "" {
			bad(fp+"description", "GHL options have no description")
		}
		if o.Hidden {
			bad(fp+"hidden", "GHL options cannot be hidden")
		}
		switch {
		case o.Value == "":
			bad(fp+"value", "required")
		case given[o.Value]:
			bad(fp+"value", "duplicate option value %q", o.Value)
		}
		given[o.Value] = true
		out = append(out, updateOption{Key: o.Value, Label: o.Label, URL: current[o.Value].URL})
	}
	for _, o := range f.Options {
		if !given[o.Key] {
			bad("options", "GHL cannot remove options: current option %q is missing", o.Key)
		}
	}
	return out, vs
}

// DeleteProperty deletes a field: its GHL id is looked up by field key,
// then DELETE /custom-fields/{id} (answer {succeded, id, key}).
func (c *Client) DeleteProperty(ctx context.Context, objectName, propertyID string) error {
	key, err := fieldsAPIKey(objectName)
	if err != nil {
		return err
	}
	fields, _, err := c.listFields(ctx, key)
	if err != nil {
		return err
	}
	f, ok := findField(key, fields, propertyID)
	if !ok {
		return fmt.Errorf("ghl: property %q of %q: %w", propertyID, objectName, crm.ErrNotFound)
	}
	var resp struct {
		Succeded *bool `json:"succeded"` // sic
	}
	raw, err := c.do(ctx, http.MethodDelete, "/custom-fields/"+seg(f.ID), nil, nil, nil)
	if err != nil {
		return err
	}
	_ = json.Unmarshal(raw, &resp) // the answer is informative only
	if resp.Succeded != nil && !*resp.Succeded {
		return &crm.ProviderError{Provider: providerName, Status: http.StatusOK, Message: "GHL did not delete custom field " + f.FieldKey + " (succeded: false)"}
	}
	return nil
}
