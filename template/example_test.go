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

// ctpl's output helpers let a template refuse registry strings that would
// change the meaning of a config: here an instance whose address is not an
// IP address is left out, and a KV value is quoted for nginx.
func Example_guards() {
	web, _ := watch.ParseService("web")
	owner, _ := watch.ParseKV(watch.KindKVGet, "web/owner")
	data := staticData{
		web.String(): []*watch.HealthService{
			{Node: "a", Address: "10.0.0.1", Port: 8080},
			{Node: "b", Address: "10.0.0.9 backup", Port: 8080},
		},
		owner.String(): watch.KVValue{Value: `team "blue"`, Exists: true},
	}
	tmpl, err := template.Parse("upstream.conf.tmpl", `upstream web {
{{- range service "web" }}{{ if and (isIP .Address) (isPort .Port) }}
  server {{ .Address }}:{{ .Port }};
{{- end }}{{ end }}
}
add_header X-Owner {{ key "web/owner" | nginxQuote }};
`, template.Options{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := tmpl.Execute(data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(res.Output))
	// Output:
	// upstream web {
	//   server 10.0.0.1:8080;
	// }
	// add_header X-Owner "team \"blue\"";
}
