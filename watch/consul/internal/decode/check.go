package decode

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// Checks of a health answer: their fields, definitions and durations.

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
	l.fields("check", checkFields, func(name string) bool { return l.checkField(c, &dur, id, name) })
	dur.apply(&c.Definition)
}

// checkField reads the value of the check's field name into c.
func (l *lexer) checkField(c *watch.HealthCheck, dur *durations, id, name string) bool {
	switch name {
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
		l.fields("Check.Definition", definitionFields, func(name string) bool {
			return l.definitionField(&c.Definition, dur, name)
		})
	case "CreateIndex":
		c.CreateIndex = l.uint(c.CreateIndex, "Check.CreateIndex")
	case "ModifyIndex":
		c.ModifyIndex = l.uint(c.ModifyIndex, "Check.ModifyIndex")
	default:
		return l.checkRefField(c, id, name)
	}
	return true
}

// checkRefField reads the value of the check's field name into c when it
// is one of the fields a CheckRef holds (checkRefFields). id is the
// instance's ID, which its checks name again.
func (l *lexer) checkRefField(c *watch.HealthCheck, id, name string) bool {
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
	default:
		return false
	}
	return true
}

// CheckRef is the part of a check that the change detectors compare.
type CheckRef struct {
	Node, CheckID, Name, Status, Notes, Output, ServiceID, ServiceName string
	ServiceTags                                                        []string
}

// checkRefFields are the fields checkRefField reads: the first nine of
// checkFields.
var checkRefFields = checkFields[:9]

// CheckRefs decodes a list of checks (/v1/health/state/:state) into
// CheckRefs, as encoding/json decodes it into []CheckRef: fields a CheckRef
// does not hold are skipped unread, with the same field decoder as the
// checks of a health answer.
func CheckRefs(body []byte, in *Interner) ([]CheckRef, error) {
	l := &lexer{b: body, in: in}
	if l.null() {
		return nil, nil
	}
	if !l.open('[', "checks answer") {
		return nil, cmpErr(l.err, "checks answer is not an array")
	}
	out := make([]CheckRef, 0, 16)
	var c watch.HealthCheck
	for first := true; l.more(']', &first); {
		c = watch.HealthCheck{}
		l.fields("check", checkRefFields, func(name string) bool { return l.checkRefField(&c, "", name) })
		out = append(out, CheckRef{Node: c.Node, CheckID: c.CheckID, Name: c.Name, Status: c.Status, Notes: c.Notes,
			Output: c.Output, ServiceID: c.ServiceID, ServiceName: c.ServiceName, ServiceTags: c.ServiceTags})
	}
	if l.err != nil {
		return nil, l.err
	}
	return out, nil
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
	def.Interval, def.Timeout = watch.ReadableDuration(def.IntervalDuration), watch.ReadableDuration(def.TimeoutDuration)
	def.DeregisterCriticalServiceAfter = watch.ReadableDuration(def.DeregisterCriticalServiceAfterDuration)
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
