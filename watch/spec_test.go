package watch_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/watch"
)

func TestParseService(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		status  []string
		want    string
		wantErr bool
	}{
		{name: "plain", query: "web", want: "health.service(web)"},
		{name: "tag and dc", query: "http.web@dc2", want: "health.service(http.web@dc2)"},
		{name: "near", query: "web~_agent", want: "health.service(web~_agent)"},
		{name: "params", query: "web?ns=team&peer=east", want: "health.service(web?ns=team&peer=east)"},
		{name: "passing is the default", query: "web", status: []string{"passing"}, want: "health.service(web)"},
		{name: "filters sorted", query: "web", status: []string{"warning,critical"}, want: "health.service(web|critical,warning)"},
		{name: "any", query: "web", status: []string{"any"}, want: "health.service(web|any)"},
		{name: "any with more is any", query: "web", status: []string{"any,passing"}, want: "health.service(web|any)"},
		{name: "filter in the query", query: "web|warning,passing", want: "health.service(web|passing,warning)"},
		{name: "everything", query: "a.b.web?ns=x&sameness-group=g@dc1~_agent|any", want: "health.service(a.b.web?ns=x&sg=g@dc1~_agent|any)"},
		{name: "tag with = and :", query: "k=v:w.web", want: "health.service(k=v:w.web)"},
		{name: "empty parameter value is ignored", query: "web?ns=", want: "health.service(web)"},
		{name: "space in filter", query: "web", status: []string{"passing, warning"}, wantErr: true},
		{name: "empty filter", query: "web|", wantErr: true},
		{name: "slash in name", query: "web/x", wantErr: true},
		{name: "port", query: "web@dc1:80", wantErr: true},
		{name: "two status arguments", query: "web", status: []string{"passing", "warning"}, wantErr: true},
		{name: "bad filter", query: "web", status: []string{"sick"}, wantErr: true},
		{name: "unknown is not a filter", query: "web", status: []string{"unknown"}, wantErr: true},
		{name: "empty", query: "", wantErr: true},
		{name: "bad characters", query: "web server", wantErr: true},
		{name: "unknown parameter", query: "web?color=red", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := watch.ParseService(tc.query, tc.status...)
			if tc.wantErr {
				if !errors.Is(err, watch.ErrBadQuery) {
					t.Fatalf("err %v, want ErrBadQuery", err)
				}
				return
			}
			if err != nil || s.String() != tc.want {
				t.Fatalf("got %q, %v; want %q", s.String(), err, tc.want)
			}
		})
	}
}

