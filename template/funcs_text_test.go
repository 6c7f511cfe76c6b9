package template

import (
	"testing"

	"github.com/ctpl/ctpl/watch"
)

func TestTextFuncs(t *testing.T) {
	runHelperCases(t, []helperCase{
		{name: "join tags", text: `{{ range service "web" }}{{ .Tags | join "+" }} {{ end }}`, want: "prod+v1 prod+v2 canary "},
		{name: "join split", text: `{{ "a,b,c" | split "," | join ";" }}`, want: "a;b;c"},
		{name: "join nil", text: `{{ join "," nil }}`, want: ""},
		{name: "join interface list", text: `{{ parseJSON "[\"a\"]" | join "," }}`, wantErr: "join: want a list of strings, got []interface {}"},
		{name: "split trims", text: `{{ "\n a\nb \n" | split "\n" }}`, want: "[a b]"},
		{name: "split empty", text: `{{ len ("" | split ",") }}`, want: "0"},
		{name: "splitToMap", text: `{{ "a:1\nb:2:3\nbad\n" | splitToMap "\n" ":" }}`, want: "map[a:1 b:2:3]"},
		{name: "trim cutset", text: `{{ "!!hi!?" | trim "!?" }}`, want: "hi"},
		{name: "indent keeps empty lines", text: `{{ "a\n\nb\r\nc\n" | indent 2 }}`, want: "  a\n\n  b\r\n  c\n"},
		{name: "indent zero", text: `{{ "a\nb" | indent 0 }}`, want: "a\nb"},
		{name: "indent negative", text: `{{ "a" | indent -4 }}`, wantErr: "indent: indent value must be a positive integer"},
		{name: "regexMatch partial", text: `{{ "xfooy" | regexMatch "foo" }}`, want: "true"},
		{name: "regexMatch bad", text: `{{ "x" | regexMatch "(" }}`, wantErr: "regexMatch: error parsing regexp"},
		{name: "regexReplaceAll named", text: `{{ "a-b" | regexReplaceAll "(?P<x>[a-z])" "<${x}>" }}`, want: "<a>-<b>"},
		{name: "regexReplaceAll bad", text: `{{ "x" | regexReplaceAll "[" "" }}`, wantErr: "regexReplaceAll: error parsing regexp"},
		{name: "toTitle unicode", text: "{{ \"with a \U0001F680rocket\u2026and more\" | toTitle }}", want: "With A \U0001F680Rocket\u2026And More"},
		{name: "toTitle keeps capitals", text: `{{ "mIxEd cASE" | toTitle }}`, want: "MIxEd CASE"},
	})
}

func TestJoinAcceptsStringLists(t *testing.T) {
	type label string
	tests := []struct {
		name    string
		list    any
		want    string
		wantErr bool
	}{
		{name: "[]string", list: []string{"a", "b"}, want: "a,b"},
		{name: "ServiceTags", list: watch.ServiceTags{"x", "y"}, want: "x,y"},
		{name: "named elements", list: []label{"p", "q"}, want: "p,q"},
		{name: "array", list: [2]string{"1", "2"}, want: "1,2"},
		{name: "empty", list: []string{}, want: ""},
		{name: "nil", list: nil, want: ""},
		{name: "ints", list: []int{1}, wantErr: true},
		{name: "string", list: "ab", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := join(",", tc.list)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
