package consul

import (
	"fmt"
	"sync"

	"github.com/ctpl/ctpl/watch"
)

// screen applies the untrusted-strings policy to one answer of one query
// (watch.Screen), logging each value it leaves out once.
type screen struct {
	watch.Screen
	warn  *warnings
	query string
}

// warnings logs each untrusted value once; it remembers a bounded number.
type warnings struct {
	c    *Client
	mu   sync.Mutex
	seen map[string]bool
}

const maxWarnings = 10000

// once logs msg about value, unless it was logged before for the same
// query and field.
func (w *warnings) once(msg, query, field, value string) {
	key := msg + "\x00" + query + "\x00" + field + "\x00" + value
	w.mu.Lock()
	if w.seen == nil || len(w.seen) >= maxWarnings {
		w.seen = map[string]bool{}
	}
	seen := w.seen[key]
	w.seen[key] = true
	w.mu.Unlock()
	if !seen {
		w.c.log.Warn(msg, "query", query, "field", field, "value", fmt.Sprintf("%q", value))
	}
}

// wellFormed reports whether an instance names its node, its service and
// an address (its own or its node's); one that does not, which Consul never
// answers, is left out with a warning, so it is never counted as an
// instance (it would render as "server :0;" and defeat on_empty).
func (s *screen) wellFormed(h *watch.HealthService) bool {
	if h.Node != "" && h.Name != "" && h.Address != "" {
		return true
	}
	s.warn.once("malformed instance left out (no node, service name or address)", s.query, "instance",
		fmt.Sprintf("node=%q service=%q id=%q address=%q", h.Node, h.Name, h.ID, h.Address))
	return false
}

// screen returns the screen for one answer of the query spec.
func (c *Client) screen(spec watch.Spec) *screen {
	s := &screen{warn: &c.warnings, query: spec.String()}
	s.Screen = watch.Screen{Policy: c.policy, Format: c.format, Warn: func(field, value string) {
		s.warn.once("untrusted registry string left out", s.query, field, value)
	}}
	return s
}
