package ghl

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unique"

	"github.com/crmgate/crmgate/internal/crm"
)

// GHL custom field dataType values (GHL's spellings, including MONETORY).
const (
	DataText            = "TEXT"
	DataLargeText       = "LARGE_TEXT"
	DataNumerical       = "NUMERICAL"
	DataPhone           = "PHONE"
	DataMonetory        = "MONETORY"
	DataCheckbox        = "CHECKBOX"
	DataSingleOptions   = "SINGLE_OPTIONS"
	DataMultipleOptions = "MULTIPLE_OPTIONS"
	DataDate            = "DATE"
	DataTextboxList     = "TEXTBOX_LIST"
	DataFileUpload      = "FILE_UPLOAD"
	DataRadio           = "RADIO"
	DataEmail           = "EMAIL"
)

// Keys of crm.Property.RawDetails this adapter reads and writes.
const (
	// RawDataType is GHL's own dataType of the field.
	RawDataType = "ghl_data_type"
	// RawOptionURLs maps option values to their GHL option url (RADIO).
	RawOptionURLs = "option_urls"
	// GHL's own field attributes, under GHL's names.
	RawID                = "id"
	RawPlaceholder       = "placeholder"
	RawShowInForms       = "showInForms"
	RawParentID          = "parentId"
	RawAcceptedFormats   = "acceptedFormats"
	RawMaxFileLimit      = "maxFileLimit"
	RawAllowCustomOption = "allowCustomOption"
)

// ghlToNeutral maps every GHL dataType to its neutral type. Types missing
// here (future GHL types) read as crm.TypeOther.
var ghlToNeutral = map[string]crm.PropertyType{
	DataText:            crm.TypeText,
	DataLargeText:       crm.TypeTextarea,
	DataNumerical:       crm.TypeNumber,
	DataPhone:           crm.TypePhone,
	DataMonetory:        crm.TypeCurrency,
	DataSingleOptions:   crm.TypePicklist,
	DataMultipleOptions: crm.TypeMultipicklist,
	DataDate:            crm.TypeDate,
	DataFileUpload:      crm.TypeFile,
	DataEmail:           crm.TypeEmail,
	DataCheckbox:        crm.TypeMultipicklist,
	DataRadio:           crm.TypePicklist,
	DataTextboxList:     crm.TypeOther,
}

// neutralToGHL is the default GHL dataType of each neutral type that has a
// twin. url, datetime and boolean have none; other needs
// raw_details.ghl_data_type.
var neutralToGHL = map[crm.PropertyType]string{
	crm.TypeText:          DataText,
	crm.TypeTextarea:      DataLargeText,
	crm.TypeNumber:        DataNumerical,
	crm.TypePhone:         DataPhone,
	crm.TypeCurrency:      DataMonetory,
	crm.TypePicklist:      DataSingleOptions,
	crm.TypeMultipicklist: DataMultipleOptions,
	crm.TypeDate:          DataDate,
	crm.TypeFile:          DataFileUpload,
	crm.TypeEmail:         DataEmail,
}

// optionTypes are the GHL dataTypes that carry options.
var optionTypes = map[string]bool{
	DataSingleOptions: true, DataMultipleOptions: true, DataRadio: true,
	DataCheckbox: true, DataTextboxList: true,
}

// NeutralType maps a GHL dataType to the neutral type; unknown types are
// crm.TypeOther.
func NeutralType(dataType string) crm.PropertyType {
	if t, ok := ghlToNeutral[dataType]; ok {
		return t
	}
	return crm.TypeOther
}

// supportedTypesText lists the neutral types GHL can store, for messages.
func supportedTypesText() string {
	var names []string
	for _, t := range crm.PropertyTypes {
		if _, ok := neutralToGHL[t]; ok {
			names = append(names, string(t))
		}
	}
	return strings.Join(names, ", ") + ", and other (with raw_details." + RawDataType + " = " + DataTextboxList + ")"
}

