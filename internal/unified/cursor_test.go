package unified

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/crmgate/crmgate/internal/crm"
)

func TestCursorRoundTrip(t *testing.T) {
	c := encodeCursor("conn_a", "records:pet", "buddy", "provider-cursor")
	got, err := decodeCursor(c, "conn_a", "records:pet", "buddy")
	if err != nil || got != "provider-cursor" {
		t.Fatalf("decode = %q, %v", got, err)
	}
	if encodeCursor("conn_a", "records:pet", "", "") != "" {
		t.Error("an empty provider cursor must encode to the empty cursor (last page)")
	}
	if got, err := decodeCursor("", "conn_a", "records:pet", ""); err != nil || got != "" {
		t.Errorf("empty cursor = %q, %v", got, err)
	}
}

func TestCursorRejects(t *testing.T) {
	good := encodeCursor("conn_a", "records:pet", "q", "p")
	for _, tt := range []struct {
		name, cursor, conn, target, query string
	}{
		{"garbage", "%%%", "conn_a", "records:pet", "q"},
		{"not json", base64.RawURLEncoding.EncodeToString([]byte("hello")), "conn_a", "records:pet", "q"},
		{"wrong version", base64.RawURLEncoding.EncodeToString([]byte(`{"v":2,"c":"conn_a","t":"records:pet","p":"x"}`)), "conn_a", "records:pet", ""},
		{"other connection", good, "conn_b", "records:pet", "q"},
		{"other object", good, "conn_a", "records:dog", "q"},
		{"other query", good, "conn_a", "records:pet", "r"},
		{"too long", string(make([]byte, maxCursorLen+1)), "conn_a", "records:pet", "q"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeCursor(tt.cursor, tt.conn, tt.target, tt.query)
			var ve *crm.ValidationError
			if !errors.As(err, &ve) || ve.Violations[0].Field != "cursor" {
				t.Fatalf("want a cursor ValidationError, got %v", err)
			}
		})
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor("conn_a", "records:pet", "", "p"))
	f.Add("")
	f.Add("eyJ2IjoxfQ")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := decodeCursor(s, "conn_a", "records:pet", "")
		if err == nil && s != "" && p == "" {
			t.Fatalf("accepted %q without a provider cursor", s)
		}
	})
}
