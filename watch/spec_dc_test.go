package watch_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/watch"
)

func TestSplitFilter(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		rest    []string
		filter  string
		wantErr bool
	}{
		{name: "none", args: []string{"web", "passing"}, rest: []string{"web", "passing"}},
		{name: "quotes and !=", args: []string{"web", `filter=Service.Meta.version != "1" and "http" in Service.Tags`},
			rest: []string{"web"}, filter: `Service.Meta.version != "1" and "http" in Service.Tags`},
		{name: "first argument", args: []string{`filter=ServiceName == "web"`}, filter: `ServiceName == "web"`},
		{name: "between statuses", args: []string{"web", "filter=Node.Node != \"n1\"", "warning"},
			rest: []string{"web", "warning"}, filter: `Node.Node != "n1"`},
		{name: "empty expression", args: []string{"web", "filter= "}, wantErr: true},
		{name: "two filters", args: []string{"web", "filter=a == 1", "filter=b == 2"}, wantErr: true},
		{name: "whitespace collapsed outside strings", args: []string{"web", "filter=\n Service.Meta.version   !=\t\"1  2\"\r\nand `a  b` in  Service.Tags \n"},
			rest: []string{"web"}, filter: "Service.Meta.version != \"1  2\" and `a  b` in Service.Tags"},
		{name: "an unterminated string kept as written", args: []string{"web", "filter=Service.ID ==  \"a  b"},
			rest: []string{"web"}, filter: "Service.ID == \"a  b"},
		{name: "a control character", args: []string{"web", "filter=Service.ID == \"web\x01\""}, wantErr: true},
		{name: "DEL", args: []string{"web", "filter=Service.ID == \"web\x7f\""}, wantErr: true},
		{name: "invalid UTF-8", args: []string{"web", "filter=Service.ID == \"\xff\""}, wantErr: true},
		{name: "longest accepted", args: []string{"web", "filter=Service.ID == \"" + strings.Repeat("x", watch.MaxFilterBytes-16) + "\""},
			rest: []string{"web"}, filter: "Service.ID == \"" + strings.Repeat("x", watch.MaxFilterBytes-16) + "\""},
		{name: "too long", args: []string{"web", "filter=Service.ID == \"" + strings.Repeat("x", watch.MaxFilterBytes-15) + "\""}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rest, filter, err := watch.SplitFilter("service", tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if !errors.Is(err, watch.ErrBadQuery) {
					t.Errorf("error %v does not wrap ErrBadQuery", err)
				}
				return
			}
			if !slices.Equal(rest, tc.rest) || filter != tc.filter {
				t.Errorf("got %q %q, want %q %q", rest, filter, tc.rest, tc.filter)
			}
		})
	}
}

func TestFilterInCanonicalString(t *testing.T) {
	a, _ := watch.ParseService("web@dc2")
	b := a
	b.Filter = `Service.Meta.v == "2"`
	if a.String() == b.String() || a.Equal(b) {
		t.Fatalf("a filter does not change the identity: %s", b)
	}
	if want := `health.service(web@dc2 filter="Service.Meta.v == \"2\"")`; b.String() != want {
		t.Errorf("String = %s, want %s", b, want)
	}
}

// TestFilterSpellingsShareOneWatch: the same expression spelled with other
// whitespace is one query (one canonical string, one watch).
func TestFilterSpellingsShareOneWatch(t *testing.T) {
	spec := func(arg string) watch.Spec {
		t.Helper()
		rest, filter, err := watch.SplitFilter("service", []string{"web", arg})
		if err != nil {
			t.Fatal(err)
		}
		s, err := watch.ParseService(rest[0])
		if err != nil {
			t.Fatal(err)
		}
		s.Filter = filter
		return s
	}
	a := spec(`filter=Service.Meta.version != "1" and "http" in Service.Tags`)
	b := spec("filter=  Service.Meta.version\t!=  \"1\"\n  and \"http\" in Service.Tags ")
	if a.String() != b.String() || !a.Equal(b) {
		t.Errorf("two spellings, two queries: %s and %s", a, b)
	}
}

func TestParsePreparedQuery(t *testing.T) {
	tests := []struct {
		query   string
		want    watch.Spec
		wantErr bool
	}{
		{query: "web-failover", want: watch.Spec{Kind: watch.KindPreparedQuery, Name: "web-failover"}},
		{query: "web@dc2~_agent", want: watch.Spec{Kind: watch.KindPreparedQuery, Name: "web", DC: "dc2", Near: "_agent"}},
		{query: "8f2b7c1e-0000-4a3b-9c1d-000000000001", want: watch.Spec{Kind: watch.KindPreparedQuery, Name: "8f2b7c1e-0000-4a3b-9c1d-000000000001"}},
		{query: "", wantErr: true},
		{query: "web/../x", wantErr: true},
		{query: "web@", wantErr: true},
		{query: "..", wantErr: true},
		{query: ".@dc2", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			got, err := watch.ParsePreparedQuery(tc.query)
			if (err != nil) != tc.wantErr || (err == nil && !got.Equal(tc.want)) {
				t.Fatalf("ParsePreparedQuery(%q) = %v, %v; want %v (error %v)", tc.query, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
