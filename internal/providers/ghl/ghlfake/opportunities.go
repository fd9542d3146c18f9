package ghlfake

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// opportunityStatuses are the statuses an opportunity can have; "all" is in
// the spec's enum but only means something as a search filter.
var opportunityStatuses = map[string]bool{"open": true, "won": true, "lost": true, "abandoned": true}

const statusEnumMessage = "status must be one of the following values: open, won, lost, abandoned, all"

// opportunityInput is CreateDto / UpdateOpportunityDto / UpsertOpportunityDto.
type opportunityInput struct {
	ID                   *string       `json:"id"`
	LocationID           *string       `json:"locationId"`
	PipelineID           *string       `json:"pipelineId"`
	PipelineStageID      *string       `json:"pipelineStageId"`
	Name                 *string       `json:"name"`
	Status               *string       `json:"status"`
	ContactID            *string       `json:"contactId"`
	MonetaryValue        *json.Number  `json:"monetaryValue"`
	AssignedTo           *string       `json:"assignedTo"`
	Source               *string       `json:"source"`
	LostReasonID         *string       `json:"lostReasonId"`
	CustomFields         []customInput `json:"customFields"`
	Followers            []string      `json:"followers"`
	IsRemoveAllFollowers *bool         `json:"isRemoveAllFollowers"`
	FollowersActionType  *string       `json:"followersActionType"`
}

// validate checks enums and references; required fields are checked by the
// caller, which knows which apply.
func (s *Server) validateOpportunity(c *reqCtx, in *opportunityInput, cur *opportunity) (reply, bool) {
	var msgs []string
	if in.Status != nil && !opportunityStatuses[*in.Status] {
		msgs = append(msgs, statusEnumMessage)
	}
	if in.MonetaryValue != nil {
		if _, err := in.MonetaryValue.Float64(); err != nil {
			msgs = append(msgs, "monetaryValue must be a number conforming to the specified constraints")
		}
	}
	if in.FollowersActionType != nil && *in.FollowersActionType != "add" && *in.FollowersActionType != "remove" {
		msgs = append(msgs, "followersActionType must be one of the following values: add, remove")
	}
	_, cfMsgs := customValues(in.CustomFields)
	msgs = append(msgs, cfMsgs...)
	if len(msgs) > 0 {
		return unprocessable(msgs...), false
	}
	st := c.loc.crmState()
	pipelineID := deref(in.PipelineID)
	if pipelineID == "" && cur != nil {
		pipelineID = cur.PipelineID
	}
	p := st.pipelineByID(pipelineID)
	if pipelineID != "" && p == nil {
		return badRequest("Pipeline not found: %s", pipelineID), false
	}
	if stage := deref(in.PipelineStageID); stage != "" && p != nil && !p.hasStage(stage) {
		return badRequest("Pipeline stage %s is not in pipeline %s", stage, pipelineID), false
	}
	if id := deref(in.ContactID); id != "" && st.contacts[id] == nil {
		return badRequest("Contact not found: %s", id), false
	}
	if id := deref(in.AssignedTo); id != "" && st.users[id] == nil {
		return badRequest("assignedTo: user %s not found in this location", id), false
	}
	return reply{}, true
}

// apply copies the present fields onto the opportunity.
func (in *opportunityInput) apply(o *opportunity, now time.Time) {
	setStr(&o.Name, in.Name)
	setStr(&o.AssignedTo, in.AssignedTo)
	setStr(&o.Source, in.Source)
	setStr(&o.LostReasonID, in.LostReasonID)
	setStr(&o.ContactID, in.ContactID)
	if in.PipelineID != nil && *in.PipelineID != o.PipelineID {
		o.PipelineID = *in.PipelineID
		o.PipelineStageID = ""
	}
	if in.PipelineStageID != nil && *in.PipelineStageID != o.PipelineStageID {
		o.PipelineStageID = *in.PipelineStageID
		o.LastStageChangeAt = now
	}
	if in.Status != nil && *in.Status != o.Status {
		o.Status = *in.Status
		o.LastStatusChangeAt = now
	}
	if in.MonetaryValue != nil {
		o.MonetaryValue, _ = in.MonetaryValue.Float64()
	}
	if in.CustomFields != nil {
		vals, _ := customValues(in.CustomFields)
		o.CustomFields = mergeCustom(o.CustomFields, vals)
	}
	if in.IsRemoveAllFollowers != nil && *in.IsRemoveAllFollowers {
		o.Followers = nil
	}
	if in.Followers != nil {
		if deref(in.FollowersActionType) == "remove" {
			o.Followers = removeAll(o.Followers, in.Followers)
		} else {
			o.Followers = addUnique(o.Followers, in.Followers)
		}
	}
}