// DataType picks the GHL dataType for a neutral type, honouring
// raw_details.ghl_data_type (as read from GHL) so that CHECKBOX, RADIO and
// TEXTBOX_LIST fields round-trip. It fails with a *crm.ValidationError on
// field (e.g. "type") when GHL cannot store the type.
func DataType(field string, t crm.PropertyType, raw map[string]any) (string, error) {
	if !t.Valid() {
		return "", crm.Invalid(field, "unknown property type %q", t)
	}
	if v, ok := raw[RawDataType]; ok {
		dt, isStr := v.(string)
		if !isStr || dt == "" {
			return "", crm.Invalid("raw_details."+RawDataType, "must be a GHL dataType string")
		}
		nt, known := ghlToNeutral[dt]
		if !known {
			return "", crm.Invalid("raw_details."+RawDataType, "unknown GHL dataType %q", dt)
		}
		if nt != t {
			return "", crm.Invalid("raw_details."+RawDataType, "GHL dataType %s is neutral type %q, not %q", dt, nt, t)
		}
		return dt, nil
	}
	if dt, ok := neutralToGHL[t]; ok {
		return dt, nil
	}
	if t == crm.TypeOther {
		return "", crm.Invalid("raw_details."+RawDataType, "type %q needs raw_details.%s naming the GHL dataType (%s)", t, RawDataType, DataTextboxList)
	}
	return "", crm.Invalid(field, "GHL has no %q field type; GHL supports %s", t, supportedTypesText())
}

// ghlOption is one option of a GHL field.
type ghlOption struct {
	Key   string `json:"key,omitempty"`
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

// ghlField is the part of GHL's ICustomField the adapter reads.
type ghlField struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	ObjectKey   string      `json:"objectKey"`
	DataType    string      `json:"dataType"`
	ParentID    string      `json:"parentId"`
	FieldKey    string      `json:"fieldKey"`
	ShowInForms *bool       `json:"showInForms"`
	Options     []ghlOption `json:"options"`
}

// rawFieldKeys are the ICustomField attributes copied into RawDetails.
var rawFieldKeys = []string{RawID, RawPlaceholder, RawShowInForms, RawParentID, RawAcceptedFormats, RawMaxFileLimit, RawAllowCustomOption}

// fieldAnswer is how a field is decoded from GHL's answer: ghlField and,
// in the same pass, the attributes copied into RawDetails (rawFieldKeys).
// id and parentId are pointers so that an empty string is kept apart from
// an absent or null one; the others are kept as JSON and decoded only
// when present.
type fieldAnswer struct {
	ghlField
	ID                *string         `json:"id"`
	ParentID          *string         `json:"parentId"`
	Placeholder       json.RawMessage `json:"placeholder"`
	AcceptedFormats   json.RawMessage `json:"acceptedFormats"`
	MaxFileLimit      json.RawMessage `json:"maxFileLimit"`
	AllowCustomOption json.RawMessage `json:"allowCustomOption"`
}

// boxedDataTypes holds GHL's dataTypes as RawDetails values: a known type
// is stored as this shared value instead of a copy per property.
var boxedDataTypes = func() map[string]any {
	m := make(map[string]any, len(ghlToNeutral))
	for dt := range ghlToNeutral {
		m[dt] = dt
	}
	return m
}()

