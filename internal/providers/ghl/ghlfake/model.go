package ghlfake

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"sort"
	"strings"
	"sync"
	"time"
)

// location is one sub-account and everything in it.
type location struct {
	id           string
	objects      map[string]*object // by key
	objectOrder  []*object          // creation order
	fields       map[string]*field  // by id
	folders      map[string]*folder // by id
	associations map[string]*association
	assocOrder   []*association
	relations    map[string]*relation
	relOrder     []*relation
	records      map[string]*record // every record of every object, by id
	crm          *crmStore          // contacts, opportunities, businesses, users (crm.go); nil until used
}

func newLocation(id string) *location {
	return &location{
		id:           id,
		objects:      make(map[string]*object),
		fields:       make(map[string]*field),
		folders:      make(map[string]*folder),
		associations: make(map[string]*association),
		relations:    make(map[string]*relation),
		records:      make(map[string]*record),
	}
}

// object finds an object schema by key (case-insensitive) or by id.
func (l *location) object(keyOrID string) *object {
	if o := l.objects[strings.ToLower(keyOrID)]; o != nil {
		return o
	}
	for _, o := range l.objectOrder {
		if o.id == keyOrID {
			return o
		}
	}
	return nil
}

func (l *location) addObject(o *object) {
	l.objects[o.key] = o
	l.objectOrder = append(l.objectOrder, o)
}

// object is a standard or custom object schema.
type object struct {
	id                   string
	key                  string // "contact", "business", "custom_objects.pet"
	standard             bool
	singular, plural     string
	description          *string
	primaryDisplayProp   string   // full field key
	searchableProperties []string // full field keys
	dateAdded, updated   time.Time

	fields        []*field // creation order
	defaultFolder *folder

	// records sorted by (createdAt, id): the search order.
	records []*record
}

// supportsRecords reports whether the records API serves the object: custom
// objects and business, as the spec says.
func (o *object) supportsRecords() bool { return !o.standard || o.key == "business" }

// fieldByName finds a field by its bare key ("name" of "custom_objects.pet.name").
func (o *object) fieldByName(name string) *field {
	for _, f := range o.fields {
		if f.name() == name {
			return f
		}
	}
	return nil
}

func (o *object) fieldByKey(fullKey string) *field {
	for _, f := range o.fields {
		if f.fieldKey == fullKey {
			return f
		}
	}
	return nil
}

func (o *object) removeField(f *field) {
	for i, x := range o.fields {
		if x == f {
			o.fields = append(o.fields[:i], o.fields[i+1:]...)
			return
		}
	}
}

// insertRecord keeps o.records in search order.
func (o *object) insertRecord(r *record) {
	i := sort.Search(len(o.records), func(i int) bool { return r.before(o.records[i]) })
	o.records = append(o.records, nil)
	copy(o.records[i+1:], o.records[i:])
	o.records[i] = r
}

func (o *object) removeRecord(r *record) {
	i := sort.Search(len(o.records), func(i int) bool { return !o.records[i].before(r) })
	for ; i < len(o.records); i++ {
		if o.records[i] == r {
			o.records = append(o.records[:i], o.records[i+1:]...)
			return
		}
	}
}

// option is a choice of an option-type field.
type option struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

// field is a custom (or standard) field of an object.
type field struct {
	id                string
	locationID        string
	objectKey         string
	fieldKey          string // full: "custom_objects.pet.name"
	displayName       string
	description       string
	placeholder       string
	showInForms       bool
	options           []option
	acceptedFormats   string
	dataType          string
	parentID          string
	allowCustomOption *bool
	maxFileLimit      *float64
	standard          bool
	dateAdded, update time.Time
}

// name is the bare key records use in their properties.
func (f *field) name() string { return strings.TrimPrefix(f.fieldKey, f.objectKey+".") }

func (f *field) hasOption(key string) bool {
	for _, o := range f.options {
		if o.Key == key {
			return true
		}
	}
	return false
}

// folder groups fields of an object.
type folder struct {
	id         string
	locationID string
	objectKey  string
	name       string
	dateAdded  time.Time
	updated    time.Time
}

// record is an instance of an object.
type record struct {
	id         string
	objectKey  string
	objectID   string
	locationID string
	owner      []string
	followers  []string
	properties map[string]any
	createdAt  time.Time
	updatedAt  time.Time
	createdBy  actor
	updatedBy  actor
}

// before orders records for search: by creation time, then by id.
func (r *record) before(o *record) bool {
	a, b := r.createdAt.UnixMilli(), o.createdAt.UnixMilli()
	if a != b {
		return a < b
	}
	return r.id < o.id
}

// actor is the createdBy / lastUpdatedBy meta of a record.
type actor struct {
	Channel   string `json:"channel"`
	CreatedAt string `json:"createdAt"`
	Source    string `json:"source"`
	SourceID  string `json:"sourceId"`
}

// association links two objects.
type association struct {
	id                string
	locationID        string
	key               string
	firstObjectKey    string
	firstObjectLabel  any
	secondObjectKey   string
	secondObjectLabel any
	associationType   string
}

// relation links two records through an association.
type relation struct {
	id              string
	locationID      string
	associationID   string
	firstObjectKey  string
	firstRecordID   string
	secondObjectKey string
	secondRecordID  string
	createdAt       time.Time
}

// ---------------------------------------------------------------------------
// IDs

// idGen makes HighLevel-looking ids: MongoDB ObjectIds (24 hex digits) for
// objects, records, associations and relations, and 20-character
// alphanumeric ids (Firestore style) for custom fields and folders.
type idGen struct {
	mu      sync.Mutex
	machine [5]byte
	counter uint32
}

func newIDGen() *idGen {
	g := &idGen{}
	var seed [4]byte
	_, _ = rand.Read(g.machine[:])
	_, _ = rand.Read(seed[:])
	// Start low so the 3-byte counter does not wrap for millions of ids.
	g.counter = binary.BigEndian.Uint32(seed[:]) & 0x3fffff
	return g
}

// objectID returns a 24-hex-digit ObjectId for time t: ids made later, or in
// the same second, sort after earlier ones.
func (g *idGen) objectID(t time.Time) string {
	g.mu.Lock()
	g.counter = (g.counter + 1) & 0xffffff
	c := g.counter
	g.mu.Unlock()
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(t.Unix())) //nolint:gosec // ObjectId timestamps are 32-bit by design
	copy(b[4:9], g.machine[:])
	b[9], b[10], b[11] = byte(c>>16), byte(c>>8), byte(c) //nolint:gosec // c is masked to 24 bits
	return hex.EncodeToString(b[:])
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// shortID returns a random 20-character alphanumeric id.
func (g *idGen) shortID() string {
	var b strings.Builder
	n := big.NewInt(int64(len(alnum)))
	for range 20 {
		v, err := rand.Int(rand.Reader, n)
		if err != nil {
			b.WriteByte('x')
			continue
		}
		b.WriteByte(alnum[v.Int64()])
	}
	return b.String()
}
