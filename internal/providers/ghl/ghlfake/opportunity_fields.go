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

// AddPipeline adds an opportunity pipeline with the named stages, in
// order (HighLevel's API cannot create pipelines: its UI does), and
// returns the pipeline's id and its stages' ids.
func (s *Server) AddPipeline(locationID, name string, stages ...string) (string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.ensureLocation(locationID)
	p := &pipeline{ID: s.ids.shortID(), Name: name, LocationID: loc.id}
	ids := make([]string, len(stages))
	for i, st := range stages {
		ids[i] = s.ids.shortID()
		p.Stages = append(p.Stages, pipelineStage{ID: ids[i], Name: st, Position: i, ShowInFunnel: true, ShowInPieChart: true})
	}
	st := loc.crmState()
	st.pipelines = append(st.pipelines, p)
	return p.ID, ids
}
