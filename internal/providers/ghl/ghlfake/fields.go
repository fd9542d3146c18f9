package ghlfake

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// dataTypes are the custom field types CreateCustomFieldsDTO accepts, in the
// spec's order and spelling (MONETORY sic).
var dataTypes = []string{
	"TEXT", "LARGE_TEXT", "NUMERICAL", "PHONE", "MONETORY", "CHECKBOX",
	"SINGLE_OPTIONS", "MULTIPLE_OPTIONS", "DATE", "TEXTBOX_LIST", "FILE_UPLOAD",
	"RADIO", "EMAIL",
}

// optionTypes are the data types whose values come from options.
var optionTypes = map[string]bool{
	"SINGLE_OPTIONS": true, "MULTIPLE_OPTIONS": true, "RADIO": true,
	"CHECKBOX": true, "TEXTBOX_LIST": true,
}

var acceptedFormats = []string{
	".pdf", ".docx", ".doc", ".jpg", ".jpeg", ".png", ".gif", ".csv", ".xlsx", ".xls", "all",
}

// ---------------------------------------------------------------------------
// Views (ICustomField, ICustomFieldFolder)

type fieldView struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Description       string   `json:"description,omitempty"`
	Placeholder       string   `json:"placeholder,omitempty"`
	ShowInForms       bool     `json:"showInForms"`
	Options           []option `json:"options,omitempty"`
	AcceptedFormats   string   `json:"acceptedFormats,omitempty"`
	ObjectKey         string   `json:"objectKey"`
	DataType          string   `json:"dataType"`
	ParentID          string   `json:"parentId"`
	FieldKey          string   `json:"fieldKey"`
	AllowCustomOption *bool    `json:"allowCustomOption,omitempty"`
	MaxFileLimit      *float64 `json:"maxFileLimit,omitempty"`
	LocationID        string   `json:"locationId"`
	DateAdded         string   `json:"dateAdded"`
	DateUpdated       string   `json:"dateUpdated"`
}

func (f *field) view() fieldView {
	return fieldView{
		ID:                f.id,
		Name:              f.displayName,
		Description:       f.description,
		Placeholder:       f.placeholder,
		ShowInForms:       f.showInForms,
		Options:           append([]option(nil), f.options...),
		AcceptedFormats:   f.acceptedFormats,
		ObjectKey:         f.objectKey,
		DataType:          f.dataType,
		ParentID:          f.parentID,
		FieldKey:          f.fieldKey,
		AllowCustomOption: f.allowCustomOption,
		MaxFileLimit:      f.maxFileLimit,
		LocationID:        f.locationID,
		DateAdded:         stamp(f.dateAdded),
		DateUpdated:       stamp(f.update),
	}
}

type folderView struct {
	ID         string `json:"id"`
	ObjectKey  string `json:"objectKey"`
	LocationID string `json:"locationId"`
	Name       string `json:"name"`
}

func (f *folder) view() folderView {
	return folderView{ID: f.id, ObjectKey: f.objectKey, LocationID: f.locationID, Name: f.name}
}

// fieldsObject resolves the object of a custom-fields request: the API
// serves custom objects and business only.
func (c *reqCtx) fieldsObject(key string) (*object, reply, bool) {
	o := c.loc.object(key)
	if o == nil {
		return nil, objectNotFound(key), false
	}
	if !o.supportsRecords() {
		return nil, badRequest("Custom fields of %s are not supported by this API; supported objects are business and custom objects", o.key), false
	}
	return o, reply{}, true
}

// ---------------------------------------------------------------------------
// Handlers

// GET /custom-fields/object-key/{objectKey}?locationId= -> CustomFieldsResponseDTO
func (s *Server) listFields(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	o, rep, ok := c.fieldsObject(c.params["objectKey"])
	if !ok {
		return rep
	}
	fields := make([]fieldView, 0, len(o.fields))
	for _, f := range o.fields {
		fields = append(fields, f.view())
	}
	folders := make([]folderView, 0)
	for _, f := range c.loc.sortedFolders(o.key) {
		folders = append(folders, f.view())
	}
	return replyOK(map[string]any{"fields": fields, "folders": folders})
}

