package watch

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Kind names a family of queries; an adapter maps each kind it serves to a
// constructor.
type Kind string

// The kinds of query ctpl knows.
const (
	KindHealthService   Kind = "health.service"   // instances of one service with their health
	KindCatalogServices Kind = "catalog.services" // every service name with its tags
	KindCatalogNodes    Kind = "catalog.nodes"    // every node
	KindCatalogNode     Kind = "catalog.node"     // one node with its services
	KindKVGet           Kind = "kv.get"           // one key
	KindKVList          Kind = "kv.list"          // every key below a prefix
	KindHealthConnect   Kind = "health.connect"   // Connect-capable instances of one service
	KindDatacenters     Kind = "catalog.datacenters"
	KindCARoots         Kind = "connect.caroots" // the Connect CA roots
	KindCALeaf          Kind = "connect.caleaf"  // a Connect leaf certificate for a service
	KindFile            Kind = "file"            // a local file's content
	KindPreparedQuery   Kind = "query.execute"   // a prepared query's execution (ctpl's own `query`)
)

// IgnoreInaccessible is the Name of a KindDatacenters spec that leaves out
// datacenters that cannot be reached.
const IgnoreInaccessible = "ignore-inaccessible"

// Health statuses as Consul reports them, plus "any" and "maintenance" as
// consul-template's status filters use them.
const (
	StatusAny         = "any"
	StatusPassing     = "passing"
	StatusWarning     = "warning"
	StatusCritical    = "critical"
	StatusMaintenance = "maintenance"
)

// Spec describes one query. Its [Spec.String] is canonical: two specs that
// ask for the same data have the same string, so they share one watch.
type Spec struct {
	Kind Kind
	// Name is the service or node name, the KV key, or the KV prefix.
	Name string
	// Tag filters health.service instances by tag.
	Tag string
	// DC is the datacenter; empty means the agent's own.
	DC string
	// Near sorts results by round-trip time from this node ("_agent" for the
	// local agent).
	Near string
	// Status filters health.service instances; nil means passing only,
	// filtered by Consul itself.
	Status []string
	// Namespace, Partition, Peer and SamenessGroup select Enterprise
	// namespaces, partitions and sameness groups, and cluster peers.
	Namespace, Partition, Peer, SamenessGroup string
	// Filter is a Consul filter expression (the filter= parameter), given
	// as a "filter=…" argument: see [SplitFilter].
	Filter string
}

// Equal reports whether s and o are the same query, field by field (which
// String's canonical form also tells, at the cost of building it).
func (s Spec) Equal(o Spec) bool {
	return s.Kind == o.Kind && s.Name == o.Name && s.Tag == o.Tag && s.DC == o.DC && s.Near == o.Near &&
		slices.Equal(s.Status, o.Status) && s.Namespace == o.Namespace && s.Partition == o.Partition &&
		s.Peer == o.Peer && s.SamenessGroup == o.SamenessGroup && s.Filter == o.Filter
}

// String returns the canonical form of s, which is its identity.
func (s Spec) String() string {
	var b strings.Builder
	b.WriteString(string(s.Kind))
	b.WriteByte('(')
	if s.Tag != "" {
		b.WriteString(s.Tag)
		b.WriteByte('.')
	}
	b.WriteString(s.Name)
	var params []string
	for _, p := range [][2]string{{"ns", s.Namespace}, {"partition", s.Partition}, {"peer", s.Peer}, {"sg", s.SamenessGroup}} {
		if p[1] != "" {
			params = append(params, p[0]+"="+p[1])
		}
	}
	if len(params) > 0 {
		b.WriteString("?" + strings.Join(params, "&"))
	}
	if s.DC != "" {
		b.WriteString("@" + s.DC)
	}
	if s.Near != "" {
		b.WriteString("~" + s.Near)
	}
	if len(s.Status) > 0 {
		b.WriteString("|" + strings.Join(s.Status, ","))
	}
	if s.Filter != "" {
		if !strings.HasSuffix(b.String(), "(") {
			b.WriteByte(' ')
		}
		b.WriteString("filter=" + strconv.Quote(s.Filter))
	}
	b.WriteByte(')')
	return b.String()
}