// propertyFromGHL maps one GHL field (raw JSON) of objectKey. The JSON is
// decoded once. Decoded schemas stay in the gateway's hot set while they
// are used, so strings likely to repeat (property ids, labels and option
// values across locations set up alike; the folder id across an object's
// fields) are interned; GHL's dataType is a shared constant.
func propertyFromGHL(objectKey string, raw json.RawMessage) (crm.Property, ghlField, error) {
	var a fieldAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return crm.Property{}, a.ghlField, fmt.Errorf("decoding GHL field: %w", err)
	}
	f := a.ghlField
	if a.ID != nil {
		f.ID = *a.ID
	}
	if a.ParentID != nil {
		f.ParentID = *a.ParentID
	}
	p := crm.Property{
		ID:          intern(PropertyID(objectKey, f.FieldKey)),
		Label:       intern(f.Name),
		Description: f.Description,
		Type:        NeutralType(f.DataType),
		RawDetails:  make(map[string]any, 4),
	}
	if f.DataType != "" {
		if v, ok := boxedDataTypes[f.DataType]; ok {
			p.RawDetails[RawDataType] = v
		} else {
			p.RawDetails[RawDataType] = f.DataType
		}
	}
	// rawFieldKeys; nulls are left out.
	if a.ID != nil {
		p.RawDetails[RawID] = f.ID
	}
	if f.ShowInForms != nil {
		p.RawDetails[RawShowInForms] = *f.ShowInForms
	}
	if a.ParentID != nil {
		p.RawDetails[RawParentID] = intern(f.ParentID) // the folder: shared by the object's fields
	}
	for _, r := range [...]struct {
		key string
		raw json.RawMessage
	}{
		{RawPlaceholder, a.Placeholder}, {RawAcceptedFormats, a.AcceptedFormats},
		{RawMaxFileLimit, a.MaxFileLimit}, {RawAllowCustomOption, a.AllowCustomOption},
	} {
		if len(r.raw) == 0 || string(r.raw) == "null" {
			continue
		}
		var v any
		if err := json.Unmarshal(r.raw, &v); err != nil {
			return crm.Property{}, f, fmt.Errorf("decoding GHL field: %w", err)
		}
		p.RawDetails[r.key] = v
	}
	var urls map[string]any
	if len(f.Options) > 0 {
		p.Options = make([]crm.Option, 0, len(f.Options))
	}
	for _, o := range f.Options {
		p.Options = append(p.Options, crm.Option{Value: intern(o.Key), Label: intern(o.Label)})
		if o.URL != "" {
			if urls == nil {
				urls = map[string]any{}
			}
			urls[o.Key] = o.URL
		}
	}
	if len(urls) > 0 {
		p.RawDetails[RawOptionURLs] = urls
	}
	return p, f, nil
}

// intern returns the canonical copy of s.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// createFieldBody is GHL's CreateCustomFieldsDTO.
type createFieldBody struct {
	LocationID        string      `json:"locationId"`
	Name              string      `json:"name"`
	Description       string      `json:"description,omitempty"`
	Placeholder       string      `json:"placeholder,omitempty"`
	ShowInForms       bool        `json:"showInForms"`
	Options           []ghlOption `json:"options,omitempty"`
	AcceptedFormats   string      `json:"acceptedFormats,omitempty"`
	DataType          string      `json:"dataType"`
	FieldKey          string      `json:"fieldKey"`
	ObjectKey         string      `json:"objectKey"`
	MaxFileLimit      *float64    `json:"maxFileLimit,omitempty"`
	AllowCustomOption *bool       `json:"allowCustomOption,omitempty"`
	ParentID          string      `json:"parentId"`
}

// fieldSpec is a validated neutral property, ready to be sent to GHL.
type fieldSpec struct {
	body           createFieldBody
	hasPlaceholder bool
	hasShowInForms bool
	// extraRaw names RawDetails keys given beyond type, placeholder and
	// showInForms (they cannot be applied to a primary display property).
	extraRaw []string
}

