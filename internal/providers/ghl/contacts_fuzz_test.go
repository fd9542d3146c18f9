package ghl

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

// FuzzContactAnswers: any GHL contact JSON, and any answer to a contact
// search, gives contacts or an error the gateway maps (a *crm.ProviderError
// or a validation error): never a panic.
//
//	go test ./internal/providers/ghl -run '^$' -fuzz FuzzContactAnswers -fuzztime 10s
func FuzzContactAnswers(f *testing.F) {
	for _, s := range []string{
		`{"id":"c1","firstName":"Ada","email":"a@b.co","additionalEmails":["x@y.z",{"email":"w@v.u"}],"customFields":[{"id":"cf2","value":3}],"tags":["a"],"dateAdded":"2025-01-06T09:00:00.000Z"}`,
		`{"contacts":[{"id":"c1","searchAfter":[1736154000000,"c1"]},{"id":"c2","searchAfter":[1736157600000,"c2"]}],"total":2}`,
		`{"contacts":[{"id":"c1"},{"id":"c2"}],"total":"x"}`,
		`{"id":"c1","additionalPhones":[null,1,{"phone":2}],"customFields":[{"id":""},null]}`,
		`{}`, `null`, `[]`, ``, `{"id":1}`, `{"contacts":null}`,
	} {
		f.Add([]byte(s))
	}
	sc := testContactSchema()
	f.Fuzz(func(t *testing.T, body []byte) {
		if c, err := ContactFromGHL(sc, json.RawMessage(body)); err == nil && c.ID == "" {
			t.Fatal("a contact without id")
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		c, err := NewClient(ClientOptions{BaseURL: srv.URL, LocationID: "loc1", Token: StaticToken("t"), HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		pg, err := c.ListContacts(t.Context(), sc, crm.EntityQuery{PageSize: 1})
		var pe *crm.ProviderError
		if err != nil && !errors.As(err, &pe) && !errors.Is(err, crm.ErrInvalidArgument) {
			t.Fatalf("unclassified error %T: %v", err, err)
		}
		if err == nil && len(pg.Items) > 1 {
			t.Fatalf("%d contacts on a page of 1", len(pg.Items))
		}
	})
}
