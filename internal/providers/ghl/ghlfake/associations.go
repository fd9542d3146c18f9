package ghlfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Default and largest page of the skip/limit list endpoints.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// ---------------------------------------------------------------------------
// Views

// associationView is GetPostSuccessfulResponseDto.
type associationView struct {
	LocationID        string `json:"locationId"`
	ID                string `json:"id"`
	Key               string `json:"key"`
	FirstObjectLabel  any    `json:"firstObjectLabel"`
	FirstObjectKey    string `json:"firstObjectKey"`
	SecondObjectLabel any    `json:"secondObjectLabel"`
	SecondObjectKey   string `json:"secondObjectKey"`
	AssociationType   string `json:"associationType"`
}

func (a *association) view() associationView {
	return associationView{
		LocationID:        a.locationID,
		ID:                a.id,
		Key:               a.key,
		FirstObjectLabel:  a.firstObjectLabel,
		FirstObjectKey:    a.firstObjectKey,
		SecondObjectLabel: a.secondObjectLabel,
		SecondObjectKey:   a.secondObjectKey,
		AssociationType:   a.associationType,
	}
}

// relationView is a relation as the relation endpoints (and the
// RelationCreate webhook) show it.
type relationView struct {
	ID              string `json:"id"`
	AssociationID   string `json:"associationId"`
	FirstObjectKey  string `json:"firstObjectKey"`
	FirstRecordID   string `json:"firstRecordId"`
	SecondObjectKey string `json:"secondObjectKey"`
	SecondRecordID  string `json:"secondRecordId"`
	LocationID      string `json:"locationId"`
}

func (r *relation) view() relationView {
	return relationView{
		ID:              r.id,
		AssociationID:   r.associationID,
		FirstObjectKey:  r.firstObjectKey,
		FirstRecordID:   r.firstRecordID,
		SecondObjectKey: r.secondObjectKey,
		SecondRecordID:  r.secondRecordID,
		LocationID:      r.locationID,
	}
}

// ---------------------------------------------------------------------------
// Paging

// skipLimit parses the skip and limit query parameters.
func (c *reqCtx) skipLimit() (int, int, reply, bool) {
	var msgs []string
	parse := func(name string, def int) int {
		raw := c.query.Get(name)
		if raw == "" {
			return def
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			msgs = append(msgs, name+" must be a number conforming to the specified constraints")
			return 0
		}
		if n < 0 {
			msgs = append(msgs, name+" must not be less than 0")
		}
		return n
	}
	skip := parse("skip", 0)
	limit := parse("limit", defaultListLimit)
	if limit > maxListLimit {
		msgs = append(msgs, fmt.Sprintf("limit must not be greater than %d", maxListLimit))
	}
	if len(msgs) > 0 {
		return 0, 0, unprocessable(msgs...), false
	}
	return skip, limit, reply{}, true
}

func page[T any](items []T, skip, limit int) []T {
	if skip >= len(items) {
		return []T{}
	}
	end := min(skip+limit, len(items))
	return items[skip:end]
}

// ---------------------------------------------------------------------------
// Associations

// GET /associations/?locationId=&skip=&limit= -> {associations, total}
func (s *Server) listAssociations(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	skip, limit, rep, ok := c.skipLimit()
	if !ok {
		return rep
	}
	all := make([]associationView, 0, len(c.loc.assocOrder))
	for _, a := range c.loc.assocOrder {
		all = append(all, a.view())
	}
	return replyOK(map[string]any{"associations": page(all, skip, limit), "total": len(all)})
}

type createAssociationBody struct {
	LocationID        string          `json:"locationId"`
	Key               string          `json:"key"`
	FirstObjectLabel  json.RawMessage `json:"firstObjectLabel"`
	FirstObjectKey    string          `json:"firstObjectKey"`
	SecondObjectLabel json.RawMessage `json:"secondObjectLabel"`
	SecondObjectKey   string          `json:"secondObjectKey"`
}

// label decodes an association label: the spec types it "object" and shows
// strings; a non-empty string is required.
func label(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || strings.TrimSpace(s) == "" {
		return "", false
	}
	return s, true
}

