package ghlfake

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Demo object seeded by SeedDemo.
const (
	DemoObjectKey = "custom_objects.pet"
	demoSeedToken = "ghlfake-seed" //nolint:gosec // the fake's own internal seeding token, not a credential
)

type demoFieldDef struct {
	name, label, dataType string
	options               []option
}

var demoFields = []demoFieldDef{
	// name is the primary display property, created with the object.
	{name: "species", label: "Species", dataType: "SINGLE_OPTIONS", options: []option{
		{Key: "dog", Label: "Dog"}, {Key: "cat", Label: "Cat"}, {Key: "bird", Label: "Bird"},
	}},
	{name: "age", label: "Age", dataType: "NUMERICAL"},
	{name: "price", label: "Price", dataType: "MONETORY"},
	// CHECKBOX is a multi-select list in GHL.
	{name: "vaccinated", label: "Vaccinated", dataType: "CHECKBOX", options: []option{
		{Key: "rabies", Label: "Rabies"}, {Key: "distemper", Label: "Distemper"}, {Key: "parvo", Label: "Parvo"},
	}},
	{name: "birthday", label: "Birthday", dataType: "DATE"},
	{name: "notes", label: "Notes", dataType: "LARGE_TEXT"},
	{name: "email", label: "Owner Email", dataType: "EMAIL"},
	{name: "phone", label: "Owner Phone", dataType: "PHONE"},
	{name: "tags", label: "Tags", dataType: "MULTIPLE_OPTIONS", options: []option{
		{Key: "friendly", Label: "Friendly"}, {Key: "playful", Label: "Playful"},
		{Key: "senior", Label: "Senior"}, {Key: "rescue", Label: "Rescue"},
	}},
}

var demoNames = []string{"Buddy", "Luna", "Max", "Bella", "Charlie", "Coco", "Rocky", "Daisy", "Milo", "Kiwi"}

// SeedDemo creates, in the location (added if needed), the sample custom
// object custom_objects.pet (labels Pet/Pets, primary display property
// "name" of type TEXT) with fields of several types — name TEXT, species
// SINGLE_OPTIONS (dog, cat, bird), age NUMERICAL, price MONETORY, vaccinated
// CHECKBOX (rabies, distemper, parvo), birthday DATE, notes LARGE_TEXT,
// email EMAIL, phone PHONE, tags MULTIPLE_OPTIONS (friendly, playful, senior,
// rescue) — and then adds records pets to it. Record i (from 0) is named
// "<Name> <i>" with a name from a fixed list, so searches are predictable.
// Calling it again adds more records to the existing object; if the location
// already has a custom_objects.pet made otherwise, records get only the
// properties it has fields for.
func (s *Server) SeedDemo(locationID string, records int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.ensureLocation(locationID)
	o := loc.object(DemoObjectKey)
	if o == nil {
		now := s.now()
		desc := "Sample custom object seeded by ghlfake"
		o = &object{
			id:                 s.ids.objectID(now),
			key:                DemoObjectKey,
			singular:           "Pet",
			plural:             "Pets",
			description:        &desc,
			primaryDisplayProp: DemoObjectKey + ".name",
			dateAdded:          now,
			updated:            now,
		}
		o.searchableProperties = []string{DemoObjectKey + ".name", DemoObjectKey + ".email"}
		loc.addObject(o)
		o.defaultFolder = s.newFolder(loc, o.key, defaultFolderName, now)
		s.newField(loc, o, "name", "Name", "TEXT", now)
		for _, d := range demoFields {
			f := s.newField(loc, o, d.name, d.label, d.dataType, now)
			f.options = append([]option(nil), d.options...)
		}
	}
	start := len(o.records)
	species := []string{"dog", "cat", "bird"}
	vacc := []string{"rabies", "distemper", "parvo"}
	tags := []string{"friendly", "playful", "senior", "rescue"}
	for n := range records {
		i := start + n
		props := map[string]any{
			"name":       fmt.Sprintf("%s %d", demoNames[i%len(demoNames)], i),
			"species":    species[i%len(species)],
			"age":        json.Number(strconv.Itoa(i % 15)),
			"price":      map[string]any{"currency": "default", "value": json.Number(strconv.Itoa(50 + i%200))},
			"vaccinated": []any{vacc[i%len(vacc)]},
			"birthday":   fmt.Sprintf("20%02d-%02d-%02d", 10+i%14, 1+i%12, 1+i%28),
			"notes":      fmt.Sprintf("Demo pet number %d.", i),
			"email":      fmt.Sprintf("owner%d@example.com", i),
			"phone":      fmt.Sprintf("+1555%07d", i%10000000),
			"tags":       []any{tags[i%len(tags)], tags[(i+1)%len(tags)]},
		}
		for k := range props {
			if o.fieldByName(k) == nil { // an object made by a client may lack some
				delete(props, k)
			}
		}
		s.newRecord(loc, o, props, demoSeedToken)
	}
}
