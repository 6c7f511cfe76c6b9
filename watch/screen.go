package watch

import "fmt"

// Screen applies an UntrustedPolicy to the records of one answer. Every
// adapter screens what it reads with it, so a template sees the same
// records whether they came from Consul or from a data file.
//
// It covers every field of a record that names or addresses something
// (names, IDs, addresses, tags, metadata, statuses). A check's Output and
// Notes, and its Definition (URL, headers, body), are not screened: output
// is multi-line by nature and written by whatever the check probes, so
// screening it would drop healthy instances. Templates that write them into
// a config must pass them through a guard (nginxQuote, haproxyQuote, toJSON)
// or test them first.
type Screen struct {
	Policy UntrustedPolicy
	Format FormatCharPolicy
	// Warn is told of each value left out (nil: nobody).
	Warn func(field, value string)
	// Err is the first untrusted value, under UntrustedError.
	Err error
}

// OK reports whether every value is trusted. An untrusted one is reported
// to Warn and, under UntrustedError, recorded in Err.
func (s *Screen) OK(field string, values ...string) bool {
	if s.Policy == UntrustedAllow {
		return true
	}
	for _, v := range values {
		if !UntrustedWith(v, s.Format) {
			continue
		}
		if s.Policy == UntrustedError {
			if s.Err == nil {
				s.Err = fmt.Errorf("untrusted %s %q (control or format characters, or invalid UTF-8)", field, v)
			}
			return false
		}
		if s.Warn != nil {
			s.Warn(field, v)
		}
		return false
	}
	return true
}

// OKMap checks the keys and values of m.
func (s *Screen) OKMap(field string, m map[string]string) bool {
	for k, v := range m {
		if s.Policy == UntrustedAllow || !UntrustedWith(k, s.Format) && !UntrustedWith(v, s.Format) {
			continue // trusted: no field name to build
		}
		if !s.OK(field+" key", k) || !s.OK(field+"["+k+"]", v) {
			return false
		}
	}
	return true
}

// Keep keeps the trusted elements of list.
func (s *Screen) Keep(field string, list []string) []string {
	out := list[:0:0]
	for _, v := range list {
		if s.OK(field, v) {
			out = append(out, v)
		}
	}
	return out
}

// HealthTrusted reports whether an instance may reach templates.
func (s *Screen) HealthTrusted(h *HealthService) bool {
	ok := s.OK("node", h.Node, h.NodeID) && s.OK("address", h.Address, h.NodeAddress) &&
		s.OK("service", h.Name) && s.OK("service ID", h.ID) &&
		s.OK("tag", h.Tags...) && s.OKMap("service meta", h.ServiceMeta) && s.OKMap("node meta", h.NodeMeta) &&
		s.OKMap("tagged address", h.NodeTaggedAddresses)
	for k, a := range h.ServiceTaggedAddresses {
		ok = ok && s.OK("service tagged address", k, a.Address)
	}
	for _, c := range h.Checks {
		ok = ok && s.OK("check", c.Node, c.CheckID, c.Name, c.Status, c.Type, c.ServiceID, c.ServiceName,
			c.Namespace, c.Partition, c.PeerName) && s.OK("check service tag", c.ServiceTags...)
	}
	return ok
}

// NodeTrusted reports whether a node may reach templates.
func (s *Screen) NodeTrusted(n *Node) bool {
	return s.OK("node", n.Node, n.ID, n.Datacenter) && s.OK("address", n.Address) &&
		s.OKMap("node meta", n.Meta) && s.OKMap("tagged address", n.TaggedAddresses)
}

// NodeServiceTrusted reports whether a node's service may reach templates.
func (s *Screen) NodeServiceTrusted(ns *NodeService) bool {
	return s.OK("service", ns.Service, ns.ID) && s.OK("address", ns.Address) &&
		s.OK("tag", ns.Tags...) && s.OKMap("service meta", ns.Meta)
}
