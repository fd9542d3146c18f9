// Package paging pages the gateway's own lists (CoreService's connector
// configs and connections, AdminService's organisations and API keys) the
// way the CRM record lists are paged: page_size (1 to 100; 0 means 100,
// larger is capped, negative is a 400) and an opaque cursor in; items,
// next_cursor (empty on the last page) and has_next_page out.
//
// The lists are keyset-paged in the store's (created_at, id) order, so a
// row created or deleted between two pages neither shifts nor repeats the
// others. A cursor carries the last row's position and a hash of the list
// and filter it belongs to; it is opaque to callers, and one of another
// list or filter is a 400.
package paging

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/crmgate/crmgate/internal/crm"
	"github.com/crmgate/crmgate/internal/store"
)

// Page sizes, as the CRM lists'.
const (
	DefaultSize = 100
	MaxSize     = 100
	// maxCursorLen bounds what is decoded.
	maxCursorLen = 512
)

// Request is a parsed page request of one list.
type Request struct {
	list string
	size int
	// Page is what to ask the store for: one row more than the page, to
	// learn whether a next page exists.
	Page store.Page
}

// Parse checks page_size and cursor of a request for the list named list
// (its name and filter, e.g. "connections?customer_id=c1").
func Parse(list string, pageSize int32, cursor string) (Request, error) {
	n := int(pageSize)
	switch {
	case pageSize < 0:
		return Request{}, crm.Invalid("page_size", "must be between 1 and %d, got %d", MaxSize, pageSize)
	case pageSize == 0:
		n = DefaultSize
	case pageSize > MaxSize:
		n = MaxSize
	}
	r := Request{list: list, size: n, Page: store.Page{Limit: n + 1}}
	if cursor == "" {
		return r, nil
	}
	after, err := decode(list, cursor)
	if err != nil {
		return Request{}, err
	}
	r.Page.After = &after
	return r, nil
}

// Finish cuts the store's answer to the page and returns it with the next
// page's cursor ("" on the last page).
func Finish[T any](r Request, rows []T, position func(T) store.Cursor) ([]T, string) {
	if len(rows) <= r.size {
		return rows, ""
	}
	rows = rows[:r.size]
	return rows, encode(r.list, position(rows[len(rows)-1]))
}

type cursor struct {
	V    int    `json:"v"`
	List string `json:"l"`
	At   string `json:"t"`
	ID   string `json:"id"`
}

func listHash(list string) string {
	h := sha256.Sum256([]byte(list))
	return hex.EncodeToString(h[:8])
}

func encode(list string, c store.Cursor) string {
	b, _ := json.Marshal(cursor{V: 1, List: listHash(list), At: c.CreatedAt.UTC().Format(time.RFC3339Nano), ID: c.ID}) //nolint:errchkjson // plain strings
	return base64.RawURLEncoding.EncodeToString(b)
}

func decode(list, s string) (store.Cursor, error) {
	malformed := crm.Invalid("cursor", "is malformed; pass next_cursor from a previous page unchanged")
	if len(s) > maxCursorLen {
		return store.Cursor{}, crm.Invalid("cursor", "is too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.Cursor{}, malformed
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.V != 1 || c.ID == "" {
		return store.Cursor{}, malformed
	}
	t, err := time.Parse(time.RFC3339Nano, c.At)
	if err != nil {
		return store.Cursor{}, malformed
	}
	if c.List != listHash(list) {
		return store.Cursor{}, crm.Invalid("cursor", "belongs to another list or filter")
	}
	return store.Cursor{CreatedAt: t, ID: c.ID}, nil
}

// Keyed pages a list the gateway holds whole (a CRM's objects, an
// object's properties, association schemas: read from the schema cache
// or one provider call) the same way: in key order, resuming after the
// last key of the previous page, so an item added or removed between two
// pages shifts no other. key must be unique within items.
func Keyed[T any](r Request, items []T, key func(T) string) ([]T, string) {
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	if r.Page.After != nil {
		after := r.Page.After.ID
		i, _ := slices.BinarySearchFunc(sorted, after, func(t T, k string) int { return strings.Compare(key(t), k) })
		for i < len(sorted) && key(sorted[i]) <= after {
			i++
		}
		sorted = sorted[i:]
	}
	if len(sorted) <= r.size {
		return sorted, ""
	}
	sorted = sorted[:r.size]
	return sorted, encode(r.list, store.Cursor{ID: key(sorted[len(sorted)-1])})
}
