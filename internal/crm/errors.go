package crm

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors shared by every adapter and by internal/unified.
var (
	// ErrNotFound: the object, property, record or relation does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnsupported: the provider cannot do this operation.
	ErrUnsupported = errors.New("operation not supported by this provider")
	// ErrInvalidArgument: the caller's input is wrong (see ValidationError
	// for field-level detail).
	ErrInvalidArgument = errors.New("invalid argument")
)

// FieldViolation names one bad input field.
type FieldViolation struct {
	Field       string
	Description string
}

// ValidationError is bad caller input found by the gateway before any
// provider call. errors.Is(err, ErrInvalidArgument) holds.
type ValidationError struct {
	Violations []FieldViolation
}

// Invalid builds a ValidationError with one violation.
func Invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Violations: []FieldViolation{{Field: field, Description: fmt.Sprintf(format, args...)}}}
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Violations))
	for _, v := range e.Violations {
		if v.Field == "" {
			parts = append(parts, v.Description)
		} else {
			parts = append(parts, v.Field+": "+v.Description)
		}
	}
	return strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalidArgument) hold.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidArgument }

// ProviderError is an answer of the provider that is not a success: its
// HTTP status and message are kept for the caller, so a provider's fault can
// always be told from the gateway's.
type ProviderError struct {
	Provider string // "ghl"
	// Status is the provider's HTTP status; 0 when no answer came (network
	// error, timeout).
	Status  int
	Message string
	// RetryAfter is the provider's hint for 429/503, 0 if none.
	RetryAfter time.Duration
	// Cause is the transport error when Status is 0.
	Cause error
}

func (e *ProviderError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s: request failed: %v", e.Provider, e.Cause)
	}
	return fmt.Sprintf("%s answered %d: %s", e.Provider, e.Status, e.Message)
}

// Unwrap returns the transport cause, if any.
func (e *ProviderError) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, ErrNotFound) hold for a provider 404.
func (e *ProviderError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}
