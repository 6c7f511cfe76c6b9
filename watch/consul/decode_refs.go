package consul

import (
	"github.com/hashicorp/consul/api"
)

// The change detectors read whole tables (every non-passing check, every
// service of a node) to compare a few fields. These helpers let them do so
// without the api client's encoding/json: readRaw hands over the body as
// it arrived, and the decoders below read only the compared fields, with
// the values encoding/json would give for the same structs.

// readRaw sends GET path with o's options, as the api client's Raw().Query
// would, and calls use with the answer's metadata and body. The body is
// only valid during the call. A status other than 200 is an
// api.StatusError.
func (c *Client) readRaw(o *api.QueryOptions, path string, use func(meta *api.QueryMeta, body []byte) error) error {
	buf := getBuffer()
	defer putBuffer(buf)
	meta, body, err := c.raw.get(o, path, c.raw.params(o), buf)
	if err != nil {
		return err
	}
	return use(meta, body)
}

// checkRef is the part of a check that attribution compares.
type checkRef struct {
	Node, CheckID, Name, Status, Notes, Output, ServiceID, ServiceName string
	ServiceTags                                                        []string
}

var checkRefFields = []string{"Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID", "ServiceName",
	"ServiceTags"}

// decodeCheckRefs decodes a list of checks (/v1/health/state/:state) into
// checkRefs, as encoding/json decodes it into []checkRef.
func decodeCheckRefs(body []byte, in *interner) ([]checkRef, error) {
	l := &lexer{b: body, in: in}
	if l.null() {
		return nil, nil
	}
	if !l.open('[', "checks answer") {
		return nil, cmpErr(l.err, "checks answer is not an array")
	}
	out := make([]checkRef, 0, 16)
	for first := true; l.more(']', &first); {
		var c checkRef
		l.object("check", func(key []byte) {
			if !l.checkRefField(&c, bytesString(key)) {
				if f := fold(key, checkRefFields); f == "" || !l.checkRefField(&c, f) {
					l.skip()
				}
			}
		})
		out = append(out, c)
	}
	if l.err != nil {
		return nil, l.err
	}
	return out, nil
}

func (l *lexer) checkRefField(c *checkRef, name string) bool {
	switch name {
	case "Node":
		c.Node = l.str(c.Node, "Check.Node")
	case "CheckID":
		c.CheckID = l.str(c.CheckID, "Check.CheckID")
	case "Name":
		c.Name = l.str(c.Name, "Check.Name")
	case "Status":
		c.Status = l.str(c.Status, "Check.Status")
	case "Notes":
		c.Notes = l.str(c.Notes, "Check.Notes")
	case "Output":
		c.Output = l.str(c.Output, "Check.Output")
	case "ServiceID":
		c.ServiceID = l.str(c.ServiceID, "Check.ServiceID")
	case "ServiceName":
		c.ServiceName = l.str(c.ServiceName, "Check.ServiceName")
	case "ServiceTags":
		c.ServiceTags = l.stringSlice(c.ServiceTags, "Check.ServiceTags")
	default:
		return false
	}
	return true
}

// serviceRef is what a node sweep needs of one of a node's services.
type serviceRef struct {
	ID, Service string
	ModifyIndex uint64
}

var (
	nodeServicesFields = []string{"Services"}
	serviceRefFields   = []string{"ID", "Service", "ModifyIndex"}
)

// decodeServiceRefs decodes /v1/catalog/node-services/:node into the
// node's services, as encoding/json decodes it into
// struct{ Services []serviceRef }; null (an unknown node) gives none.
func decodeServiceRefs(body []byte, in *interner) ([]serviceRef, error) {
	l := &lexer{b: body, in: in}
	var out []serviceRef
	if l.null() {
		return nil, nil
	}
	l.object("node services answer", func(key []byte) {
		name := bytesString(key)
		if name != "Services" {
			name = fold(key, nodeServicesFields)
		}
		if name != "Services" {
			l.skip()
			return
		}
		if l.peek() == 'n' {
			l.literal("null")
			out = nil
			return
		}
		if !l.open('[', "Services") {
			return
		}
		out = make([]serviceRef, 0, 16)
		for first := true; l.more(']', &first); {
			var s serviceRef
			l.object("service", func(key []byte) {
				if !l.serviceRefField(&s, bytesString(key)) {
					if f := fold(key, serviceRefFields); f == "" || !l.serviceRefField(&s, f) {
						l.skip()
					}
				}
			})
			out = append(out, s)
		}
	})
	if l.err != nil {
		return nil, l.err
	}
	return out, nil
}

func (l *lexer) serviceRefField(s *serviceRef, name string) bool {
	switch name {
	case "ID":
		s.ID = l.str(s.ID, "Service.ID")
	case "Service":
		s.Service = l.str(s.Service, "Service.Service")
	case "ModifyIndex":
		s.ModifyIndex = l.uint(s.ModifyIndex, "Service.ModifyIndex")
	default:
		return false
	}
	return true
}