var (
	// serviceRe is consul-template's service and connect query grammar.
	serviceRe = regexp.MustCompile(`\A` +
		`(?:(?P<tag>[[:word:]=:.\-]+)\.)?` +
		`(?P<name>[[:word:]\-]+)` +
		`(?:\?(?P<query>[[:word:]\-=&]*))?` +
		`(?:@(?P<dc>[[:word:].\-]+))?` +
		`(?:~(?P<near>[[:word:].\-]+))?` +
		`(?:\|(?P<filter>[[:word:],]+))?` +
		`\z`)
	catalogRe = regexp.MustCompile(`\A` +
		`(?:\?(?P<query>[[:word:]\-=&]*))?` +
		`(?:@(?P<dc>[[:word:].\-]+))?` +
		`(?:~(?P<near>[[:word:].\-]+))?` +
		`\z`)
	nodeRe = regexp.MustCompile(`\A` +
		`(?P<name>[[:word:].\-]+)?` +
		`(?:\?(?P<query>[[:word:]\-=&]*))?` +
		`(?:@(?P<dc>[[:word:].\-]+))?` +
		`\z`)
	kvRe = regexp.MustCompile(`\A(?P<key>[^@]*?)(?:@(?P<dc>[[:word:].\-]+))?\z`)
)

// ErrBadQuery is wrapped by every error about a malformed query string.
var ErrBadQuery = errors.New("invalid query")

// ParseService parses consul-template's service query
// `[tag.]name[?ns=…&partition=…&peer=…&sameness-group=…][@dc][~near][|filter,…]`.
// Further arguments are status filters joined to the query with "|", as
// consul-template joins the arguments of `service`: ParseService("web",
// "passing,warning") is "web|passing,warning".
func ParseService(query string, status ...string) (Spec, error) {
	return parseHealth(KindHealthService, "service", query, status)
}

// ParseConnect parses the query of `connect`, whose grammar is that of
// `service`: the Connect-capable instances (proxies and native services)
// of a service.
func ParseConnect(query string, status ...string) (Spec, error) {
	return parseHealth(KindHealthConnect, "connect", query, status)
}

func parseHealth(kind Kind, fn, query string, status []string) (Spec, error) {
	if query == "" {
		return Spec{}, fmt.Errorf("%w: empty %s query", ErrBadQuery, fn)
	}
	full := strings.Join(append([]string{query}, status...), "|")
	m, ok := match(serviceRe, full)
	if !ok {
		return Spec{}, fmt.Errorf("%w: %s %q: want [tag.]name[?ns=…][@dc][~near][|status,…]", ErrBadQuery, fn, full)
	}
	s := Spec{Kind: kind, Name: m["name"], Tag: m["tag"], DC: m["dc"], Near: m["near"]}
	if err := s.setParams(m["query"]); err != nil {
		return Spec{}, fmt.Errorf("%w: %s %q: %w", ErrBadQuery, fn, full, err)
	}
	filter, err := parseStatus(m["filter"])
	if err != nil {
		return Spec{}, fmt.Errorf("%w: %s %q: %w", ErrBadQuery, fn, full, err)
	}
	s.Status = filter
	return s, nil
}

// ParseCatalog parses the optional argument of `services` and `nodes`:
// `[?ns=…][@dc][~near]`.
func ParseCatalog(kind Kind, query string) (Spec, error) {
	m, ok := match(catalogRe, query)
	if !ok {
		return Spec{}, fmt.Errorf("%w: %s %q: want [@dc][~near]", ErrBadQuery, kind, query)
	}
	s := Spec{Kind: kind, DC: m["dc"], Near: m["near"]}
	if kind == KindCatalogServices {
		s.Near = ""
	}
	if err := s.setParams(m["query"]); err != nil {
		return Spec{}, fmt.Errorf("%w: %s %q: %w", ErrBadQuery, kind, query, err)
	}
	return s, nil
}

