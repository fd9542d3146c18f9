package ghlfake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Seeded CRM entities (SeedCRM): counts and the sales pipeline's name.
const (
	SeedUsers         = 2
	SeedBusinesses    = 5
	SeedContacts      = 25
	SeedOpportunities = 10
	SeedPipelineName  = "Sales"
)

// seedCRMBase is the dateAdded of the first seeded entity; entity i is
// seeded i hours later, so search order and cursors are stable.
var seedCRMBase = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

var seedStages = []string{"New Lead", "Qualified", "Proposal Sent", "Negotiation", "Closed"}

var seedFirst = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Linus"}
var seedLast = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Torvalds"}

// SeedCRMIDs are the ids SeedCRM gives, by position, so tests and the demo
// can address seeded entities.
type SeedCRMIDs struct {
	Users, Businesses, Contacts, Opportunities []string
	PipelineID                                 string
	StageIDs                                   []string
	// Notes maps a contact id to the ids of its notes.
	Notes map[string][]string
}

// SeedCRMIDsFor computes the ids SeedCRM gives in a location without
// seeding: every id is derived from the location id, the kind and the
// position, so it is the same on every run.
func SeedCRMIDsFor(locationID string) SeedCRMIDs {
	ids := SeedCRMIDs{Notes: map[string][]string{}, PipelineID: seedID(locationID, "pipeline", 0, false)}
	for i := range SeedUsers {
		ids.Users = append(ids.Users, seedID(locationID, "user", i, false))
	}
	for i := range SeedBusinesses {
		ids.Businesses = append(ids.Businesses, seedID(locationID, "business", i, true))
	}
	for i := range SeedContacts {
		ids.Contacts = append(ids.Contacts, seedID(locationID, "contact", i, false))
	}
	for i := range SeedOpportunities {
		ids.Opportunities = append(ids.Opportunities, seedID(locationID, "opportunity", i, false))
	}
	for i := range seedStages {
		ids.StageIDs = append(ids.StageIDs, seedID(locationID, "stage", i, false))
	}
	for i := 0; i < SeedContacts; i += 4 { // every fourth contact has notes
		c := ids.Contacts[i]
		ids.Notes[c] = []string{seedID(locationID, "note", 2*i, false), seedID(locationID, "note", 2*i+1, false)}
	}
	return ids
}

