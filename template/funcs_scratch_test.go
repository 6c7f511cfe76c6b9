package template

import (
	"testing"
)

func TestScratchAndExecuteTemplate(t *testing.T) {
	runHelperCases(t, []helperCase{
		{name: "Get unset", text: `{{ scratch.Get "x" }}`, want: "<no value>"},
		{name: "Key of nil value", text: `{{ scratch.Set "x" nil }}{{ scratch.Key "x" }}`, want: "true"},
		{name: "SetX keeps", text: `{{ scratch.Set "x" 1 }}{{ scratch.SetX "x" 2 }}{{ scratch.Get "x" }}`, want: "1"},
		{name: "Set replaces", text: `{{ scratch.Set "x" 1 }}{{ scratch.Set "x" 2 }}{{ scratch.Get "x" }}`, want: "2"},
		{name: "MapValues sorted", text: `{{ scratch.MapSet "m" "b" 2 }}{{ scratch.MapSet "m" "a" 1 }}{{ scratch.MapSetX "m" "a" 9 }}{{ scratch.MapValues "m" }}`, want: "[1 2]"},
		{name: "MapSet on non-map", text: `{{ scratch.Set "s" 1 }}{{ scratch.MapSet "s" "k" 1 }}`, wantErr: `scratch.MapSet: "s" is not a map`},
		{name: "MapSetX on non-map", text: `{{ scratch.Set "s" 1 }}{{ scratch.MapSetX "s" "k" 1 }}`, wantErr: `scratch.MapSetX: "s" is not a map`},
		{name: "MapValues of non-map", text: `{{ scratch.Set "s" 1 }}{{ scratch.MapValues "s" | len }}`, want: "0"},
		{name: "Get map", text: `{{ scratch.MapSet "m" "k" "v" }}{{ (scratch.Get "m").k }}`, want: "v"},
		{name: "executeTemplate dot", text: `{{ define "t" }}[{{ . }}]{{ end }}{{ executeTemplate "t" }}{{ executeTemplate "t" 42 }}`, want: "[<no value>][42]"},
		{name: "executeTemplate into variable", text: `{{ define "t" }}x{{ end }}{{ $v := executeTemplate "t" }}{{ $v }}{{ $v }}`, want: "xx"},
		{name: "executeTemplate sees data functions", text: `{{ define "ids" }}{{ range service "web" }}{{ .ID }} {{ end }}{{ end }}{{ executeTemplate "ids" }}`, want: "web-1 web-2 web-3 "},
		{name: "executeTemplate unknown", text: `{{ executeTemplate "nope" }}`, wantErr: `executeTemplate: template: no template "nope"`},
		{name: "executeTemplate arity", text: `{{ define "t" }}{{ end }}{{ executeTemplate "t" 1 2 }}`, wantErr: "executeTemplate: wrong number of arguments, expected 1 or 2, but got 3"},
	})
}

func TestScratchIsFreshPerExecute(t *testing.T) {
	tmpl, err := Parse("t", `{{ scratch.Get "n" }}{{ scratch.Set "n" 1 }}{{ scratch.MapSetX "m" "k" "v" }}`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		res, err := tmpl.Execute(goldenData{})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(res.Output); got != "<no value>" {
			t.Fatalf("execution %d: got %q, want the scratchpad empty", i, got)
		}
	}
}
