package ghlfake

// AddOpportunityField adds a custom field of opportunities (fieldKey
// "opportunity.<name>") to the location, as HighLevel's UI does, and
// returns its id: the id opportunities' customFields carry.
func (s *Server) AddOpportunityField(locationID, name, label, dataType string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.ensureLocation(locationID)
	o := loc.object("opportunity")
	if f := o.fieldByKey("opportunity." + name); f != nil {
		return f.id
	}
	return s.newField(loc, o, name, label, dataType, s.now()).id
}
