package template

import (
	"bytes"
	"fmt"
	"slices"
)

// executionFuncs are bound to the execution in progress: the scratchpad,
// fresh for every Execute, and executeTemplate.
func (t *Template) executionFuncs() map[string]any {
	return map[string]any{
		"scratch":         t.scratch,
		"executeTemplate": t.executeTemplate,
		"loop":            t.loop,
	}
}

// scratch returns the scratchpad of the execution in progress, creating it
// on first use.
func (t *Template) scratch() *scratchpad {
	if t.run.scratch == nil {
		t.run.scratch = &scratchpad{values: make(map[string]any)}
	}
	return t.run.scratch
}

// executeTemplate runs the template called name, defined in the same file
// with {{ define }}, and returns its output. The optional data becomes dot;
// without it dot is nil. Calls nest at most [MaxExecuteDepth] deep: a
// template calling itself without end fails the execution naming it.
func (t *Template) executeTemplate(name string, data ...any) (string, error) {
	r := t.run
	if err := r.guard.check(); err != nil {
		return "", err
	}
	if r.depth >= MaxExecuteDepth {
		r.guard.stop(fmt.Errorf("%s: %w: executeTemplate %q nested more than %d deep (a template calling itself without end?)",
			t.name, ErrLimit, name, MaxExecuteDepth))
		return "", r.guard.check()
	}
	r.depth++
	defer func() { r.depth-- }()
	var dot any
	switch len(data) {
	case 0:
	case 1:
		dot = data[0]
	default:
		return "", fmt.Errorf("executeTemplate: wrong number of arguments, expected 1 or 2, but got %d", len(data)+1)
	}
	var b bytes.Buffer
	if err := t.tmpl.ExecuteTemplate(t.writer(&b), name, dot); err != nil {
		if lerr := r.guard.check(); lerr != nil {
			return "", lerr // not wrapped again at every level it passes
		}
		return "", fmt.Errorf("executeTemplate: %w", err)
	}
	return b.String(), nil
}

// scratchpad is what `scratch` returns: a map for a template to keep values
// in while it runs. Its methods are called from templates, as in
// {{ scratch.Set "k" 1 }}; those that store return "" so that they print
// nothing. It needs no lock: one execution uses it, from one goroutine.
type scratchpad struct {
	values map[string]any
}

// Key reports whether a value, even nil, is stored at k.
func (s *scratchpad) Key(k string) bool {
	_, ok := s.values[k]
	return ok
}

// Get returns the value stored at k, or nil.
func (s *scratchpad) Get(k string) any { return s.values[k] }

// Set stores v at k, replacing any value there.
func (s *scratchpad) Set(k string, v any) string {
	s.values[k] = v
	return ""
}

// SetX stores v at k unless a value is there already.
func (s *scratchpad) SetX(k string, v any) string {
	if _, ok := s.values[k]; !ok {
		s.values[k] = v
	}
	return ""
}

// MapSet stores v at key mk of the map stored at k, creating the map if k
// holds nothing. It is an error when k holds something other than a map.
func (s *scratchpad) MapSet(k, mk string, v any) (string, error) {
	return s.mapSet("MapSet", k, mk, v, true)
}

// MapSetX is MapSet that leaves an existing value at mk alone.
func (s *scratchpad) MapSetX(k, mk string, v any) (string, error) {
	return s.mapSet("MapSetX", k, mk, v, false)
}

// mapSet implements MapSet and MapSetX.
func (s *scratchpad) mapSet(fn, k, mk string, v any, replace bool) (string, error) {
	if _, ok := s.values[k]; !ok {
		s.values[k] = make(map[string]any)
	}
	m, ok := s.values[k].(map[string]any)
	if !ok {
		return "", fmt.Errorf("scratch.%s: %q is not a map", fn, k)
	}
	if _, exists := m[mk]; replace || !exists {
		m[mk] = v
	}
	return "", nil
}

// MapValues returns the values of the map stored at k, sorted by their keys,
// or nil when k holds no map.
func (s *scratchpad) MapValues(k string) []any {
	m, ok := s.values[k].(map[string]any)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	out := make([]any, len(keys))
	for i, key := range keys {
		out[i] = m[key]
	}
	return out
}
