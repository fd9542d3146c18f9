package paging

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/store"
)

type row struct {
	id string
	at time.Time
}

func position(r row) store.Cursor { return store.Cursor{CreatedAt: r.at, ID: r.id} }

func TestParseSizes(t *testing.T) {
	for _, tc := range []struct {
		in        int32
		wantLimit int
		wantErr   bool
	}{
		{0, DefaultSize + 1, false},
		{1, 2, false},
		{37, 38, false},
		{100, 101, false},
		{101, MaxSize + 1, false},
		{1 << 30, MaxSize + 1, false},
		{-1, 0, true},
	} {
		r, err := Parse("x", tc.in, "")
		if tc.wantErr {
			var v *crm.ValidationError
			if !errors.As(err, &v) || v.Violations[0].Field != "page_size" {
				t.Errorf("Parse(page_size %d) = %v, want a page_size violation", tc.in, err)
			}
			continue
		}
		if err != nil || r.Page.Limit != tc.wantLimit || r.Page.After != nil {
			t.Errorf("Parse(page_size %d) = %+v, %v; want limit %d", tc.in, r.Page, err, tc.wantLimit)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	var rows []row
	for i := range 5 {
		rows = append(rows, row{id: string(rune('a' + i)), at: base.Add(time.Duration(i) * time.Microsecond)})
	}
	r, err := Parse("connections?customer_id=c1", 2, "")
	if err != nil {
		t.Fatal(err)
	}
	page, next := Finish(r, rows[:3], position) // the store answered limit 3
	if len(page) != 2 || next == "" {
		t.Fatalf("page %v next %q", page, next)
	}
	r2, err := Parse("connections?customer_id=c1", 2, next)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Page.After == nil || r2.Page.After.ID != "b" || !r2.Page.After.CreatedAt.Equal(rows[1].at) {
		t.Fatalf("cursor decodes to %+v, want b at %v", r2.Page.After, rows[1].at)
	}
	// The last page: no cursor.
	last, next := Finish(r2, rows[2:4], position)
	if !slices.Equal(last, rows[2:4]) || next != "" {
		t.Fatalf("last page %v next %q", last, next)
	}
}

func TestBadCursors(t *testing.T) {
	r, _ := Parse("connections", 1, "")
	_, good := Finish(r, []row{{"a", time.Now()}, {"b", time.Now()}}, position)
	for name, c := range map[string]string{
		"not base64":     "!!!",
		"not json":       "bm90IGpzb24",
		"wrong version":  "eyJ2IjoyfQ",
		"too long":       string(make([]byte, maxCursorLen+1)),
		"another filter": good,
	} {
		list := "connections"
		if name == "another filter" {
			list = "connections?customer_id=other"
		}
		_, err := Parse(list, 0, c)
		var v *crm.ValidationError
		if !errors.As(err, &v) || v.Violations[0].Field != "cursor" {
			t.Errorf("%s: %v, want a cursor violation", name, err)
		}
	}
	if _, err := Parse("connections", 0, good); err != nil {
		t.Errorf("good cursor: %v", err)
	}
}

// TestKeyed: a list held whole is paged in key order, each item once,
// and resumes after the last key even when items come and go between
// pages.
func TestKeyed(t *testing.T) {
	key := func(s string) string { return s }
	items := []string{"e", "a", "d", "b", "c"}
	var got []string
	cursor := ""
	for range 10 {
		r, err := Parse("letters", 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		page, next := Keyed(r, items, key)
		got = append(got, page...)
		if next == "" {
			break
		}
		cursor = next
		// Between pages: "a" (already seen) goes, "bb" (not yet) comes.
		items = []string{"e", "d", "b", "bb", "c"}
	}
	if want := []string{"a", "b", "bb", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	if !slices.Equal(items, []string{"e", "d", "b", "bb", "c"}) {
		t.Fatal("Keyed reordered its input")
	}
	r, _ := Parse("letters", 2, "")
	_, next := Keyed(r, items, key)
	if _, err := Parse("numbers", 2, next); err == nil {
		t.Fatal("a cursor of another list was accepted")
	}
}
