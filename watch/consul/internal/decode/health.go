package decode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/ctpl/ctpl/watch"
)

// Health decodes the body of /v1/health/service/:s or
// /v1/health/connect/:s straight into instance records: the values
// encoding/json into api.ServiceEntry followed by the conversion the
// adapter made, without the intermediate types. Strings go through in
// (nil: copied). An entry that is null, or lacks its node or service,
// which the api client could not convert, is read as empty parts.
//
// prev holds the entries of the query's last answer (nil: none kept): an
// entry whose JSON text is the same as one there is not decoded again but
// answered with the same record. prev then holds this answer's entries,
// unless decoding fails.
func Health(body []byte, in *Interner, prev *Entries) ([]*watch.HealthService, error) {
	l := &lexer{b: body, in: in}
	if l.null() {
		return []*watch.HealthService{}, nil
	}
	if !l.open('[', "health answer") {
		return nil, cmpErr(l.err, "health answer is not an array")
	}
	out := make([]*watch.HealthService, 0, 16)
	var next Entries
	hint := 0
	for first := true; l.more(']', &first); {
		if l.null() {
			continue
		}
		start := l.pos
		var hs *watch.HealthService
		if prev != nil && len(prev.sums) > 0 {
			// Text equal to an entry decoded before is that entry: it
			// needs neither checking nor decoding, only finding its end.
			if end := valueEnd(l.b, start); end > 0 {
				sum := sumOf(l.b[start:end])
				if hs, hint = prev.find(sum, hint); hs != nil {
					l.pos = end
					next.add(sum, hs)
				}
			}
		}
		if hs == nil {
			hs = l.healthEntry()
			if prev != nil && l.err == nil {
				next.add(sumOf(l.b[start:l.pos]), hs)
			}
		}
		if l.err != nil {
			break
		}
		out = append(out, hs)
	}
	if l.err != nil {
		return nil, l.err
	}
	if prev != nil {
		*prev = next
	}
	return out, nil
}

// valueEnd returns the offset just past the object or array that starts
// at b[i], or -1. It only matches brackets outside strings: the text it
// delimits is trusted only when it equals text that was decoded before.
func valueEnd(b []byte, i int) int {
	if i >= len(b) || b[i] != '{' && b[i] != '[' {
		return -1
	}
	depth := 0
	for i < len(b) {
		if i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:]) == 0x2020202020202020 {
			i += 8
			continue
		}
		switch b[i] {
		case '"':
			j := i + 1
			for {
				k := bytes.IndexByte(b[j:], '"')
				if k < 0 {
					return -1
				}
				j += k
				n := 0 // backslashes before the quote
				for m := j - 1; m > i && b[m] == '\\'; m-- {
					n++
				}
				if n%2 == 0 {
					break
				}
				j++
			}
			i = j
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return -1
}

// Entries keeps the records of one answer by a hash of each entry's
// JSON text, in answer order.
type Entries struct {
	sums []bodySum
	recs []*watch.HealthService
}

func (c *Entries) add(sum bodySum, hs *watch.HealthService) {
	c.sums = append(c.sums, sum)
	c.recs = append(c.recs, hs)
}

// find returns the record of the entry with the given hash, nil when there
// is none, and where to look first for the next entry: answers keep their
// order, so the next entry is usually the one after.
func (c *Entries) find(sum bodySum, hint int) (*watch.HealthService, int) {
	if hint < len(c.sums) && c.sums[hint] == sum {
		return c.recs[hint], hint + 1
	}
	for i, s := range c.sums {
		if s == sum {
			return c.recs[i], i + 1
		}
	}
	return nil, hint
}

func cmpErr(err error, what string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("decode: %w: %s", errSyntax, what)
}

var (
	entryFields   = []string{"Node", "Service", "Checks"}
	nodeFields    = []string{"ID", "Node", "Address", "Datacenter", "TaggedAddresses", "Meta"}
	serviceFields = []string{"Kind", "ID", "Service", "Tags", "Meta", "Port", "Address", "TaggedAddresses",
		"Weights", "Namespace", "Partition"}
	checkFields = []string{"Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID", "ServiceName",
		"ServiceTags", "Type", "Namespace", "Partition", "ExposedPort", "PeerName", "Definition", "CreateIndex",
		"ModifyIndex"}
	definitionFields = []string{"HTTP", "Header", "Method", "Body", "TLSServerName", "TLSSkipVerify", "TCP",
		"TCPUseTLS", "UDP", "GRPC", "OSService", "GRPCUseTLS", "SessionName", "Interval", "Timeout",
		"DeregisterCriticalServiceAfter", "IntervalDuration", "TimeoutDuration",
		"DeregisterCriticalServiceAfterDuration"}
	addressFields = []string{"Address", "Port"}
	weightFields  = []string{"Passing", "Warning"}
)

// entry is one element of the answer being read: the parts that are
// converted once it ends.
type entry struct {
	hs      *watch.HealthService
	svcAddr string
	tags    watch.ServiceTags // sorted
	checks  []*watch.HealthCheck
}

// healthEntry reads one element of the answer.
func (l *lexer) healthEntry() *watch.HealthService {
	e := entry{hs: &watch.HealthService{}, checks: make([]*watch.HealthCheck, 0, 2)}
	l.fields("health entry", entryFields, func(name string) bool { return l.entryField(&e, name) })
	hs := e.hs
	hs.Address = e.svcAddr
	if hs.Address == "" {
		hs.Address = hs.NodeAddress
	}
	hs.Tags = e.tags
	if hs.Tags == nil {
		hs.Tags = watch.ServiceTags{}
	}
	hs.Checks = e.checks
	hs.Status = watch.AggregateStatus(e.checks)
	return hs
}