// ParseNode parses the optional argument of `node`: `[name][@dc]`. An empty
// name means the node of the agent ctpl talks to.
func ParseNode(query string) (Spec, error) {
	m, ok := match(nodeRe, query)
	if !ok {
		return Spec{}, fmt.Errorf("%w: node %q: want [name][@dc]", ErrBadQuery, query)
	}
	s := Spec{Kind: KindCatalogNode, Name: m["name"], DC: m["dc"]}
	if err := s.setParams(m["query"]); err != nil {
		return Spec{}, fmt.Errorf("%w: node %q: %w", ErrBadQuery, query, err)
	}
	return s, nil
}

// ParseKV parses a KV key or prefix `path[@dc]` for the given kind. Leading
// slashes are dropped, as consul-template does.
func ParseKV(kind Kind, query string) (Spec, error) {
	m, ok := match(kvRe, query)
	if !ok {
		return Spec{}, fmt.Errorf("%w: key %q: want path[@dc]", ErrBadQuery, query)
	}
	key := strings.TrimLeft(m["key"], "/")
	if kind == KindKVGet && key == "" {
		return Spec{}, fmt.Errorf("%w: key %q: empty key", ErrBadQuery, query)
	}
	return Spec{Kind: kind, Name: key, DC: m["dc"]}, nil
}

func match(re *regexp.Regexp, s string) (map[string]string, bool) {
	sub := re.FindStringSubmatch(s)
	if sub == nil {
		return nil, false
	}
	m := make(map[string]string, len(sub))
	for i, name := range re.SubexpNames() {
		if name != "" {
			m[name] = sub[i]
		}
	}
	return m, true
}

func (s *Spec) setParams(raw string) error {
	if raw == "" {
		return nil
	}
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("parameter %q: want key=value", kv)
		}
		switch k {
		case "ns":
			s.Namespace = v
		case "partition":
			s.Partition = v
		case "peer":
			s.Peer = v
		case "sg", "sameness-group":
			s.SamenessGroup = v
		default:
			return fmt.Errorf("invalid query parameter key %q: supported keys: ns, peer, partition, sameness-group", k)
		}
	}
	return nil
}

func parseStatus(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "":
			continue
		case StatusAny, StatusPassing, StatusWarning, StatusCritical, StatusMaintenance:
			out = append(out, f)
		default:
			return nil, fmt.Errorf("invalid status filter %q", f)
		}
	}
	if slices.Contains(out, StatusAny) {
		return []string{StatusAny}, nil // any accepts every status, whatever else is listed
	}
	if len(out) == 1 && out[0] == StatusPassing {
		return nil, nil // the default, filtered by Consul
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// DatacentersSpec is the spec of `datacenters`; with ignoreInaccessible the
// datacenters that do not answer are left out.
func DatacentersSpec(ignoreInaccessible bool) Spec {
	s := Spec{Kind: KindDatacenters}
	if ignoreInaccessible {
		s.Name = IgnoreInaccessible
	}
	return s
}

// CARootsSpec is the spec of `caRoots`.
func CARootsSpec() Spec { return Spec{Kind: KindCARoots} }

// ParseCALeaf parses the argument of `caLeaf`: a service name.
func ParseCALeaf(service string) (Spec, error) {
	if service == "" || strings.ContainsAny(service, "/?#@") || Untrusted(service) {
		return Spec{}, fmt.Errorf("%w: caLeaf %q: want a service name", ErrBadQuery, service)
	}
	return Spec{Kind: KindCALeaf, Name: service}, nil
}

// ParseFile parses the argument of `file`: a path, kept as written so that
// two templates naming the same path share one watch.
func ParseFile(path string) (Spec, error) {
	if path == "" || strings.ContainsRune(path, 0) {
		return Spec{}, fmt.Errorf("%w: file %q: want a path", ErrBadQuery, path)
	}
	return Spec{Kind: KindFile, Name: path}, nil
}
