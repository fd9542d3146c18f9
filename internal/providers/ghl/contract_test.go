package ghl_test

import (
	"net/http/httptest"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/providers/ghl"
	"github.com/crmgate/crmgate/internal/providers/ghl/ghlfake"
	"github.com/crmgate/crmgate/internal/providers/providertest"
)

// TestContract runs the provider-neutral contract suite against the GHL
// fake, a fresh fake per subtest.
func TestContract(t *testing.T) {
	providertest.RunContractTests(t, func(t *testing.T) crm.Provider {
		const loc, token = "loc_contract_1", "pit-contract-token"
		fake := ghlfake.New(ghlfake.Options{BurstLimit: -1})
		fake.AddLocation(loc)
		fake.AddToken(token, loc)
		fake.AddPipeline(loc, "Contract", "First", "Second", "Third") // GHL's API creates no pipelines
		srv := httptest.NewServer(fake)
		t.Cleanup(srv.Close)
		c, err := ghl.NewClient(ghl.ClientOptions{
			BaseURL:    srv.URL,
			LocationID: loc,
			Token:      ghl.StaticToken(token),
			HTTPClient: srv.Client(),
		})
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		return c
	})
}
