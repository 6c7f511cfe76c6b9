package template_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// mapData is a Data backed by a map from query key to value.
type mapData map[string]any

func (m mapData) Get(key string) (any, bool) { v, ok := m[key]; return v, ok }

func keys(specs []watch.Spec) string {
	var s []string
	for _, sp := range specs {
		s = append(s, sp.String())
	}
	return strings.Join(s, " ")
}

func TestParseErrorNamesLineAndColumn(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "unknown function", text: "a\nb {{ nope \"x\" }}", want: `t.tmpl:2:6: function "nope" not defined`},
		{name: "unclosed action", text: "x\n\n  {{ service \"web\" ", want: "t.tmpl:3:3: "},
		{name: "unexpected token", text: "{{ range }}", want: "t.tmpl:1:1: "},
		{name: "vault function", text: "{{ secret \"a\" }}", want: `t.tmpl:1:4: function "secret" not defined: it is a Vault function, which ctpl does not support`},
		{name: "peerings", text: "{{ peerings }}", want: `t.tmpl:1:4: function "peerings" not defined: it is a consul-template function that ctpl does not offer`},
		{name: "spew", text: "{{ spew_dump 1 }}", want: `t.tmpl:1:4: function "spew_dump" not defined: it is a consul-template function that ctpl does not offer`},
		{name: "nomad function", text: "{{ nomadService \"a\" }}", want: `t.tmpl:1:4: function "nomadService" not defined: it is a Nomad function`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := template.Parse("t.tmpl", tc.text, template.Options{})
			var pe *template.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err %v, want a ParseError", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %q, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestExecuteRecordsUsedAndMissing(t *testing.T) {
	web := []*watch.HealthService{{Node: "n1", Address: "10.0.0.1", Port: 80, Name: "web"}}
	tests := []struct {
		name        string
		text        string
		data        mapData
		wantOut     string
		wantUsed    string
		wantMissing string
	}{
		{
			name:        "nothing arrived",
			text:        `{{ range service "web" }}{{ .Address }}{{ end }}`,
			data:        mapData{},
			wantUsed:    "health.service(web)",
			wantMissing: "health.service(web)",
		},
		{
			name:     "service arrived",
			text:     `{{ range service "web" }}{{ .Address }}:{{ .Port }}{{ end }}`,
			data:     mapData{"health.service(web)": web},
			wantOut:  "10.0.0.1:80",
			wantUsed: "health.service(web)",
		},
		{
			name:        "a key that does not exist is missing",
			text:        `[{{ key "k" }}]`,
			data:        mapData{"kv.get(k)": watch.KVValue{}},
			wantOut:     "[]",
			wantUsed:    "kv.get(k)",
			wantMissing: "kv.get(k)",
		},
		{
			name:     "keyOrDefault and keyExists take a missing key as an answer",
			text:     `{{ keyOrDefault "k" "dflt" }} {{ keyExists "k" }}`,
			data:     mapData{"kv.get(k)": watch.KVValue{}},
			wantOut:  "dflt false",
			wantUsed: "kv.get(k)",
		},
		{
			name: "ls keeps the top level, tree drops folders",
			text: `{{ range ls "app" }}{{ .Key }} {{ end }}| {{ range tree "app" }}{{ .Key }} {{ end }}`,
			data: mapData{"kv.list(app)": []*watch.KeyPair{
				{Key: "a"}, {Key: "dir/"}, {Key: "dir/b"},
			}},
			wantOut:  "a | a dir/b ",
			wantUsed: "kv.list(app)",
		},
		{
			name:        "nested queries are discovered as data arrives",
			text:        `{{ range services }}{{ range service .Name }}{{ .Address }}{{ end }}{{ end }}`,
			data:        mapData{"catalog.services()": []*watch.CatalogService{{Name: "web"}}},
			wantUsed:    "catalog.services() health.service(web)",
			wantMissing: "health.service(web)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := template.Parse("t", tc.text, template.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tmpl.Execute(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != tc.wantOut || keys(res.Used) != tc.wantUsed || keys(res.Missing) != tc.wantMissing {
				t.Errorf("out %q used %q missing %q; want %q %q %q",
					res.Output, keys(res.Used), keys(res.Missing), tc.wantOut, tc.wantUsed, tc.wantMissing)
			}
		})
	}
}

func TestExecuteBadQueryNamesPlace(t *testing.T) {
	tmpl, err := template.Parse("t.tmpl", "\n{{ service \"bad name!\" }}", template.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tmpl.Execute(mapData{})
	if err == nil || !strings.Contains(err.Error(), "t.tmpl:2:3") || !strings.Contains(err.Error(), `"bad name!"`) {
		t.Fatalf("err %v, want one naming t.tmpl:2:3 and the query", err)
	}
}

func TestEnvAndDelimiters(t *testing.T) {
	tmpl, err := template.Parse("t", `[[ env "X" ]]{{ x }}`, template.Options{
		LeftDelim: "[[", RightDelim: "]]", Getenv: func(k string) string { return "val-" + k },
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := tmpl.Execute(mapData{})
	if err != nil || string(res.Output) != "val-X{{ x }}" {
		t.Fatalf("got %q %v", res.Output, err)
	}
}
