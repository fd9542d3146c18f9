package ghl

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/crmgate/crmgate/internal/crm"
)

// customPrefix is the prefix of every custom object key in GHL.
const customPrefix = "custom_objects."

// Neutral names of GHL's standard objects. GHL's "business" (the company
// object) is crmgate's "account"; contact and opportunity keep their names.
var (
	standardToNeutral = map[string]string{
		"contact":     "contact",
		"opportunity": "opportunity",
		"business":    "account",
	}
	neutralToStandard = map[string]string{
		"contact":     "contact",
		"opportunity": "opportunity",
		"account":     "business",
	}
)

// ObjectKey maps a neutral object name to GHL's object key: "pet" ->
// "custom_objects.pet", "account" -> "business", "contact" -> "contact",
// "opportunity" -> "opportunity". A name already carrying the
// "custom_objects." prefix is taken as a GHL key.
func ObjectKey(name string) (string, error) {
	if k, ok := neutralToStandard[name]; ok {
		return k, nil
	}
	bare := strings.TrimPrefix(name, customPrefix)
	if err := checkIdent(bare); err != nil {
		return "", err
	}
	return customPrefix + bare, nil
}

// ObjectName maps a GHL object key to its neutral name, the inverse of
// ObjectKey. Keys of unknown standard objects are kept as they are.
func ObjectName(key string) string {
	if n, ok := standardToNeutral[key]; ok {
		return n
	}
	return strings.TrimPrefix(key, customPrefix)
}

// GHL's object keys in its messages: custom objects ("custom_objects.pet",
// "custom_objects.pet.name") and the company object's field keys
// ("business.email").
var (
	customKeyRef   = regexp.MustCompile(`\bcustom_objects\.([A-Za-z0-9_])`)
	businessKeyRef = regexp.MustCompile(`\bbusiness\.([a-z_][a-z0-9_]*)`)
)

// publicMessage is a GHL error message as crmgate's callers read it, with
// the neutral names: the "custom_objects." prefix, which means nothing
// outside GHL, is dropped ("custom_objects.pet.name is required" reads
// "pet.name is required"), and the company object's field keys name
// "account" ("business.email" reads "account.email").
func publicMessage(msg string) string {
	msg = customKeyRef.ReplaceAllString(msg, "$1")
	return businessKeyRef.ReplaceAllString(msg, standardToNeutral["business"]+".$1")
}

// isCustomKey tells custom object keys from standard ones.
func isCustomKey(key string) bool { return strings.HasPrefix(key, customPrefix) }

// FieldKey maps a neutral property id to GHL's field key of that object:
// ("custom_objects.pet", "name") -> "custom_objects.pet.name",
// ("business", "email") -> "business.email".
func FieldKey(objectKey, propertyID string) string { return objectKey + "." + propertyID }

// PropertyID maps a GHL field key to the neutral property id by stripping
// "<objectKey>.": "custom_objects.pet.name" -> "name", "business.email" ->
// "email", "contact.first_name" -> "first_name". GHL's docs sometimes spell
// the custom prefix "custom_object." (singular); that spelling is stripped
// too. A key without the object's prefix is returned unchanged.
func PropertyID(objectKey, fieldKey string) string {
	if rest, ok := strings.CutPrefix(fieldKey, objectKey+"."); ok {
		return rest
	}
	if name, ok := strings.CutPrefix(objectKey, customPrefix); ok {
		if rest, ok := strings.CutPrefix(fieldKey, "custom_object."+name+"."); ok {
			return rest
		}
	}
	return fieldKey
}

// checkIdent accepts GHL key parts: lowercase letters, digits and '_',
// starting with a letter (GHL keys are "lowercase + underscore_separated").
func checkIdent(s string) error {
	if s == "" {
		return errors.New("required")
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
		case (r >= '0' && r <= '9' || r == '_') && i > 0:
		default:
			return fmt.Errorf("%q is not a valid GHL key: use lowercase letters, digits and '_', starting with a letter", s)
		}
	}
	return nil
}

// objectKeyArg maps an object name given by a caller, answering a
// ValidationError on field "object" for a bad one.
func objectKeyArg(name string) (string, error) {
	k, err := ObjectKey(name)
	if err != nil {
		return "", crm.Invalid("object", "%v", err)
	}
	return k, nil
}

// fieldsAPIKey is objectKeyArg for the custom-fields API, which serves only
// custom objects and business (company) today.
func fieldsAPIKey(name string) (string, error) {
	k, err := objectKeyArg(name)
	if err != nil {
		return "", err
	}
	if !isCustomKey(k) && k != "business" {
		return "", fmt.Errorf("ghl: the fields of %q cannot be changed through GHL's custom-fields API (custom objects and account only): %w", name, crm.ErrUnsupported)
	}
	return k, nil
}

// recordsAPIKey is objectKeyArg for the records API, which serves custom
// objects and business only (contacts and opportunities have their own
// APIs, not wired here).
func recordsAPIKey(name string) (string, error) {
	k, err := objectKeyArg(name)
	if err != nil {
		return "", err
	}
	if !isCustomKey(k) && k != "business" {
		return "", fmt.Errorf("ghl: records of %q are not served by GHL's objects API (custom objects and account only): %w", name, crm.ErrUnsupported)
	}
	return k, nil
}
