package consul

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// decodeHealth decodes the body of /v1/health/service/:s or
// /v1/health/connect/:s straight into instance records: the values
// encoding/json into api.ServiceEntry followed by the conversion
// healthService makes, without the intermediate types. Strings go through
// in (nil: copied). An entry that is null, or lacks its node or service,
// which the api client could not convert, is read as empty parts.
func decodeHealth(body []byte, in *interner) ([]*watch.HealthService, error) {
	return decodeHealthSince(body, in, nil)
}

// decodeHealthSince is decodeHealth for a query whose last answer's
// entries are in prev (nil: none kept): an entry whose JSON text is the same
// as one there is not decoded again but answered with the same record.
// prev then holds this answer's entries, unless decoding fails.
func decodeHealthSince(body []byte, in *interner, prev *entryCache) ([]*watch.HealthService, error) {
	l := &lexer{b: body, in: in}
	if l.null() {
		return []*watch.HealthService{}, nil
	}
	if !l.open('[', "health answer") {
		return nil, cmpErr(l.err, "health answer is not an array")
	}
	out := make([]*watch.HealthService, 0, 16)
	var next entryCache
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

// entryCache keeps the records of one answer by a hash of each entry's
// JSON text, in answer order.
type entryCache struct {
	sums []bodySum
	recs []*watch.HealthService
}

func (c *entryCache) add(sum bodySum, hs *watch.HealthService) {
	c.sums = append(c.sums, sum)
	c.recs = append(c.recs, hs)
}

// find returns the record of the entry with the given hash, nil when there
// is none, and where to look first for the next entry: answers keep their
// order, so the next entry is usually the one after.
func (c *entryCache) find(sum bodySum, hint int) (*watch.HealthService, int) {
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
	if l.open('{', "health entry") {
		for first := true; l.more('}', &first); {
			key := l.key()
			if !l.entryField(&e, bytesString(key)) {
				if f := fold(key, entryFields); f == "" || !l.entryField(&e, f) {
					l.skip()
				}
			}
		}
	}
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
		l.object("Node", func(key []byte) {
			if !l.nodeField(e.hs, bytesString(key)) {
				if f := fold(key, nodeFields); f == "" || !l.nodeField(e.hs, f) {
					l.skip()
				}
			}
		})
	case "Service":
		l.object("Service", func(key []byte) {
			if !l.serviceField(e, bytesString(key)) {
				if f := fold(key, serviceFields); f == "" || !l.serviceField(e, f) {
					l.skip()
				}
			}
		})
	case "Checks":
		e.checks = l.checks(e.checks, e.hs.ID)
	default:
		return false
	}
	return true
}