// POST /associations/ (createAssociationReqDto) -> 201 GetPostSuccessfulResponseDto
func (s *Server) createAssociation(c *reqCtx) reply {
	var body createAssociationBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	var msgs []string
	if strings.TrimSpace(body.Key) == "" {
		msgs = append(msgs, "key should not be empty")
	}
	firstLabel, ok1 := label(body.FirstObjectLabel)
	if !ok1 {
		msgs = append(msgs, "firstObjectLabel should not be empty")
	}
	if strings.TrimSpace(body.FirstObjectKey) == "" {
		msgs = append(msgs, "firstObjectKey should not be empty")
	}
	secondLabel, ok2 := label(body.SecondObjectLabel)
	if !ok2 {
		msgs = append(msgs, "secondObjectLabel should not be empty")
	}
	if strings.TrimSpace(body.SecondObjectKey) == "" {
		msgs = append(msgs, "secondObjectKey should not be empty")
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}
	first := c.loc.object(body.FirstObjectKey)
	if first == nil {
		return badRequest("Object %s not found", body.FirstObjectKey)
	}
	second := c.loc.object(body.SecondObjectKey)
	if second == nil {
		return badRequest("Object %s not found", body.SecondObjectKey)
	}
	for _, a := range c.loc.assocOrder {
		if a.key == body.Key {
			return badRequest("Association with key %s already exists", body.Key)
		}
	}
	a := &association{
		id:                s.ids.objectID(s.now()),
		locationID:        c.loc.id,
		key:               body.Key,
		firstObjectKey:    first.key,
		firstObjectLabel:  firstLabel,
		secondObjectKey:   second.key,
		secondObjectLabel: secondLabel,
		associationType:   typeUserDefined,
	}
	c.loc.associations[a.id] = a
	c.loc.assocOrder = append(c.loc.assocOrder, a)
	return replyCreated(a.view())
}

func associationNotFound(id string) reply { return notFound("Association %s not found", id) }

// GET /associations/{associationId} -> GetPostSuccessfulResponseDto
func (s *Server) getAssociation(c *reqCtx) reply {
	a := c.loc.associations[c.params["associationId"]]
	if a == nil {
		return associationNotFound(c.params["associationId"])
	}
	return replyOK(a.view())
}

// GET /associations/key/{key_name}?locationId= -> GetPostSuccessfulResponseDto
func (s *Server) getAssociationByKey(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	key := c.params["key_name"]
	for _, a := range c.loc.assocOrder {
		if a.key == key {
			return replyOK(a.view())
		}
	}
	return notFound("Association with key %s not found", key)
}

// GET /associations/objectKey/{objectKey}?locationId= -> {associations}:
// the associations the object is on either side of.
func (s *Server) getAssociationsByObjectKey(c *reqCtx) reply {
	if c.query.Has("locationId") {
		if rep, ok := c.checkQueryLocation(); !ok {
			return rep
		}
	}
	key := strings.ToLower(c.params["objectKey"])
	out := make([]associationView, 0)
	for _, a := range c.loc.assocOrder {
		if a.firstObjectKey == key || a.secondObjectKey == key {
			out = append(out, a.view())
		}
	}
	return replyOK(map[string]any{"associations": out})
}

type updateAssociationBody struct {
	FirstObjectLabel  json.RawMessage `json:"firstObjectLabel"`
	SecondObjectLabel json.RawMessage `json:"secondObjectLabel"`
}

// PUT /associations/{associationId} (UpdateAssociationReqDto) -> GetPostSuccessfulResponseDto
func (s *Server) updateAssociation(c *reqCtx) reply {
	var body updateAssociationBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	var msgs []string
	firstLabel, ok1 := label(body.FirstObjectLabel)
	if !ok1 {
		msgs = append(msgs, "firstObjectLabel should not be empty")
	}
	secondLabel, ok2 := label(body.SecondObjectLabel)
	if !ok2 {
		msgs = append(msgs, "secondObjectLabel should not be empty")
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}
	a := c.loc.associations[c.params["associationId"]]
	if a == nil {
		return associationNotFound(c.params["associationId"])
	}
	a.firstObjectLabel, a.secondObjectLabel = firstLabel, secondLabel
	return replyOK(a.view())
}

// DELETE /associations/{associationId} -> DeleteAssociationsResponseDTO.
// The association's relations go with it.
func (s *Server) deleteAssociation(c *reqCtx) reply {
	a := c.loc.associations[c.params["associationId"]]
	if a == nil {
		return associationNotFound(c.params["associationId"])
	}
	delete(c.loc.associations, a.id)
	c.loc.assocOrder = slices.DeleteFunc(c.loc.assocOrder, func(x *association) bool { return x == a })
	c.loc.deleteRelationsOf(func(r *relation) bool { return r.associationID == a.id })
	return replyOK(map[string]any{"deleted": true, "id": a.id, "message": "Association deleted successfully"})
}