// sortedFolders lists an object's folders, default folder first, then by
// creation.
func (l *location) sortedFolders(objectKey string) []*folder {
	var out []*folder
	for _, f := range l.folders {
		if f.objectKey == objectKey {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b *folder) int {
		if c := a.dateAdded.Compare(b.dateAdded); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	if o := l.objects[objectKey]; o != nil && o.defaultFolder != nil {
		i := slices.Index(out, o.defaultFolder)
		if i > 0 {
			out = append([]*folder{o.defaultFolder}, slices.Delete(out, i, i+1)...)
		}
	}
	return out
}

type optionBody struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	URL   string `json:"url"`
}

type createFieldBody struct {
	LocationID        string        `json:"locationId"`
	Name              string        `json:"name"`
	Description       string        `json:"description"`
	Placeholder       string        `json:"placeholder"`
	ShowInForms       *bool         `json:"showInForms"`
	Options           *[]optionBody `json:"options"`
	AcceptedFormats   string        `json:"acceptedFormats"`
	DataType          string        `json:"dataType"`
	FieldKey          string        `json:"fieldKey"`
	ObjectKey         string        `json:"objectKey"`
	MaxFileLimit      *float64      `json:"maxFileLimit"`
	AllowCustomOption *bool         `json:"allowCustomOption"`
	ParentID          string        `json:"parentId"`
}

// POST /custom-fields/ (CreateCustomFieldsDTO) -> 201 CustomFieldSuccessfulResponseDto
func (s *Server) createField(c *reqCtx) reply {
	var body createFieldBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	var msgs []string
	if strings.TrimSpace(body.Name) == "" {
		msgs = append(msgs, "name should not be empty")
	}
	if !slices.Contains(dataTypes, body.DataType) {
		msgs = append(msgs, "dataType must be one of the following values: "+strings.Join(dataTypes, ", "))
	}
	if strings.TrimSpace(body.FieldKey) == "" {
		msgs = append(msgs, "fieldKey should not be empty")
	}
	if strings.TrimSpace(body.ObjectKey) == "" {
		msgs = append(msgs, "objectKey should not be empty")
	}
	if body.AcceptedFormats != "" && !slices.Contains(acceptedFormats, body.AcceptedFormats) {
		msgs = append(msgs, "acceptedFormats must be one of the following values: "+strings.Join(acceptedFormats, ", "))
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}

	o, rep, ok := c.fieldsObject(body.ObjectKey)
	if !ok {
		return rep
	}
	name := strings.TrimPrefix(body.FieldKey, o.key+".")
	if !keyPart.MatchString(name) {
		return badRequest("Invalid fieldKey %q: expected %s.<field_key> in lowercase letters, digits and underscores", body.FieldKey, o.key)
	}
	fullKey := o.key + "." + name
	if o.fieldByKey(fullKey) != nil {
		return badRequest("Field with key %s already exists", fullKey)
	}
	parent := o.defaultFolder
	if body.ParentID != "" {
		parent = c.loc.folders[body.ParentID]
		if parent == nil || parent.objectKey != o.key {
			return badRequest("Folder %s not found for %s", body.ParentID, o.key)
		}
	}
	var opts []option
	if optionTypes[body.DataType] {
		if body.Options == nil || len(*body.Options) == 0 {
			return badRequest("options are required for fields of type %s", body.DataType)
		}
		var r reply
		if opts, r, ok = buildOptions(*body.Options, nil); !ok {
			return r
		}
	}
	if body.MaxFileLimit != nil && *body.MaxFileLimit < 1 {
		return badRequest("maxFileLimit must be at least 1")
	}

	now := s.now()
	f := &field{
		id:                s.ids.shortID(),
		locationID:        c.loc.id,
		objectKey:         o.key,
		fieldKey:          fullKey,
		displayName:       body.Name,
		description:       body.Description,
		placeholder:       body.Placeholder,
		showInForms:       body.ShowInForms != nil && *body.ShowInForms,
		options:           opts,
		dataType:          body.DataType,
		parentID:          parent.id,
		allowCustomOption: body.AllowCustomOption,
		dateAdded:         now,
		update:            now,
	}
	if body.DataType == "FILE_UPLOAD" {
		f.acceptedFormats = body.AcceptedFormats
		f.maxFileLimit = body.MaxFileLimit
	}
	c.loc.fields[f.id] = f
	o.fields = append(o.fields, f)
	return replyCreated(map[string]any{"field": f.view()})
}

var nonKeyChars = regexp.MustCompile(`[^a-z0-9]+`)

// buildOptions validates options, generating a key from the label when none
// is given. existing, when set, are the options that must all be kept.
func buildOptions(in []optionBody, existing []option) ([]option, reply, bool) {
	out := make([]option, 0, len(in))
	seen := make(map[string]bool)
	for _, ob := range in {
		if strings.TrimSpace(ob.Label) == "" {
			return nil, unprocessable("options.label should not be empty"), false
		}
		key := ob.Key
		if key == "" {
			key = strings.Trim(nonKeyChars.ReplaceAllString(strings.ToLower(ob.Label), "_"), "_")
		}
		if key == "" {
			return nil, badRequest("Option %q needs a key", ob.Label), false
		}
		if seen[key] {
			return nil, badRequest("Duplicate option key %s", key), false
		}
		seen[key] = true
		out = append(out, option{Key: key, Label: ob.Label, URL: ob.URL})
	}
	for _, ex := range existing {
		if !seen[ex.Key] {
			return nil, badRequest("Options cannot be removed: option %s is missing; include all existing options", ex.Key), false
		}
	}
	return out, reply{}, true
}

// GET /custom-fields/{id} -> CustomFieldSuccessfulResponseDto
func (s *Server) getField(c *reqCtx) reply {
	f := c.loc.fields[c.params["id"]]
	if f == nil {
		return fieldNotFound(c.params["id"])
	}
	return replyOK(map[string]any{"field": f.view()})
}

func fieldNotFound(id string) reply { return notFound("Custom field %s not found", id) }

type updateFieldBody struct {
	LocationID      string        `json:"locationId"`
	Name            *string       `json:"name"`
	Description     *string       `json:"description"`
	Placeholder     *string       `json:"placeholder"`
	ShowInForms     *bool         `json:"showInForms"`
	Options         *[]optionBody `json:"options"`
	AcceptedFormats *string       `json:"acceptedFormats"`
	MaxFileLimit    *float64      `json:"maxFileLimit"`
	// Not part of UpdateCustomFieldsDTO: they cannot change.
	DataType  *string `json:"dataType"`
	FieldKey  *string `json:"fieldKey"`
	ObjectKey *string `json:"objectKey"`
}

// PUT /custom-fields/{id} (UpdateCustomFieldsDTO) -> CustomFieldSuccessfulResponseDto
func (s *Server) updateField(c *reqCtx) reply {
	var body updateFieldBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	if body.Name != nil && strings.TrimSpace(*body.Name) == "" {
		return unprocessable("name should not be empty")
	}
	if body.AcceptedFormats != nil && !slices.Contains(acceptedFormats, *body.AcceptedFormats) {
		return unprocessable("acceptedFormats must be one of the following values: " + strings.Join(acceptedFormats, ", "))
	}
	f := c.loc.fields[c.params["id"]]
	if f == nil {
		return fieldNotFound(c.params["id"])
	}
	if body.DataType != nil && *body.DataType != f.dataType {
		return badRequest("dataType of a custom field cannot be changed")
	}
	if body.FieldKey != nil && *body.FieldKey != f.fieldKey && *body.FieldKey != f.name() {
		return badRequest("fieldKey of a custom field cannot be changed")
	}
	if body.ObjectKey != nil && *body.ObjectKey != f.objectKey {
		return badRequest("objectKey of a custom field cannot be changed")
	}
	if f.standard {
		return badRequest("Standard field %s cannot be updated", f.fieldKey)
	}
	var opts []option
	if body.Options != nil {
		if !optionTypes[f.dataType] {
			return badRequest("options are valid only for SINGLE_OPTIONS, MULTIPLE_OPTIONS, RADIO, CHECKBOX and TEXTBOX_LIST fields")
		}
		var (
			rep reply
			ok  bool
		)
		if opts, rep, ok = buildOptions(*body.Options, f.options); !ok {
			return rep
		}
	}
	if body.MaxFileLimit != nil && *body.MaxFileLimit < 1 {
		return badRequest("maxFileLimit must be at least 1")
	}

	if body.Name != nil {
		f.displayName = *body.Name
	}
	if body.Description != nil {
		f.description = *body.Description
	}
	if body.Placeholder != nil {
		f.placeholder = *body.Placeholder
	}
	if body.ShowInForms != nil {
		f.showInForms = *body.ShowInForms
	}
	if body.Options != nil {
		f.options = opts
	}
	if f.dataType == "FILE_UPLOAD" {
		if body.AcceptedFormats != nil {
			f.acceptedFormats = *body.AcceptedFormats
		}
		if body.MaxFileLimit != nil {
			f.maxFileLimit = body.MaxFileLimit
		}
	}
	f.update = s.now()
	return replyOK(map[string]any{"field": f.view()})
}

// deleteResponse is CustomFolderDeleteResponseDto (succeded sic).
type deleteResponse struct {
	Succeded bool   `json:"succeded"`
	ID       string `json:"id"`
	Key      string `json:"key"`
}

// DELETE /custom-fields/{id} -> CustomFolderDeleteResponseDto
func (s *Server) deleteField(c *reqCtx) reply {
	f := c.loc.fields[c.params["id"]]
	if f == nil {
		return fieldNotFound(c.params["id"])
	}
	if f.standard {
		return badRequest("Standard field %s cannot be deleted", f.fieldKey)
	}
	o := c.loc.objects[f.objectKey]
	if o != nil && o.primaryDisplayProp == f.fieldKey {
		return badRequest("Field %s is the primary display property of %s and cannot be deleted", f.fieldKey, o.key)
	}
	delete(c.loc.fields, f.id)
	if o != nil {
		o.removeField(f)
		o.searchableProperties = slices.DeleteFunc(o.searchableProperties, func(k string) bool { return k == f.fieldKey })
		// The values go with the field.
		name := f.name()
		for _, r := range o.records {
			delete(r.properties, name)
			if f.dataType == "TEXTBOX_LIST" {
				for k := range r.properties {
					if strings.HasPrefix(k, name+".") {
						delete(r.properties, k)
					}
				}
			}
		}
	}
	return replyOK(deleteResponse{Succeded: true, ID: f.id, Key: f.fieldKey})
}

// ---------------------------------------------------------------------------
// Folders

type createFolderBody struct {
	ObjectKey  string `json:"objectKey"`
	Name       string `json:"name"`
	LocationID string `json:"locationId"`
}

// POST /custom-fields/folder (CreateFolder) -> 201 ICustomFieldFolder
func (s *Server) createFolder(c *reqCtx) reply {
	var body createFolderBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	var msgs []string
	if strings.TrimSpace(body.ObjectKey) == "" {
		msgs = append(msgs, "objectKey should not be empty")
	}
	if strings.TrimSpace(body.Name) == "" {
		msgs = append(msgs, "name should not be empty")
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}
	o, rep, ok := c.fieldsObject(body.ObjectKey)
	if !ok {
		return rep
	}
	f := s.newFolder(c.loc, o.key, body.Name, s.now())
	return replyCreated(f.view())
}

type updateFolderBody struct {
	Name       string `json:"name"`
	LocationID string `json:"locationId"`
}

// PUT /custom-fields/folder/{id} (UpdateFolder) -> ICustomFieldFolder
func (s *Server) updateFolder(c *reqCtx) reply {
	var body updateFolderBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	if strings.TrimSpace(body.Name) == "" {
		return unprocessable("name should not be empty")
	}
	f := c.loc.folders[c.params["id"]]
	if f == nil {
		return notFound("Folder %s not found", c.params["id"])
	}
	f.name = body.Name
	f.updated = s.now()
	return replyOK(f.view())
}

// DELETE /custom-fields/folder/{id}?locationId= -> CustomFolderDeleteResponseDto
func (s *Server) deleteFolder(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	f := c.loc.folders[c.params["id"]]
	if f == nil {
		return notFound("Folder %s not found", c.params["id"])
	}
	if o := c.loc.objects[f.objectKey]; o != nil {
		if o.defaultFolder == f {
			return badRequest("The default folder of %s cannot be deleted", o.key)
		}
		for _, fl := range o.fields {
			if fl.parentID == f.id {
				return badRequest("Folder %s is not empty: move or delete its fields first", f.id)
			}
		}
	}
	delete(c.loc.folders, f.id)
	return replyOK(deleteResponse{Succeded: true, ID: f.id, Key: f.name})
}

// rawIsNull reports whether a raw JSON value is null.
func rawIsNull(raw json.RawMessage) bool { return strings.TrimSpace(string(raw)) == "null" }
