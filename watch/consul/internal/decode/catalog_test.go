package decode

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// sameServiceTags fails t unless ServiceTags and encoding/json into
// map[string][]string (what the api client did) agree on body.
func sameServiceTags(t *testing.T, name string, body []byte) {
	t.Helper()
	var want map[string][]string
	wantErr := json.NewDecoder(bytes.NewReader(body)).Decode(&want)
	for _, in := range []*Interner{nil, {}} {
		got, err := ServiceTags(body, in)
		switch {
		case (err != nil) != (wantErr != nil):
			t.Fatalf("%s: error %v, encoding/json's %v\nbody: %q", name, err, wantErr, body)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("%s: got %#v, want %#v\nbody: %q", name, got, want, body)
		}
	}
}

var serviceTagsCases = []struct{ name, body string }{
	{name: "empty", body: `{}`},
	{name: "null", body: `null`},
	{name: "typical", body: `{"consul":[],"web":["v1","http"],"db":null}`},
	{name: "indented", body: "{\n    \"a\": [\n        \"x\"\n    ]\n}"},
	{name: "repeated name keeps the last", body: `{"a":["x"],"a":["y","z"]}`},
	{name: "escapes and invalid utf-8", body: "{\"a\\u00e9\\ud800\":[\"\\n\",\"\xff\",null]}"},
	{name: "not an object", body: `[]`},
	{name: "tags not a list", body: `{"a":"x"}`},
	{name: "tag not a string", body: `{"a":[1]}`},
	{name: "truncated", body: `{"a":["x"`},
}

func TestDecodeServiceTagsMatchesEncodingJSON(t *testing.T) {
	for _, tc := range serviceTagsCases {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			for n := range len(body) + 1 {
				sameServiceTags(t, tc.name, body[:n])
			}
		})
	}
}