// ---------------------------------------------------------------------------
// Relations

func (l *location) deleteRelationsOf(match func(*relation) bool) {
	l.relOrder = slices.DeleteFunc(l.relOrder, func(r *relation) bool {
		if match(r) {
			delete(l.relations, r.id)
			return true
		}
		return false
	})
}

type createRelationBody struct {
	LocationID     string `json:"locationId"`
	AssociationID  string `json:"associationId"`
	FirstRecordID  string `json:"firstRecordId"`
	SecondRecordID string `json:"secondRecordId"`
}

// checkRelatedRecord verifies a record of a relation exists when the fake
// stores that object's records (custom objects and business); ids of
// contacts and opportunities cannot be checked and are taken as given.
func (l *location) checkRelatedRecord(objectKey, id string) (reply, bool) {
	o := l.objects[objectKey]
	if o == nil || !o.supportsRecords() {
		return reply{}, true
	}
	if r := l.records[id]; r == nil || r.objectKey != objectKey {
		return badRequest("Record %s of %s not found", id, objectKey), false
	}
	return reply{}, true
}

// POST /associations/relations (createRelationReqDto) -> 201 relation
func (s *Server) createRelation(c *reqCtx) reply {
	var body createRelationBody
	if rep, ok := c.decodeBody(&body); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(body.LocationID); !ok {
		return rep
	}
	var msgs []string
	if strings.TrimSpace(body.AssociationID) == "" {
		msgs = append(msgs, "associationId should not be empty")
	}
	if strings.TrimSpace(body.FirstRecordID) == "" {
		msgs = append(msgs, "firstRecordId should not be empty")
	}
	if strings.TrimSpace(body.SecondRecordID) == "" {
		msgs = append(msgs, "secondRecordId should not be empty")
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}
	a := c.loc.associations[body.AssociationID]
	if a == nil {
		return badRequest("Association %s not found", body.AssociationID)
	}
	if rep, ok := c.loc.checkRelatedRecord(a.firstObjectKey, body.FirstRecordID); !ok {
		return rep
	}
	if rep, ok := c.loc.checkRelatedRecord(a.secondObjectKey, body.SecondRecordID); !ok {
		return rep
	}
	for _, r := range c.loc.relOrder {
		if r.associationID == a.id && r.firstRecordID == body.FirstRecordID && r.secondRecordID == body.SecondRecordID {
			return badRequest("Could not create relation: duplicate relation of object Ids for given association %s", a.id)
		}
	}
	now := s.now()
	r := &relation{
		id:              s.ids.objectID(now),
		locationID:      c.loc.id,
		associationID:   a.id,
		firstObjectKey:  a.firstObjectKey,
		firstRecordID:   body.FirstRecordID,
		secondObjectKey: a.secondObjectKey,
		secondRecordID:  body.SecondRecordID,
		createdAt:       now,
	}
	c.loc.relations[r.id] = r
	c.loc.relOrder = append(c.loc.relOrder, r)
	return replyCreated(r.view())
}

// associationIDs reads the associationIds filter in the spellings clients
// send: repeated (associationIds=a&associationIds=b), axios-style
// (associationIds[]=a) or comma separated.
func (c *reqCtx) associationIDs() []string {
	var ids []string
	for _, name := range []string{"associationIds", "associationIds[]"} {
		for _, v := range c.query[name] {
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}

// GET /associations/relations/{recordId}?locationId=&skip=&limit=&associationIds=
// -> {relations, total}: the relations the record is on either side of.
func (s *Server) listRelations(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	skip, limit, rep, ok := c.skipLimit()
	if !ok {
		return rep
	}
	recordID := c.params["recordId"]
	filter := c.associationIDs()
	all := make([]relationView, 0)
	for _, r := range c.loc.relOrder {
		if r.firstRecordID != recordID && r.secondRecordID != recordID {
			continue
		}
		if len(filter) > 0 && !slices.Contains(filter, r.associationID) {
			continue
		}
		all = append(all, r.view())
	}
	return replyOK(map[string]any{"relations": page(all, skip, limit), "total": len(all)})
}

// DELETE /associations/relations/{relationId}?locationId= -> the deleted relation
func (s *Server) deleteRelation(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	r := c.loc.relations[c.params["relationId"]]
	if r == nil {
		return notFound("Relation %s not found", c.params["relationId"])
	}
	c.loc.deleteRelationsOf(func(x *relation) bool { return x == r })
	return replyOK(r.view())
}