func addUnique(cur, add []string) []string {
	out := append([]string(nil), cur...)
	for _, a := range add {
		found := false
		for _, x := range out {
			found = found || x == a
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}

func removeAll(cur, rm []string) []string {
	var out []string
	for _, x := range cur {
		keep := true
		for _, r := range rm {
			keep = keep && x != r
		}
		if keep {
			out = append(out, x)
		}
	}
	return out
}

// newOpportunity stores an empty opportunity; a missing stage becomes the
// pipeline's first.
func (s *Server) newOpportunity(loc *location, id string, in *opportunityInput) *opportunity {
	now := s.now()
	if id == "" {
		id = s.ids.shortID()
	}
	o := &opportunity{ID: id, LocationID: loc.id, Status: "open", CreatedAt: now, UpdatedAt: now,
		LastStatusChangeAt: now, LastStageChangeAt: now}
	in.apply(o, now)
	st := loc.crmState()
	if p := st.pipelineByID(o.PipelineID); p != nil && o.PipelineStageID == "" && len(p.Stages) > 0 {
		o.PipelineStageID = p.Stages[0].ID
	}
	st.opportunities[id] = o
	return o
}

// POST /opportunities/ -> 201 GetPostOpportunitySuccessfulResponseDto {opportunity}.
func (s *Server) createOpportunity(c *reqCtx) reply {
	var in opportunityInput
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(deref(in.LocationID)); !ok {
		return rep
	}
	var msgs []string
	for _, req := range []struct {
		v    *string
		name string
	}{{in.PipelineID, "pipelineId"}, {in.Name, "name"}, {in.Status, "status"}, {in.ContactID, "contactId"}} {
		if strings.TrimSpace(deref(req.v)) == "" {
			msgs = append(msgs, req.name+" should not be empty")
		}
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}
	if rep, ok := s.validateOpportunity(c, &in, nil); !ok {
		return rep
	}
	o := s.newOpportunity(c.loc, "", &in)
	return replyCreated(map[string]any{"opportunity": c.loc.crmState().opportunityJSON(o)})
}

func (s *Server) opportunityOf(c *reqCtx) (*opportunity, reply, bool) {
	o := c.loc.crmState().opportunities[c.params["id"]]
	if o == nil {
		return nil, notFound("Opportunity not found"), false
	}
	return o, reply{}, true
}

// GET /opportunities/{id} -> {opportunity}.
func (s *Server) getOpportunity(c *reqCtx) reply {
	o, rep, ok := s.opportunityOf(c)
	if !ok {
		return rep
	}
	return replyOK(map[string]any{"opportunity": c.loc.crmState().opportunityJSON(o)})
}

// PUT /opportunities/{id} -> {opportunity}.
func (s *Server) updateOpportunity(c *reqCtx) reply {
	o, rep, ok := s.opportunityOf(c)
	if !ok {
		return rep
	}
	var in opportunityInput
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	if in.LocationID != nil || in.ContactID != nil {
		var msgs []string
		if in.LocationID != nil {
			msgs = append(msgs, "property locationId should not exist")
		}
		if in.ContactID != nil {
			msgs = append(msgs, "property contactId should not exist")
		}
		return unprocessable(msgs...)
	}
	if rep, ok := s.validateOpportunity(c, &in, o); !ok {
		return rep
	}
	now := s.now()
	in.apply(o, now)
	o.UpdatedAt = now
	return replyOK(map[string]any{"opportunity": c.loc.crmState().opportunityJSON(o)})
}

// PUT /opportunities/{id}/status -> {succeded}.
func (s *Server) updateOpportunityStatus(c *reqCtx) reply {
	o, rep, ok := s.opportunityOf(c)
	if !ok {
		return rep
	}
	var in struct {
		Status       *string `json:"status"`
		LostReasonID *string `json:"lostReasonId"`
	}
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	switch {
	case in.Status == nil || *in.Status == "":
		return unprocessable("status should not be empty", statusEnumMessage)
	case !opportunityStatuses[*in.Status]:
		return unprocessable(statusEnumMessage)
	}
	now := s.now()
	if *in.Status != o.Status {
		o.Status = *in.Status
		o.LastStatusChangeAt = now
	}
	setStr(&o.LostReasonID, in.LostReasonID)
	o.UpdatedAt = now
	return replyOK(map[string]any{"succeded": true})
}

// DELETE /opportunities/{id} -> {succeded}.
func (s *Server) deleteOpportunity(c *reqCtx) reply {
	o, rep, ok := s.opportunityOf(c)
	if !ok {
		return rep
	}
	delete(c.loc.crmState().opportunities, o.ID)
	return replyOK(map[string]any{"succeded": true})
}

// POST /opportunities/upsert -> UpsertOpportunitySuccessfulResponseDto
// {opportunity, new}. It matches on id, else on (contactId, pipelineId).
func (s *Server) upsertOpportunity(c *reqCtx) reply {
	var in opportunityInput
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(deref(in.LocationID)); !ok {
		return rep
	}
	if deref(in.PipelineID) == "" {
		return unprocessable("pipelineId should not be empty")
	}
	st := c.loc.crmState()
	var cur *opportunity
	if id := deref(in.ID); id != "" {
		if cur = st.opportunities[id]; cur == nil {
			return badRequest("Opportunity not found: %s", id)
		}
	} else if cid := deref(in.ContactID); cid != "" {
		for _, o := range st.sortedOpportunities() {
			if o.ContactID == cid && o.PipelineID == *in.PipelineID {
				cur = o
				break
			}
		}
	}
	if cur == nil {
		var msgs []string
		if deref(in.ContactID) == "" {
			msgs = append(msgs, "contactId should not be empty")
		}
		if deref(in.Name) == "" {
			msgs = append(msgs, "name should not be empty")
		}
		if len(msgs) > 0 {
			return unprocessable(msgs...)
		}
	}
	if rep, ok := s.validateOpportunity(c, &in, cur); !ok {
		return rep
	}
	if cur == nil {
		o := s.newOpportunity(c.loc, "", &in)
		return replyOK(map[string]any{"opportunity": st.opportunityJSON(o), "new": true})
	}
	now := s.now()
	in.apply(cur, now)
	cur.UpdatedAt = now
	return replyOK(map[string]any{"opportunity": st.opportunityJSON(cur), "new": false})
}

// GET /opportunities/search?location_id=... -> SearchSuccessfulResponseDto
// {opportunities, meta, aggregations}.
func (s *Server) searchOpportunities(c *reqCtx) reply {
	q := c.query
	if rep, ok := c.checkLocation(q.Get("location_id")); !ok {
		if r, isUnprocessable := rep.body.(unprocessableBody); isUnprocessable {
			r.Message = []string{"location_id should not be empty"}
			rep.body = r
		}
		return rep
	}
	limit, page := 20, 1
	var msgs []string
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			msgs = append(msgs, "limit must be a number conforming to the specified constraints")
		case n < 1:
			msgs = append(msgs, "limit must not be less than 1")
		case n > 100:
			msgs = append(msgs, "limit must not be greater than 100")
		default:
			limit = n
		}
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			msgs = append(msgs, "page must not be less than 1")
		} else {
			page = n
		}
	}
	status := q.Get("status")
	if status != "" && status != "all" && !opportunityStatuses[status] {
		msgs = append(msgs, statusEnumMessage)
	}
	var startAfter int64
	hasCursor := q.Get("startAfterId") != ""
	if v := q.Get("startAfter"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			msgs = append(msgs, "startAfter must be epoch milliseconds")
		}
		startAfter = n
	} else if hasCursor {
		msgs = append(msgs, "startAfter should not be empty when startAfterId is given")
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}
	st := c.loc.crmState()
	text := strings.ToLower(strings.TrimSpace(q.Get("q")))
	var matched []*opportunity
	for _, o := range st.sortedOpportunities() {
		if (q.Get("pipeline_id") != "" && o.PipelineID != q.Get("pipeline_id")) ||
			(q.Get("pipeline_stage_id") != "" && o.PipelineStageID != q.Get("pipeline_stage_id")) ||
			(q.Get("contact_id") != "" && o.ContactID != q.Get("contact_id")) ||
			(q.Get("assigned_to") != "" && o.AssignedTo != q.Get("assigned_to")) ||
			(q.Get("id") != "" && o.ID != q.Get("id")) ||
			(status != "" && status != "all" && o.Status != status) {
			continue
		}
		if text != "" {
			hit := strings.Contains(strings.ToLower(o.Name), text)
			if ct := st.contacts[o.ContactID]; ct != nil && !hit {
				hit = contactMatchesQuery(ct, text)
			}
			if !hit {
				continue
			}
		}
		if !inDateRange(o.CreatedAt, q.Get("date"), q.Get("endDate")) {
			continue
		}
		matched = append(matched, o)
	}
	start := (page - 1) * limit
	if hasCursor {
		start = len(matched)
		id := q.Get("startAfterId")
		for i, o := range matched {
			m := o.CreatedAt.UnixMilli()
			if m > startAfter || (m == startAfter && o.ID > id) {
				start = i
				break
			}
		}
	}
	out := []opportunityJSON{}
	for i := start; i < len(matched) && len(out) < limit; i++ {
		out = append(out, st.opportunityJSON(matched[i]))
	}
	meta := map[string]any{"total": len(matched), "currentPage": page}
	if page > 1 && !hasCursor {
		meta["prevPage"] = page - 1
	}
	if end := start + len(out); end < len(matched) && len(out) > 0 {
		last := matched[end-1]
		meta["startAfterId"] = last.ID
		meta["startAfter"] = last.CreatedAt.UnixMilli()
		next := c.r.URL.Query()
		next.Del("page")
		next.Set("startAfterId", last.ID)
		next.Set("startAfter", strconv.FormatInt(last.CreatedAt.UnixMilli(), 10))
		meta["nextPageUrl"] = "http://" + c.r.Host + "/opportunities/search?" + next.Encode()
		if !hasCursor {
			meta["nextPage"] = page + 1
		}
	}
	return replyOK(map[string]any{"opportunities": out, "meta": meta, "aggregations": map[string]any{}})
}

// inDateRange filters on date / endDate (mm-dd-yyyy, the spec's example
// format, or YYYY-MM-DD / RFC 3339), inclusive, by day.
func inDateRange(t time.Time, from, to string) bool {
	parse := func(s string) (time.Time, bool) {
		for _, layout := range []string{"01-02-2006", "2006-01-02", time.RFC3339} {
			if d, err := time.Parse(layout, s); err == nil {
				return d, true
			}
		}
		return time.Time{}, false
	}
	if d, ok := parse(from); ok && t.Before(d) {
		return false
	}
	if d, ok := parse(to); ok && !t.Before(d.AddDate(0, 0, 1)) {
		return false
	}
	return true
}

// GET /opportunities/pipelines?locationId= -> {pipelines}; stages in order.
func (s *Server) listPipelines(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	out := []pipelineJSON{}
	for _, p := range c.loc.crmState().pipelines {
		out = append(out, pipelineJSON{ID: p.ID, Name: p.Name, Stages: append([]pipelineStage{}, p.Stages...),
			ShowInFunnel: true, ShowInPieChart: true, LocationID: p.LocationID, ColorRenderMode: "dot"})
	}
	return replyOK(map[string]any{"pipelines": out})
}