// object reads an object, calling member for each key with the lexer at
// its value, which member must consume. null reads as no members.
func (l *lexer) object(field string, member func(key []byte)) {
	if !l.open('{', field) {
		return
	}
	for first := true; l.more('}', &first); {
		member(l.key())
	}
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
		hs.NodeDatacenter = l.str(hs.NodeDatacenter, "Node.Datacenter")
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
	case "Kind":
		hs.Kind = l.str(hs.Kind, "Service.Kind")
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
		l.object("Service.Weights", func(key []byte) {
			if !l.weightField(&hs.Weights, bytesString(key)) {
				if f := fold(key, weightFields); f == "" || !l.weightField(&hs.Weights, f) {
					l.skip()
				}
			}
		})
	case "Namespace":
		hs.Namespace = l.str(hs.Namespace, "Service.Namespace")
	case "Partition":
		hs.Partition = l.str(hs.Partition, "Service.Partition")
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
		if !l.open('{', "Service.TaggedAddresses") {
			m[k] = a
			continue
		}
		for first := true; l.more('}', &first); {
			key := l.key()
			if !l.addressField(&a, bytesString(key)) {
				if f := fold(key, addressFields); f == "" || !l.addressField(&a, f) {
					l.skip()
				}
			}
		}
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

// checks reads the entry's checks, appending to out; null elements are
// left out. id is the instance's ID, which its checks name again.
func (l *lexer) checks(out []*watch.HealthCheck, id string) []*watch.HealthCheck {
	if !l.open('[', "Checks") {
		return out[:0]
	}
	out = out[:0]
	for first := true; l.more(']', &first); {
		if l.null() {
			continue
		}
		start := l.pos
		c := &watch.HealthCheck{}
		l.check(c, id)
		if c.ServiceID == "" && l.in != nil && l.err == nil {
			// A node-level check: every instance on the node has it.
			raw := l.b[start:l.pos]
			if shared, ok := l.in.checks.get(raw); ok {
				c = shared
			} else {
				l.in.checks.put(raw, c)
			}
		}
		out = append(out, c)
	}
	return out
}

func (l *lexer) check(c *watch.HealthCheck, id string) {
	var dur durations
	l.object("check", func(key []byte) {
		if !l.checkField(c, &dur, id, bytesString(key)) {
			if f := fold(key, checkFields); f == "" || !l.checkField(c, &dur, id, f) {
				l.skip()
			}
		}
	})
	dur.apply(&c.Definition)
}

// checkField reads the value of the check's field name into c.
func (l *lexer) checkField(c *watch.HealthCheck, dur *durations, id, name string) bool {
	switch name {
	case "Node":
		c.Node = l.str(c.Node, "Check.Node")
	case "CheckID":
		c.CheckID = l.strAs(c.CheckID, "", "Check.CheckID")
	case "Name":
		c.Name = l.str(c.Name, "Check.Name")
	case "Status":
		c.Status = l.str(c.Status, "Check.Status")
	case "Notes":
		c.Notes = l.str(c.Notes, "Check.Notes")
	case "Output":
		c.Output = l.str(c.Output, "Check.Output")
	case "ServiceID":
		c.ServiceID = l.strAs(c.ServiceID, id, "Check.ServiceID")
	case "ServiceName":
		c.ServiceName = l.str(c.ServiceName, "Check.ServiceName")
	case "ServiceTags":
		c.ServiceTags = l.stringSlice(c.ServiceTags, "Check.ServiceTags")
	case "Type":
		c.Type = l.str(c.Type, "Check.Type")
	case "Namespace":
		c.Namespace = l.str(c.Namespace, "Check.Namespace")
	case "Partition":
		c.Partition = l.str(c.Partition, "Check.Partition")
	case "ExposedPort":
		c.ExposedPort = l.int(c.ExposedPort, "Check.ExposedPort")
	case "PeerName":
		c.PeerName = l.str(c.PeerName, "Check.PeerName")
	case "Definition":
		l.object("Check.Definition", func(key []byte) {
			if !l.definitionField(&c.Definition, dur, bytesString(key)) {
				if f := fold(key, definitionFields); f == "" || !l.definitionField(&c.Definition, dur, f) {
					l.skip()
				}
			}
		})
	case "CreateIndex":
		c.CreateIndex = l.uint(c.CreateIndex, "Check.CreateIndex")
	case "ModifyIndex":
		c.ModifyIndex = l.uint(c.ModifyIndex, "Check.ModifyIndex")
	default:
		return false
	}
	return true
}

// durations holds a check definition's durations under both their names
// until the definition ends: a *Duration field that is present and not
// null wins over the older name, as the api client decides.
type durations struct {
	interval, timeout, deregister          time.Duration
	intervalD, timeoutD, deregisterD       time.Duration
	hasIntervalD, hasTimeoutD, hasDeregisD bool
}

func (d *durations) apply(def *watch.CheckDefinition) {
	pick := func(has bool, newer, older time.Duration) time.Duration {
		if has {
			return newer
		}
		return older
	}
	def.IntervalDuration = pick(d.hasIntervalD, d.intervalD, d.interval)
	def.TimeoutDuration = pick(d.hasTimeoutD, d.timeoutD, d.timeout)
	def.DeregisterCriticalServiceAfterDuration = pick(d.hasDeregisD, d.deregisterD, d.deregister)
	def.Interval, def.Timeout = def.IntervalDuration, def.TimeoutDuration
	def.DeregisterCriticalServiceAfter = def.DeregisterCriticalServiceAfterDuration
}

// definitionField reads the value of the check definition's field name.
func (l *lexer) definitionField(def *watch.CheckDefinition, dur *durations, name string) bool {
	switch name {
	case "HTTP":
		def.HTTP = l.str(def.HTTP, "Definition.HTTP")
	case "Header":
		def.Header = l.sharedHeader(def.Header)
	case "Method":
		def.Method = l.str(def.Method, "Definition.Method")
	case "Body":
		def.Body = l.str(def.Body, "Definition.Body")
	case "TLSServerName":
		def.TLSServerName = l.str(def.TLSServerName, "Definition.TLSServerName")
	case "TLSSkipVerify":
		def.TLSSkipVerify = l.bool(def.TLSSkipVerify, "Definition.TLSSkipVerify")
	case "TCP":
		def.TCP = l.str(def.TCP, "Definition.TCP")
	case "TCPUseTLS":
		def.TCPUseTLS = l.bool(def.TCPUseTLS, "Definition.TCPUseTLS")
	case "UDP":
		def.UDP = l.str(def.UDP, "Definition.UDP")
	case "GRPC":
		def.GRPC = l.str(def.GRPC, "Definition.GRPC")
	case "OSService":
		def.OSService = l.str(def.OSService, "Definition.OSService")
	case "GRPCUseTLS":
		def.GRPCUseTLS = l.bool(def.GRPCUseTLS, "Definition.GRPCUseTLS")
	case "SessionName":
		def.SessionName = l.str(def.SessionName, "Definition.SessionName")
	case "Interval":
		dur.interval = l.readableDuration("Definition.Interval")
	case "Timeout":
		dur.timeout = l.readableDuration("Definition.Timeout")
	case "DeregisterCriticalServiceAfter":
		dur.deregister = l.readableDuration("Definition.DeregisterCriticalServiceAfter")
	case "IntervalDuration":
		l.anyDuration(&dur.intervalD, &dur.hasIntervalD, "Definition.IntervalDuration")
	case "TimeoutDuration":
		l.anyDuration(&dur.timeoutD, &dur.hasTimeoutD, "Definition.TimeoutDuration")
	case "DeregisterCriticalServiceAfterDuration":
		l.anyDuration(&dur.deregisterD, &dur.hasDeregisD, "Definition.DeregisterCriticalServiceAfterDuration")
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

// readableDuration reads a duration the way api.ReadableDuration does: a
// string is parsed as written between its quotes (escapes are not
// decoded), anything else as a float of nanoseconds (so null is an error).
func (l *lexer) readableDuration(field string) time.Duration {
	if l.peek() == 0 {
		l.fail("unexpected end")
		return 0
	}
	start := l.pos
	l.skip()
	if l.err != nil {
		return 0
	}
	raw := l.b[start:l.pos]
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		d, err := time.ParseDuration(bytesString(raw[1 : len(raw)-1]))
		if err != nil {
			l.failValue(field, err)
		}
		return d
	}
	f, err := strconv.ParseFloat(bytesString(raw), 64)
	if err != nil {
		l.failValue(field, err)
	}
	return time.Duration(f)
}

// anyDuration reads one of the *Duration fields, which the api client
// decodes into an interface: a string is parsed, a number taken as
// nanoseconds, null is absent, and any other value is present as 0.
func (l *lexer) anyDuration(d *time.Duration, has *bool, field string) {
	switch c := l.peek(); {
	case c == 'n':
		l.literal("null")
		*d, *has = 0, false
	case c == '"':
		s := l.strBytes()
		if l.err != nil {
			return
		}
		v, err := time.ParseDuration(bytesString(s))
		if err != nil {
			l.failValue(field, err)
		}
		*d, *has = v, true
	case c == '-' || '0' <= c && c <= '9':
		start := l.pos
		l.scanNumber()
		f, err := strconv.ParseFloat(bytesString(l.b[start:l.pos]), 64)
		if err != nil {
			l.failValue(field, err)
		}
		*d, *has = time.Duration(f), true
	default:
		l.skip()
		*d, *has = 0, true
	}
}

func (l *lexer) failValue(field string, err error) {
	if l.err == nil {
		l.err = fmt.Errorf("decode: %s at offset %d: %w", field, l.pos, err)
	}
}
