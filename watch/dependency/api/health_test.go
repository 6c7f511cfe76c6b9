package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"text/template"
	"time"
)

// The printed and JSON forms of a check definition depend on which methods
// have pointer receivers, as in Consul's API client that consul-template
// hands to templates: these cases pin them.
func TestCheckDefinitionForms(t *testing.T) {
	check := &HealthCheck{CheckID: "c1", Definition: HealthCheckDefinition{
		HTTP: "http://x/health", IntervalDuration: 10 * time.Second, Interval: ReadableDuration(10 * time.Second),
	}}
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "record prints nanoseconds", text: `{{ .Definition }}`,
			want: "{http://x/health map[]    false  false    false 10s 0s 0s  10000000000 0 0}"},
		{name: "field alone prints a duration", text: `{{ .Definition.Interval }}`, want: "10s"},
		{name: "printf of the field copies it", text: `{{ printf "%v" .Definition.Interval }}`, want: "10000000000"},
		{name: "type names", text: `{{ printf "%T %T" . .Definition.Interval }}`, want: "*api.HealthCheck api.ReadableDuration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := template.Must(template.New("").Parse(tc.text)).Execute(&b, check); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got  %q\nwant %q", b.String(), tc.want)
			}
		})
	}
	if got := fmt.Sprint(&check.Definition.Timeout); got != "0s" {
		t.Errorf("*ReadableDuration prints %q, want 0s", got)
	}

	whole, err := json.Marshal(check)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"Definition":{"Interval":"10s","Timeout":"0s","DeregisterCriticalServiceAfter":"0s","HTTP":"http://x/health",`; !strings.Contains(string(whole), want) {
		t.Errorf("json of a check: %s\nwant it to contain %s", whole, want)
	}
	alone, err := json.Marshal(check.Definition)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"GRPCUseTLS":false,"Interval":10000000000,"Timeout":0,"DeregisterCriticalServiceAfter":0}`; !strings.HasSuffix(string(alone), want) {
		t.Errorf("json of a copied definition: %s\nwant it to end with %s", alone, want)
	}
}