// buildField validates p for creation on objectKey; violation fields are
// prefixed with prefix (e.g. "fields[2]." or "").
func buildField(prefix, objectKey string, p crm.Property) (fieldSpec, []crm.FieldViolation) {
	var vs []crm.FieldViolation
	bad := func(field, format string, args ...any) {
		vs = append(vs, crm.FieldViolation{Field: prefix + field, Description: fmt.Sprintf(format, args...)})
	}
	badErr := func(err error) {
		var ve *crm.ValidationError
		if errors.As(err, &ve) {
			for _, v := range ve.Violations {
				vs = append(vs, crm.FieldViolation{Field: prefix + v.Field, Description: v.Description})
			}
			return
		}
		bad("", "%v", err)
	}
	spec := fieldSpec{body: createFieldBody{
		Name:        p.Label,
		Description: p.Description,
		ShowInForms: true,
		ObjectKey:   objectKey,
		FieldKey:    FieldKey(objectKey, p.ID),
	}}
	if err := checkIdent(p.ID); err != nil {
		bad("id", "%v", err)
	}
	if strings.TrimSpace(p.Label) == "" {
		bad("label", "required")
	}
	dt, err := DataType("type", p.Type, p.RawDetails)
	if err != nil {
		badErr(err)
	}
	spec.body.DataType = dt
	if p.IsRequired {
		bad("is_required", "GHL custom fields cannot be required")
	}
	if p.Precision != 0 || p.Scale != 0 {
		bad("precision", "GHL custom fields have no precision or scale")
	}
	if p.GroupName != "" {
		bad("group_name", "GHL groups fields in folders: pass the folder id as raw_details.%s instead", RawParentID)
	}

	// Options.
	var urls map[string]any
	if v, ok := p.RawDetails[RawOptionURLs]; ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			bad("raw_details."+RawOptionURLs, "must be an object mapping option values to urls")
		}
		urls = m
	}
	if len(p.Options) > 0 && dt != "" && !optionTypes[dt] {
		bad("options", "GHL dataType %s has no options", dt)
	}
	seen := map[string]bool{}
	for i, o := range p.Options {
		f := fmt.Sprintf("options[%d].", i)
		switch {
		case o.Value == "":
			bad(f+"value", "required")
		case seen[o.Value]:
			bad(f+"value", "duplicate option value %q", o.Value)
		}
		seen[o.Value] = true
		if o.Label == "" {
			bad(f+"label", "required")
		}
		if o.Description != "" {
			bad(f+"description", "GHL options have no description")
		}
		if o.Hidden {
			bad(f+"hidden", "GHL options cannot be hidden")
		}
		opt := ghlOption{Key: o.Value, Label: o.Label}
		if u, ok := urls[o.Value]; ok {
			s, isStr := u.(string)
			if !isStr {
				bad("raw_details."+RawOptionURLs, "url of option %q must be a string", o.Value)
			}
			opt.URL = s
		}
		spec.body.Options = append(spec.body.Options, opt)
	}
	for v := range urls {
		if !seen[v] {
			bad("raw_details."+RawOptionURLs, "names option %q, which is not among the options", v)
		}
	}

	// Other RawDetails, in a stable order.
	keys := make([]string, 0, len(p.RawDetails))
	for k := range p.RawDetails {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := p.RawDetails[k]
		rf := "raw_details." + k
		switch k {
		case RawDataType, RawOptionURLs, RawID:
			// Handled above; id is GHL's and ignored on create.
		case RawPlaceholder:
			s, ok := v.(string)
			if !ok {
				bad(rf, "must be a string")
			}
			spec.body.Placeholder, spec.hasPlaceholder = s, true
		case RawShowInForms:
			b, ok := v.(bool)
			if !ok {
				bad(rf, "must be a boolean")
			}
			spec.body.ShowInForms, spec.hasShowInForms = b, true
		case RawParentID:
			s, ok := v.(string)
			if !ok || s == "" {
				bad(rf, "must be a folder id")
			}
			spec.body.ParentID = s
			spec.extraRaw = append(spec.extraRaw, k)
		case RawAcceptedFormats:
			s, ok := v.(string)
			if !ok {
				bad(rf, "must be a string such as \".pdf\" or \"all\"")
			}
			spec.body.AcceptedFormats = s
			spec.extraRaw = append(spec.extraRaw, k)
		case RawMaxFileLimit:
			n, ok := toFloat(v)
			if !ok || n < 0 || n != math.Trunc(n) {
				bad(rf, "must be a whole number")
			}
			spec.body.MaxFileLimit = &n
			spec.extraRaw = append(spec.extraRaw, k)
		case RawAllowCustomOption:
			b, ok := v.(bool)
			if !ok {
				bad(rf, "must be a boolean")
			}
			spec.body.AllowCustomOption = &b
			spec.extraRaw = append(spec.extraRaw, k)
		default:
			bad(rf, "unknown GHL field attribute; known: %s", strings.Join(append([]string{RawDataType, RawOptionURLs}, rawFieldKeys...), ", "))
		}
	}
	return spec, vs
}

// toFloat accepts the number types a decoded raw_details value may have.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