// entryField reads the value of the entry's field name, false when there
// is no such field.
func (l *lexer) entryField(e *entry, name string) bool {
	switch name {
	case "Node":
		l.fields("Node", nodeFields, func(name string) bool { return l.nodeField(e.hs, name) })
	case "Service":
		l.fields("Service", serviceFields, func(name string) bool { return l.serviceField(e, name) })
	case "Checks":
		e.checks = l.checks(e.checks, e.hs.ID)
	default:
		return false
	}
	return true
}

// nodeField reads the value of the node's field name into hs.
func (l *lexer) nodeField(hs *watch.HealthService, name string) bool {
	switch name {
	case "ID":
		hs.NodeID = l.str(hs.NodeID, "Node.ID")
	case "Node":
		hs.Node = l.str(hs.Node, "Node.Node")
	case "Address":
		hs.NodeAddress = l.str(hs.NodeAddress, "Node.Address")
	case "Datacenter":
		l.skipStr("Node.Datacenter") // consul-template's records do not carry it
	case "TaggedAddresses":
		hs.NodeTaggedAddresses = l.sharedStringMap(hs.NodeTaggedAddresses, "Node.TaggedAddresses")
	case "Meta":
		hs.NodeMeta = l.sharedStringMap(hs.NodeMeta, "Node.Meta")
	default:
		return false
	}
	return true
}

// serviceField reads the value of the service's field name into e.
func (l *lexer) serviceField(e *entry, name string) bool {
	hs := e.hs
	switch name {
	case "Kind": // consul-template's records carry neither these three
		l.skipStr("Service.Kind")
	case "Namespace":
		l.skipStr("Service.Namespace")
	case "Partition":
		l.skipStr("Service.Partition")
	case "ID":
		hs.ID = l.strAs(hs.ID, "", "Service.ID")
	case "Service":
		hs.Name = l.str(hs.Name, "Service.Service")
	case "Tags":
		e.tags = l.sortedTags()
	case "Meta":
		hs.ServiceMeta = l.sharedStringMap(hs.ServiceMeta, "Service.Meta")
	case "Port":
		hs.Port = l.int(hs.Port, "Service.Port")
	case "Address":
		e.svcAddr = l.strAs(e.svcAddr, "", "Service.Address")
	case "TaggedAddresses":
		hs.ServiceTaggedAddresses = l.serviceAddresses(hs.ServiceTaggedAddresses)
	case "Weights":
		l.fields("Service.Weights", weightFields, func(name string) bool { return l.weightField(&hs.Weights, name) })
	default:
		return false
	}
	return true
}

func (l *lexer) weightField(w *watch.Weights, name string) bool {
	switch name {
	case "Passing":
		w.Passing = l.int(w.Passing, "Weights.Passing")
	case "Warning":
		w.Warning = l.int(w.Warning, "Weights.Warning")
	default:
		return false
	}
	return true
}

// serviceAddresses reads the instance's tagged addresses; null gives nil.
func (l *lexer) serviceAddresses(m map[string]watch.ServiceAddress) map[string]watch.ServiceAddress {
	if l.peek() == 'n' {
		l.literal("null")
		return nil
	}
	if !l.open('{', "Service.TaggedAddresses") {
		return m
	}
	if m == nil {
		m = make(map[string]watch.ServiceAddress, 4)
	}
	for first := true; l.more('}', &first); {
		k := l.in.string(l.key())
		var a watch.ServiceAddress
		l.fields("Service.TaggedAddresses", addressFields, func(name string) bool { return l.addressField(&a, name) })
		m[k] = a
	}
	return m
}

func (l *lexer) addressField(a *watch.ServiceAddress, name string) bool {
	switch name {
	case "Address":
		a.Address = l.str(a.Address, "ServiceAddress.Address")
	case "Port":
		a.Port = l.int(a.Port, "ServiceAddress.Port")
	default:
		return false
	}
	return true
}

// sortedTags reads a service's tags, sorted; equal JSON text gives the one
// list the interner keeps.
func (l *lexer) sortedTags() watch.ServiceTags {
	if l.in == nil || l.peek() != '[' {
		return l.sortTags(l.stringSlice(nil, "Service.Tags"))
	}
	start := l.pos
	raw := l.rawValue()
	if raw == nil {
		return nil
	}
	if v, ok := l.in.tags.get(raw); ok {
		return v
	}
	l.pos = start
	tags := l.sortTags(l.stringSlice(nil, "Service.Tags"))
	if l.err == nil {
		l.in.tags.put(raw, tags)
	}
	return tags
}

func (l *lexer) sortTags(list []string) watch.ServiceTags {
	slices.Sort(list)
	return watch.ServiceTags(list)
}

// sharedHeader is header with the sharing of sharedStringMap.
func (l *lexer) sharedHeader(m map[string][]string) map[string][]string {
	if m != nil {
		return l.header(maps.Clone(m))
	}
	if l.in == nil || l.peek() != '{' {
		return l.header(nil)
	}
	start := l.pos
	raw := l.rawValue()
	if raw == nil {
		return nil
	}
	if v, ok := l.in.headers.get(raw); ok {
		return v
	}
	l.pos = start
	m = l.header(nil)
	if l.err == nil {
		l.in.headers.put(raw, m)
	}
	return m
}

// header reads the HTTP headers of a check definition.
func (l *lexer) header(m map[string][]string) map[string][]string {
	if l.peek() == 'n' {
		l.literal("null")
		return nil
	}
	if !l.open('{', "Definition.Header") {
		return m
	}
	if m == nil {
		m = make(map[string][]string, 2)
	}
	for first := true; l.more('}', &first); {
		k := l.in.string(l.key())
		m[k] = l.stringSlice(nil, "Definition.Header")
	}
	return m
}
