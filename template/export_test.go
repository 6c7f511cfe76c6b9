package template

// IncrementalStats returns how many fragments t has and how many fragment
// iterations its executions reused and ran.
func IncrementalStats(t *Template) (fragments int, reused, ran uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inc != nil {
		fragments = len(t.inc.frags)
	}
	return fragments, t.reused, t.ran
}

// FastCalls returns how many fragment calls of t ran from the change log.
func FastCalls(t *Template) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fastCalls
}

// UsedBuilt returns how many executions of t listed their used queries
// rather than finding them the same as the last execution's.
func UsedBuilt(t *Template) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.usedBuilt
}
