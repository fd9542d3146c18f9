package ghl

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

// FuzzAccountAnswers: any GHL business JSON, and any answer to a
// businesses list, gives accounts or an error the gateway maps: never a
// panic.
//
//	go test ./internal/providers/ghl -run '^$' -fuzz FuzzAccountAnswers -fuzztime 10s
func FuzzAccountAnswers(f *testing.F) {
	for _, s := range []string{
		`{"id":"b1","name":"Acme","website":"https://www.acme.example","phone":"+1","createdAt":"2025-01-06T09:00:00.000Z"}`,
		`{"businesses":[{"id":"b1","name":"A"},{"id":"b2","name":"B"}]}`,
		`{"businesses":[{"id":"b1"},null,{"id":2}]}`,
		`{"business":{"id":"b1"},"buiseness":{"id":"b2"}}`,
		`{}`, `null`, `[]`, ``, `{"id":1}`, `{"businesses":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if a, err := AccountFromGHL(json.RawMessage(body)); err == nil && a.ID == "" {
			t.Fatal("an account without id")
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
		classified := func(err error) {
			var pe *crm.ProviderError
			if err != nil && !errors.As(err, &pe) && !errors.Is(err, crm.ErrInvalidArgument) {
				t.Fatalf("unclassified error %T: %v", err, err)
			}
		}
		pg, err := c.ListAccounts(t.Context(), crm.Schema{}, crm.EntityQuery{PageSize: 1})
		classified(err)
		if err == nil && len(pg.Items) > 1 {
			t.Fatalf("%d accounts on a page of 1", len(pg.Items))
		}
		_, err = c.GetAccount(t.Context(), crm.Schema{}, "b1")
		classified(err)
	})
}
