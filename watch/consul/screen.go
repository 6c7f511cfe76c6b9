package consul

import (
	"fmt"
	"sync"

	"github.com/ctpl/ctpl/watch"
)

// screen applies the untrusted-strings policy to one answer of one query.
//
// It covers every field of a record that names or addresses something
// (names, IDs, addresses, tags, metadata, statuses). A check's Output and
// Notes, and its Definition (URL, headers, body), are not screened: output
// is multi-line by nature and written by whatever the check probes, so
// screening it would drop healthy instances. Templates that write them into
// a config must pass them through a guard (nginxQuote, haproxyQuote, toJSON)
// or test them first.
type screen struct {
	policy watch.UntrustedPolicy
	format watch.FormatCharPolicy
	warn   *warnings
	query  string
	err    error // the first untrusted value, under UntrustedError
}

// ok reports whether every value is trusted. An untrusted one is logged
// (once per query, field and value) and, under UntrustedError, recorded.
func (s *screen) ok(field string, values ...string) bool {
	if s.policy == watch.UntrustedAllow {
		return true
	}
	for _, v := range values {
		if !watch.UntrustedWith(v, s.format) {
			continue
		}
		if s.policy == watch.UntrustedError {
			if s.err == nil {
				s.err = fmt.Errorf("untrusted %s %q (control or format characters, or invalid UTF-8)", field, v)
			}
			return false
		}
		s.warn.once("untrusted registry string left out", s.query, field, v)
		return false
	}
	return true
}

// okMap checks the keys and values of m.
func (s *screen) okMap(field string, m map[string]string) bool {
	for k, v := range m {
		if s.policy == watch.UntrustedAllow || !watch.UntrustedWith(k, s.format) && !watch.UntrustedWith(v, s.format) {
			continue // trusted: no field name to build
		}
		if !s.ok(field+" key", k) || !s.ok(field+"["+k+"]", v) {
			return false
		}
	}
	return true
}

// keep keeps the trusted elements of list.
func (s *screen) keep(field string, list []string) []string {
	out := list[:0:0]
	for _, v := range list {
		if s.ok(field, v) {
			out = append(out, v)
		}
	}
	return out
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

// healthTrusted reports whether an instance may reach templates.
func (s *screen) healthTrusted(h *watch.HealthService) bool {
	ok := s.ok("node", h.Node, h.NodeID) && s.ok("address", h.Address, h.NodeAddress) &&
		s.ok("service", h.Name) && s.ok("service ID", h.ID) &&
		s.ok("tag", h.Tags...) && s.okMap("service meta", h.ServiceMeta) && s.okMap("node meta", h.NodeMeta) &&
		s.okMap("tagged address", h.NodeTaggedAddresses)
	for k, a := range h.ServiceTaggedAddresses {
		ok = ok && s.ok("service tagged address", k, a.Address)
	}
	for _, c := range h.Checks {
		ok = ok && s.ok("check", c.Node, c.CheckID, c.Name, c.Status, c.Type, c.ServiceID, c.ServiceName,
			c.Namespace, c.Partition, c.PeerName) && s.ok("check service tag", c.ServiceTags...)
	}
	return ok
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

// nodeTrusted reports whether a node may reach templates.
func (s *screen) nodeTrusted(n *watch.Node) bool {
	return s.ok("node", n.Node, n.ID, n.Datacenter) && s.ok("address", n.Address) &&
		s.okMap("node meta", n.Meta) && s.okMap("tagged address", n.TaggedAddresses)
}

// nodeServiceTrusted reports whether a node's service may reach templates.
func (s *screen) nodeServiceTrusted(ns *watch.NodeService) bool {
	return s.ok("service", ns.Service, ns.ID) && s.ok("address", ns.Address) &&
		s.ok("tag", ns.Tags...) && s.okMap("service meta", ns.Meta)
}

// screen returns the screen for one answer of the query spec.
func (c *Client) screen(spec watch.Spec) *screen {
	return &screen{policy: c.policy, format: c.format, warn: &c.warnings, query: spec.String()}
}
