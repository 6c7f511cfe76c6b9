package template_test

import (
	"fmt"
	"log"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// staticData serves query results from a map keyed by the queries'
// canonical strings.
type staticData map[string]any

func (d staticData) Get(key string) (any, bool) {
	v, ok := d[key]
	return v, ok
}

// A template is parsed once and executed against whatever data has arrived;
// here, fixed data for `service "web"`, shaped with helper functions.
func Example_helpers() {
	web, err := watch.ParseService("web")
	if err != nil {
		log.Fatal(err)
	}
	data := staticData{web.String(): []*watch.HealthService{
		{Node: "node-a", Address: "10.0.0.1", Port: 8080, Tags: watch.ServiceTags{"prod", "v1"}},
		{Node: "node-b", Address: "10.0.0.2", Port: 8080, Tags: watch.ServiceTags{"canary"}},
	}}

	tmpl, err := template.Parse("upstream.conf.tmpl", `
{{- range $tag, $instances := service "web" | byTag }}
upstream web_{{ $tag | toUpper }} {
{{- range $instances }}
  server {{ .Address }}:{{ .Port | add 1 }}; # {{ .Tags | join "," }}
{{- end }}
}
{{- end }}
`, template.Options{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := tmpl.Execute(data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(res.Output))
	// Output:
	// upstream web_CANARY {
	//   server 10.0.0.2:8081; # canary
	// }
	// upstream web_PROD {
	//   server 10.0.0.1:8081; # prod,v1
	// }
	// upstream web_V1 {
	//   server 10.0.0.1:8081; # prod,v1
	// }
}