// SeedCRM fills the location (added if needed) with a deterministic CRM:
// two users (an admin and a user), five businesses, 25 contacts (every
// third a customer, the rest leads; every other one assigned to a user,
// every fifth without a business; some with additional emails and phones,
// addresses and tags), the pipeline "Sales" with the stages New Lead,
// Qualified, Proposal Sent, Negotiation, Closed, ten opportunities, two
// per stage (open; in Closed one won and one lost; one abandoned), and two notes on every fourth contact. Ids come from
// SeedCRMIDsFor; timestamps start at 2025-01-06T09:00:00Z, one hour apart.
// Seeding again replaces the seeded entities and leaves others alone.
func (s *Server) SeedCRM(locationID string) SeedCRMIDs {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.ensureLocation(locationID)
	st := loc.crmState()
	ids := SeedCRMIDsFor(locationID)
	at := func(i int) time.Time { return seedCRMBase.Add(time.Duration(i) * time.Hour) }

	s.addUser(loc, User{ID: ids.Users[0], FirstName: "Olivia", LastName: "Owner", Email: "olivia.owner@example.com",
		Phone: "+15550100001", Role: "admin"})
	s.addUser(loc, User{ID: ids.Users[1], FirstName: "Sam", LastName: "Seller", Email: "sam.seller@example.com",
		Phone: "+15550100002", Role: "user"})

	companies := []string{"Acme Corp", "Globex", "Initech", "Umbrella Ltd", "Stark Industries"}
	cities := []struct{ city, state, country, postal string }{
		{"Springfield", "IL", "US", "62701"}, {"Austin", "TX", "US", "73301"}, {"Toronto", "ON", "CA", "M5H 2N2"},
		{"London", "", "GB", "EC1A 1BB"}, {"Berlin", "", "DE", "10115"},
	}
	for i, name := range companies {
		cty := cities[i]
		slug := strings.ToLower(strings.Fields(name)[0])
		b := &business{ID: ids.Businesses[i], LocationID: loc.id, Name: name,
			Phone: fmt.Sprintf("+1555020%04d", i), Email: "info@" + slug + ".example.com",
			Website: "https://" + slug + ".example.com", Address: fmt.Sprintf("%d Main Street", 100+i),
			City: cty.city, State: cty.state, PostalCode: cty.postal, Country: cty.country,
			Description: name + " (seeded by ghlfake)", CreatedAt: at(i), UpdatedAt: at(i)}
		b.CreatedBy = actorFor(demoSeedToken, at(i))
		b.UpdatedBy = b.CreatedBy
		st.businesses[b.ID] = b
	}

	tagSets := [][]string{{"vip"}, {"newsletter"}, {"vip", "newsletter"}, {}, {"referral"}}
	for i := range SeedContacts {
		first, last := seedFirst[i%len(seedFirst)], seedLast[(i*3)%len(seedLast)]
		ct := &contact{ID: ids.Contacts[i], LocationID: loc.id, FirstName: first, LastName: last,
			Name:  first + " " + last,
			Email: fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first), strings.ToLower(last), i),
			Phone: fmt.Sprintf("+1555030%04d", i), Type: "lead", Source: "ghlfake seed",
			Timezone: "America/Chicago", Tags: append([]string{}, tagSets[i%len(tagSets)]...),
			DateAdded: at(i), DateUpdated: at(i)}
		if i%3 == 0 {
			ct.Type = "customer"
		}
		if i%2 == 0 {
			ct.AssignedTo = ids.Users[(i/2)%SeedUsers]
		}
		if i%5 != 4 {
			b := st.businesses[ids.Businesses[i%SeedBusinesses]]
			ct.BusinessID, ct.CompanyName = b.ID, b.Name
		}
		if i%4 == 1 {
			ct.AdditionalEmails = []string{fmt.Sprintf("%s.%d@personal.example.org", strings.ToLower(first), i)}
			ct.AdditionalPhones = []string{fmt.Sprintf("+1555040%04d", i)}
		}
		if i%2 == 1 {
			cty := cities[i%len(cities)]
			ct.Address1 = fmt.Sprintf("%d Elm Street", 10+i)
			ct.City, ct.State, ct.PostalCode, ct.Country = cty.city, cty.state, cty.postal, cty.country
			ct.Website = fmt.Sprintf("https://%s%d.example.net", strings.ToLower(last), i)
		}
		st.contacts[ct.ID] = ct
	}
	for c, noteIDs := range ids.Notes {
		base := st.contacts[c].DateAdded
		for k, id := range noteIDs {
			body := fmt.Sprintf("Call notes %d for %s.", k+1, st.contacts[c].Name)
			st.notes[id] = &note{ID: id, ContactID: c, Body: body, UserID: ids.Users[k%SeedUsers],
				DateAdded: base.Add(time.Duration(k+1) * time.Minute)}
		}
	}

	p := &pipeline{ID: ids.PipelineID, Name: SeedPipelineName, LocationID: loc.id}
	for i, name := range seedStages {
		p.Stages = append(p.Stages, pipelineStage{ID: ids.StageIDs[i], Name: name, Position: i,
			ShowInFunnel: true, ShowInPieChart: true})
	}
	replaced := false
	for i, old := range st.pipelines {
		if old.ID == p.ID {
			st.pipelines[i], replaced = p, true
		}
	}
	if !replaced {
		st.pipelines = append(st.pipelines, p)
	}

	for i := range SeedOpportunities {
		ct := st.contacts[ids.Contacts[i*2]]
		stage := i % len(seedStages)
		status := "open"
		switch {
		case stage == len(seedStages)-1 && i < len(seedStages):
			status = "won"
		case stage == len(seedStages)-1:
			status = "lost"
		case i == 7:
			status = "abandoned"
		}
		t := at(SeedContacts + i)
		st.opportunities[ids.Opportunities[i]] = &opportunity{ID: ids.Opportunities[i], LocationID: loc.id,
			Name:          ct.Name + " - " + []string{"Starter", "Pro", "Enterprise"}[i%3] + " plan",
			MonetaryValue: float64(1000 * (i + 1)), PipelineID: p.ID, PipelineStageID: ids.StageIDs[stage],
			Status: status, Source: "ghlfake seed", AssignedTo: ct.AssignedTo, ContactID: ct.ID,
			CustomFields:       []customValue{{ID: "priority", Value: json.Number(strconv.Itoa(1 + i%3))}},
			LastStatusChangeAt: t, LastStageChangeAt: t, CreatedAt: t, UpdatedAt: t}
	}
	return ids
}
