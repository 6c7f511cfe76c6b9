package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// sameRefs fails t unless CheckRefs and encoding/json into []CheckRef
// agree on body: both fail, or give equal values.
func sameRefs(t *testing.T, name string, body []byte) {
	t.Helper()
	var wantChecks []CheckRef
	checksErr := json.NewDecoder(bytes.NewReader(body)).Decode(&wantChecks)
	for _, in := range []*Interner{nil, {}} {
		checks, err := CheckRefs(body, in)
		if (err != nil) != (checksErr != nil) || err == nil && !reflect.DeepEqual(checks, wantChecks) {
			t.Fatalf("%s: checks %#v (%v), want %#v (%v)\nbody: %q", name, checks, err, wantChecks, checksErr, body)
		}
	}
}

var refCases = []struct{ name, body string }{
	{name: "null", body: `null`},
	{name: "empty list", body: `[]`},
	{name: "empty object", body: `{}`},
	{name: "checks", body: `[{"Node":"n","CheckID":"c","Name":"x","Status":"critical","Notes":"","Output":"o\n\u00e9",` +
		`"ServiceID":"s","ServiceName":"web","ServiceTags":["a","b"],"Type":"http","Definition":{"HTTP":"x"},"CreateIndex":1},` +
		`null,{"node":"m","SERVICETAGS":null,"status":null},{"ServiceTags":[]}]`},
	{name: "node services", body: `{"Node":{"Node":"n","Meta":{"a":"b"}},"Services":[{"ID":"a","Service":"web","Tags":["x"],` +
		`"ModifyIndex":18446744073709551615,"Proxy":{"Upstreams":[]}},null,{"id":"b","service":"db","modifyindex":0}]}`},
	{name: "node services null list", body: `{"Node":null,"Services":null}`},
	{name: "wrong types", body: `[{"Status":1}]`},
	{name: "wrong index type", body: `{"Services":[{"ModifyIndex":"1"}]}`},
	{name: "negative index", body: `{"Services":[{"ModifyIndex":-1}]}`},
	{name: "not json", body: `{"Services":[`},
}

func TestDecodeRefsMatchEncodingJSON(t *testing.T) {
	for _, tc := range refCases {
		body := []byte(tc.body)
		for n := range len(body) + 1 {
			sameRefs(t, fmt.Sprintf("%s cut at %d", tc.name, n), body[:n])
		}
	}
}
