package template_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

func TestDeniedFunctionsFailAtParse(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		opts    template.Options
		wantErr string // "" when the template must parse
	}{
		{name: "plugin is off by default", text: "x\n  {{ plugin \"echo\" }}",
			wantErr: `t.tmpl:2:6: function "plugin" is denied: it is disabled unless allow_functions lists it`},
		{name: "writeToFile is off by default", text: `{{ "a" | writeToFile "/tmp/x" "" "" "0644" }}`,
			wantErr: `function "writeToFile" is denied: it is disabled unless allow_functions lists it`},
		{name: "plugin allowed", text: `{{ plugin "echo" }}`, opts: template.Options{Allow: []string{"plugin"}}},
		{name: "glob denies sprig", text: `{{ "x" | sprig_upper }}`, opts: template.Options{Denylist: []string{"sprig_*"}},
			wantErr: `t.tmpl:1:10: function "sprig_upper" is denied: function_denylist denies it ("sprig_*")`},
		{name: "denylist wins over allow", text: `{{ plugin "echo" }}`,
			opts:    template.Options{Allow: []string{"plugin"}, Denylist: []string{"plug*"}},
			wantErr: `function "plugin" is denied: function_denylist denies it ("plug*")`},
		{name: "data functions can be denied", text: `{{ key "a" }}`, opts: template.Options{Denylist: []string{"key"}},
			wantErr: `function "key" is denied`},
		{name: "a denied function not used is fine", text: `{{ "x" }}`, opts: template.Options{Denylist: []string{"*"}}},
		{name: "a bad glob is an error", text: `x`, opts: template.Options{Denylist: []string{"["}},
			wantErr: `function_denylist "["`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := template.Parse("t.tmpl", tc.text, tc.opts)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestPluginAndWriteToFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sub", "written.txt")
	text := `[{{ plugin "printf" "  %s-%s " " a " "" "b" }}]` +
		`{{ "one" | writeToFile "` + out + `" "" "" "0600" }}` +
		`{{ "two" | writeToFile "` + out + `" "" "" "0600" "append,newline" }}`
	tmpl, err := template.Parse("t.tmpl", text, template.Options{Allow: template.OptIn})
	if err != nil {
		t.Fatal(err)
	}
	res, err := tmpl.Execute(mapData{})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Output) != "[a-b]" {
		t.Fatalf("output %q, want [a-b]", res.Output)
	}
	b, err := os.ReadFile(out)
	if err != nil || string(b) != "onetwo\n" {
		t.Fatalf("file %q, %v; want \"onetwo\\n\"", b, err)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	tmpl, _ = template.Parse("p.tmpl", `{{ plugin "false" }}`, template.Options{Allow: []string{"plugin"}})
	if _, err := tmpl.Execute(mapData{}); err == nil || !strings.Contains(err.Error(), `p.tmpl:1:3: plugin "false": plugin "false": exit status 1`) {
		t.Fatalf("err = %v", err)
	}
}

func TestExecErrorsNamePlaceFunctionAndQuery(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		want     string
		wantFunc string
	}{
		{name: "bad query literal", text: "a\n  {{ service \"web/x\" }}",
			want:     `t.tmpl:2:5: service "web/x": invalid query: service "web/x": want`,
			wantFunc: "service"},
		{name: "bad query from a variable", text: `{{ $q := "we b" }}{{ range connect $q "any" }}{{ end }}`,
			want:     `t.tmpl:1:27: connect $q "any": invalid query: connect "we b|any"`,
			wantFunc: "connect"},
		{name: "bad status", text: `{{ service "web" "sick" }}`,
			want: `t.tmpl:1:3: service "web" "sick": invalid query: service "web|sick": invalid status filter "sick"`, wantFunc: "service"},
		{name: "missing field", text: "{{ range service \"web\" }}\n{{ .Nope }}{{ end }}",
			want: "t.tmpl:2:3: .Nope: can't evaluate field Nope"},
		{name: "guard", text: `{{ mustPort "x" }}`, want: `t.tmpl:1:3: mustPort "x": mustPort "x": unsafe value`, wantFunc: "mustPort"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := template.Parse("t.tmpl", tc.text, template.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.Execute(mapData{"health.service(web)": []*watch.HealthService{{Name: "web"}}})
			var ee *template.ExecError
			if !errors.As(err, &ee) || !strings.HasPrefix(err.Error(), tc.want) || ee.Func != tc.wantFunc {
				t.Fatalf("err = %v (func %q), want prefix %q and func %q", err, funcOf(ee), tc.want, tc.wantFunc)
			}
		})
	}
}

func funcOf(e *template.ExecError) string {
	if e == nil {
		return ""
	}
	return e.Func
}