func TestParseOthers(t *testing.T) {
	tests := []struct {
		name    string
		parse   func() (watch.Spec, error)
		want    string
		wantErr bool
	}{
		{name: "services", parse: func() (watch.Spec, error) { return watch.ParseCatalog(watch.KindCatalogServices, "") }, want: "catalog.services()"},
		{name: "services dc", parse: func() (watch.Spec, error) { return watch.ParseCatalog(watch.KindCatalogServices, "@dc1") }, want: "catalog.services(@dc1)"},
		{name: "nodes near", parse: func() (watch.Spec, error) { return watch.ParseCatalog(watch.KindCatalogNodes, "@dc1~n1") }, want: "catalog.nodes(@dc1~n1)"},
		{name: "node self", parse: func() (watch.Spec, error) { return watch.ParseNode("") }, want: "catalog.node()"},
		{name: "node named", parse: func() (watch.Spec, error) { return watch.ParseNode("n-1.a@dc2") }, want: "catalog.node(n-1.a@dc2)"},
		{name: "key", parse: func() (watch.Spec, error) { return watch.ParseKV(watch.KindKVGet, "/app/x@dc1") }, want: "kv.get(app/x@dc1)"},
		{name: "empty key", parse: func() (watch.Spec, error) { return watch.ParseKV(watch.KindKVGet, "") }, wantErr: true},
		{name: "root prefix", parse: func() (watch.Spec, error) { return watch.ParseKV(watch.KindKVList, "/") }, want: "kv.list()"},
		{name: "bad catalog", parse: func() (watch.Spec, error) { return watch.ParseCatalog(watch.KindCatalogNodes, "dc1") }, wantErr: true},
		{name: "connect", parse: func() (watch.Spec, error) { return watch.ParseConnect("v1.web@dc2", "any") }, want: "health.connect(v1.web@dc2|any)"},
		{name: "bad connect", parse: func() (watch.Spec, error) { return watch.ParseConnect("we b") }, wantErr: true},
		{name: "datacenters", parse: func() (watch.Spec, error) { return watch.DatacentersSpec(false), nil }, want: "catalog.datacenters()"},
		{name: "datacenters ignoring inaccessible", parse: func() (watch.Spec, error) { return watch.DatacentersSpec(true), nil }, want: "catalog.datacenters(ignore-inaccessible)"},
		{name: "ca roots", parse: func() (watch.Spec, error) { return watch.CARootsSpec(), nil }, want: "connect.caroots()"},
		{name: "ca leaf", parse: func() (watch.Spec, error) { return watch.ParseCALeaf("web") }, want: "connect.caleaf(web)"},
		{name: "ca leaf path", parse: func() (watch.Spec, error) { return watch.ParseCALeaf("../web") }, wantErr: true},
		{name: "file", parse: func() (watch.Spec, error) { return watch.ParseFile("/etc/x.conf") }, want: "file(/etc/x.conf)"},
		{name: "empty file", parse: func() (watch.Spec, error) { return watch.ParseFile("") }, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.parse()
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %q, want an error", s)
				}
				return
			}
			if err != nil || s.String() != tc.want {
				t.Fatalf("got %q, %v; want %q", s.String(), err, tc.want)
			}
		})
	}
}

