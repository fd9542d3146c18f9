package ghlfake

import (
	"strconv"
	"strings"
	"time"
)

// businessInput is CreateBusinessDto / UpdateBusinessDto.
type businessInput struct {
	LocationID  *string `json:"locationId"`
	Name        *string `json:"name"`
	Phone       *string `json:"phone"`
	Email       *string `json:"email"`
	Website     *string `json:"website"`
	Address     *string `json:"address"`
	City        *string `json:"city"`
	State       *string `json:"state"`
	PostalCode  *string `json:"postalCode"`
	Country     *string `json:"country"`
	Description *string `json:"description"`
}

func (in *businessInput) apply(b *business) {
	setStr(&b.Name, in.Name)
	setStr(&b.Phone, in.Phone)
	setStr(&b.Email, in.Email)
	setStr(&b.Website, in.Website)
	setStr(&b.Address, in.Address)
	setStr(&b.City, in.City)
	setStr(&b.State, in.State)
	setStr(&b.PostalCode, in.PostalCode)
	setStr(&b.Country, in.Country)
	setStr(&b.Description, in.Description)
}

func (in *businessInput) validate(create bool) (reply, bool) {
	var msgs []string
	if (create || in.Name != nil) && strings.TrimSpace(deref(in.Name)) == "" {
		msgs = append(msgs, "name should not be empty")
	}
	if e := deref(in.Email); e != "" && !looksLikeEmail(e) {
		msgs = append(msgs, "email must be an email")
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...), false
	}
	return reply{}, true
}

func (s *Server) newBusiness(loc *location, id, token string, in *businessInput) *business {
	now := s.now()
	if id == "" {
		id = s.ids.objectID(now)
	}
	by := actorFor(token, now)
	b := &business{ID: id, LocationID: loc.id, CreatedAt: now, UpdatedAt: now, CreatedBy: by, UpdatedBy: by}
	in.apply(b)
	loc.crmState().businesses[id] = b
	return b
}

// POST /businesses/ -> 201 UpdateBusinessResponseDto {success, buiseness} (sic).
func (s *Server) createBusiness(c *reqCtx) reply {
	var in businessInput
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	if rep, ok := c.checkLocation(deref(in.LocationID)); !ok {
		return rep
	}
	if rep, ok := in.validate(true); !ok {
		return rep
	}
	b := s.newBusiness(c.loc, "", c.token, &in)
	return replyCreated(map[string]any{"success": true, "buiseness": b.json()})
}

// GET /businesses/?locationId=&limit=&skip= -> GetBusinessByLocationResponseDto {businesses}.
func (s *Server) listBusinesses(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	limit, skip := 100, 0
	var msgs []string
	if v := c.query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			msgs = append(msgs, "limit must be a positive number")
		}
		limit = n
	}
	if v := c.query.Get("skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			msgs = append(msgs, "skip must not be less than 0")
		}
		skip = n
	}
	if len(msgs) > 0 {
		return unprocessable(msgs...)
	}
	list := sortedByTime(c.loc.crmState().businesses, func(b *business) (time.Time, string) { return b.CreatedAt, b.ID })
	out := []businessJSON{}
	for i := skip; i < len(list) && len(out) < limit; i++ {
		out = append(out, list[i].json())
	}
	return replyOK(map[string]any{"businesses": out})
}

func (s *Server) businessOf(c *reqCtx) (*business, reply, bool) {
	b := c.loc.crmState().businesses[c.params["businessId"]]
	if b == nil {
		return nil, notFound("Business not found"), false
	}
	return b, reply{}, true
}

// GET /businesses/{businessId} -> GetBusinessByIdResponseDto {business}.
func (s *Server) getBusiness(c *reqCtx) reply {
	b, rep, ok := s.businessOf(c)
	if !ok {
		return rep
	}
	return replyOK(map[string]any{"business": b.json()})
}

// PUT /businesses/{businessId} -> UpdateBusinessResponseDto {success, buiseness} (sic).
func (s *Server) updateBusiness(c *reqCtx) reply {
	b, rep, ok := s.businessOf(c)
	if !ok {
		return rep
	}
	var in businessInput
	if rep, ok := c.decodeBody(&in); !ok {
		return rep
	}
	if in.LocationID != nil {
		return unprocessable("property locationId should not exist")
	}
	if rep, ok := in.validate(false); !ok {
		return rep
	}
	in.apply(b)
	now := s.now()
	b.UpdatedAt, b.UpdatedBy = now, actorFor(c.token, now)
	return replyOK(map[string]any{"success": true, "buiseness": b.json()})
}

// DELETE /businesses/{businessId} -> DeleteBusinessResponseDto {success}.
// Contacts linked to it lose their businessId.
func (s *Server) deleteBusiness(c *reqCtx) reply {
	b, rep, ok := s.businessOf(c)
	if !ok {
		return rep
	}
	st := c.loc.crmState()
	delete(st.businesses, b.ID)
	for _, ct := range st.contacts {
		if ct.BusinessID == b.ID {
			ct.BusinessID = ""
		}
	}
	return replyOK(map[string]any{"success": true})
}

// ---------------------------------------------------------------------------
// Users (read-only here; AddUser and SeedCRM create them)

// GET /users/?locationId= -> LocationSuccessfulResponseDto {users}.
func (s *Server) listUsers(c *reqCtx) reply {
	if rep, ok := c.checkQueryLocation(); !ok {
		return rep
	}
	out := []userJSON{}
	for _, u := range c.loc.crmState().userOrder {
		out = append(out, u.json())
	}
	return replyOK(map[string]any{"users": out})
}

// GET /users/{userId} -> UserSuccessfulResponseDto (the user, unwrapped).
func (s *Server) getUser(c *reqCtx) reply {
	u := c.loc.crmState().users[c.params["userId"]]
	if u == nil {
		return notFound("User not found")
	}
	return replyOK(u.json())
}

// User is a user of a location, for AddUser.
type User struct {
	ID, FirstName, LastName, Email, Phone string
	// Role is "admin" or "user" (default "user").
	Role string
}

// AddUser adds (or replaces) a user of the location; an empty ID gets one.
// It returns the user's id.
func (s *Server) AddUser(locationID string, u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUser(s.ensureLocation(locationID), u)
}

func (s *Server) addUser(loc *location, u User) string {
	if u.ID == "" {
		u.ID = s.ids.shortID()
	}
	if u.Role == "" {
		u.Role = "user"
	}
	st := loc.crmState()
	nu := &user{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, Phone: u.Phone,
		Role: u.Role, Locations: []string{loc.id}}
	if old := st.users[u.ID]; old != nil {
		*old = *nu
		return u.ID
	}
	st.users[u.ID] = nu
	st.userOrder = append(st.userOrder, nu)
	return u.ID
}
