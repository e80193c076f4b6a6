package ghreport

// Pending reports whether Update is holding back a progress view.
func (r *Reporter) Pending() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending != ""
}