func TestAggregateStatus(t *testing.T) {
	check := func(id, status string) *watch.HealthCheck { return &watch.HealthCheck{CheckID: id, Status: status} }
	tests := []struct {
		name   string
		checks []*watch.HealthCheck
		want   string
	}{
		{name: "no checks", want: "passing"},
		{name: "passing", checks: []*watch.HealthCheck{check("a", "passing")}, want: "passing"},
		{name: "warning wins over passing", checks: []*watch.HealthCheck{check("a", "passing"), check("b", "warning")}, want: "warning"},
		{name: "critical wins", checks: []*watch.HealthCheck{check("a", "warning"), check("b", "critical")}, want: "critical"},
		{name: "service maintenance", checks: []*watch.HealthCheck{check("_service_maintenance:web1", "critical")}, want: "maintenance"},
		{name: "node maintenance", checks: []*watch.HealthCheck{check("_node_maintenance", "critical")}, want: "maintenance"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := watch.AggregateStatus(tc.checks); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestStore(t *testing.T) {
	s := watch.NewStore()
	if _, ok := s.Get("k"); ok {
		t.Fatal("empty store has k")
	}
	s.Apply(watch.Update{Key: "k", Err: errors.New("down")})
	if _, ok := s.Get("k"); ok {
		t.Fatal("an error gave k a value")
	}
	if !s.Apply(watch.Update{Key: "k", Value: "v", Index: 2}) {
		t.Fatal("a value did not change the store")
	}
	if v, ok := s.Get("k"); !ok || v != "v" || s.Entry("k").Err != nil {
		t.Fatalf("got %v %v %v", v, ok, s.Entry("k").Err)
	}
	s.Apply(watch.Update{Key: "k", Err: errors.New("down")})
	if v, ok := s.Get("k"); !ok || v != "v" {
		t.Fatal("an error lost the last good value")
	}
	s.Delete("k")
	if s.Len() != 0 {
		t.Fatal("delete kept k")
	}
}

// FuzzParseQueries feeds arbitrary strings to every query parser: none may
// panic, and a spec that parses has a canonical string that parses back to
// the same spec.
func FuzzParseQueries(f *testing.F) {
	for _, s := range []string{"web", "tag.web?ns=a&peer=b@dc1~_agent|any", "a.b.c@d", "@dc1~n", "k/v@dc", "web|passing,warning", "\x00", "web?=&&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if s, err := watch.ParseService(q); err == nil {
			again, err := watch.ParseService(reparseable(s))
			if err != nil || again.String() != s.String() {
				t.Fatalf("%q: %s does not parse back (%v, %s)", q, s, err, again)
			}
		}
		_, _ = watch.ParseConnect(q)
		_, _ = watch.ParseCatalog(watch.KindCatalogNodes, q)
		_, _ = watch.ParseNode(q)
		_, _ = watch.ParseKV(watch.KindKVList, q)
		_, _ = watch.ParseCALeaf(q)
		_, _ = watch.ParseFile(q)
	})
}

// reparseable writes a health spec back in the query grammar.
func reparseable(s watch.Spec) string {
	q := s.Name
	if s.Tag != "" {
		q = s.Tag + "." + q
	}
	var params []string
	for _, p := range [][2]string{{"ns", s.Namespace}, {"partition", s.Partition}, {"peer", s.Peer}, {"sameness-group", s.SamenessGroup}} {
		if p[1] != "" {
			params = append(params, p[0]+"="+p[1])
		}
	}
	if len(params) > 0 {
		q += "?" + strings.Join(params, "&")
	}
	if s.DC != "" {
		q += "@" + s.DC
	}
	if s.Near != "" {
		q += "~" + s.Near
	}
	if len(s.Status) > 0 {
		q += "|" + strings.Join(s.Status, ",")
	}
	return q
}

func TestSpecEqual(t *testing.T) {
	// Equal compares every field: a new field must be added to it (and to
	// this count) or two different queries would compare equal.
	if n := reflect.TypeFor[watch.Spec]().NumField(); n != 11 {
		t.Fatalf("watch.Spec has %d fields; update Spec.Equal and this test", n)
	}
	base := watch.Spec{Kind: watch.KindHealthService, Name: "web", Tag: "http", DC: "dc2", Near: "_agent",
		Status: []string{"passing", "warning"}, Namespace: "ns", Partition: "p", Peer: "peer", SamenessGroup: "sg",
		Filter: `Service.Meta.v == "2"`}
	tests := []struct {
		name   string
		change func(*watch.Spec)
		equal  bool
	}{
		{name: "same", change: func(*watch.Spec) {}, equal: true},
		{name: "status copied", change: func(s *watch.Spec) { s.Status = slices.Clone(s.Status) }, equal: true},
		{name: "kind", change: func(s *watch.Spec) { s.Kind = watch.KindHealthConnect }},
		{name: "name", change: func(s *watch.Spec) { s.Name = "api" }},
		{name: "tag", change: func(s *watch.Spec) { s.Tag = "" }},
		{name: "dc", change: func(s *watch.Spec) { s.DC = "dc1" }},
		{name: "near", change: func(s *watch.Spec) { s.Near = "" }},
		{name: "status", change: func(s *watch.Spec) { s.Status = []string{"passing"} }},
		{name: "namespace", change: func(s *watch.Spec) { s.Namespace = "" }},
		{name: "partition", change: func(s *watch.Spec) { s.Partition = "" }},
		{name: "peer", change: func(s *watch.Spec) { s.Peer = "" }},
		{name: "sameness group", change: func(s *watch.Spec) { s.SamenessGroup = "" }},
		{name: "filter", change: func(s *watch.Spec) { s.Filter = `Service.Meta.v != "2"` }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := base
			other.Status = slices.Clone(base.Status)
			tc.change(&other)
			if got := base.Equal(other); got != tc.equal {
				t.Errorf("Equal = %v, want %v", got, tc.equal)
			}
			if got := base.String() == other.String(); got != tc.equal {
				t.Errorf("String equality = %v, want %v: Equal and the canonical form disagree", got, tc.equal)
			}
		})
	}
}
