package providertest

import (
	"context"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

// checkOnly is a provider with no optional capability.
type checkOnly struct{}

func (checkOnly) Check(context.Context) error { return nil }

// TestSuiteSkipsMissingCapabilities runs the suite against a provider that
// only serves Check: every capability subtest must skip, none fail.
func TestSuiteSkipsMissingCapabilities(t *testing.T) {
	RunContractTests(t, func(*testing.T) crm.Provider { return checkOnly{} })
}
