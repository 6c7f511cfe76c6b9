package template_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	texttemplate "text/template"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// benchStore returns a Store holding services × instances healthy
// instances, as the agent loop would after every query answered.
func benchStore(b *testing.B, services, instances int) *watch.Store {
	b.Helper()
	st := watch.NewStore()
	catalog := make([]*watch.CatalogService, services)
	for i := range services {
		name := fmt.Sprintf("svc%04d", i)
		catalog[i] = &watch.CatalogService{Name: name, Tags: watch.ServiceTags{"http", "prod"}}
		list := make([]*watch.HealthService, instances)
		for j := range instances {
			list[j] = &watch.HealthService{
				Node: fmt.Sprintf("node%02d", j), ID: fmt.Sprintf("%s-%d", name, j), Name: name,
				Address: fmt.Sprintf("10.%d.%d.%d", i/256, i%256, j+1), Port: 8000 + j, Status: "passing",
				Tags: watch.ServiceTags{"http", "prod"}, ServiceMeta: map[string]string{"weight": "10"},
			}
		}
		spec, err := watch.ParseService(name)
		if err != nil {
			b.Fatal(err)
		}
		st.Apply(watch.Update{Key: spec.String(), Value: list, Index: 1})
	}
	st.Apply(watch.Update{Key: watch.Spec{Kind: watch.KindCatalogServices}.String(), Value: catalog, Index: 1})
	return st
}

// benchTemplate is a typical nginx upstreams template.
const benchTemplate = `{{ range services }}{{ if .Tags | contains "http" }}
upstream {{ .Name }} {
{{- range service .Name }}
  server {{ .Address }}:{{ .Port }} weight={{ index .ServiceMeta "weight" }}; # {{ .ID }} {{ .Node }}
{{- end }}
}
{{- end }}{{ end }}
`

// BenchmarkExecute executes a template ranging over services of 10
// instances each, 1,000 services being the size ctpl must render well under
// 50 ms; the other sizes show that time and allocations grow with the
// output: go test ./template -run '^$' -bench . -benchmem
func BenchmarkExecute(b *testing.B) {
	for _, services := range []int{100, 1000, 2000} {
		b.Run(fmt.Sprintf("%dx10", services), func(b *testing.B) { benchExecute(b, services, 10) })
	}
}

func benchExecute(b *testing.B, services, instances int) {
	st := benchStore(b, services, instances)
	tmpl, err := template.Parse("bench.tmpl", benchTemplate, template.Options{NoIncremental: true})
	if err != nil {
		b.Fatal(err)
	}
	res, err := tmpl.Execute(st)
	if err != nil || !res.Complete() {
		b.Fatalf("err %v, missing %d", err, len(res.Missing))
	}
	b.SetBytes(int64(len(res.Output)))
	b.ReportAllocs()
	cpu := processCPU()
	n := 0
	for b.Loop() {
		if _, err := tmpl.Execute(st); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(n), "cpu-ns/op")
	b.ReportMetric(float64(len(res.Output)), "output-bytes")
}

// BenchmarkTextTemplateBaseline renders the same output with text/template
// alone, from plain structs as dot, to show what ctpl adds to it.
func BenchmarkTextTemplateBaseline(b *testing.B) {
	type service struct {
		Name      string
		Tags      []string
		Instances []*watch.HealthService
	}
	st := benchStore(b, 1000, 10)
	catalogKey := watch.Spec{Kind: watch.KindCatalogServices}.String()
	v, _ := st.Get(catalogKey)
	var dot []service
	for _, cs := range v.([]*watch.CatalogService) {
		spec, _ := watch.ParseService(cs.Name)
		list, _ := st.Get(spec.String())
		dot = append(dot, service{Name: cs.Name, Tags: cs.Tags, Instances: list.([]*watch.HealthService)})
	}
	tmpl := texttemplate.Must(texttemplate.New("b").Funcs(texttemplate.FuncMap{
		"contains": func(v string, l []string) bool { return slices.Contains(l, v) },
	}).Parse(strings.NewReplacer("range services", "range .", "range service .Name", "range .Instances").Replace(benchTemplate)))
	var buf bytes.Buffer
	b.ReportAllocs()
	cpu := processCPU()
	n := 0
	for b.Loop() {
		buf.Reset()
		if err := tmpl.Execute(&buf, dot); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(n), "cpu-ns/op")
	b.ReportMetric(float64(buf.Len()), "output-bytes")
}

// processCPU returns the CPU time the process has used, in nanoseconds: on
// a loaded machine it says more than the wall time of ns/op.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// pageFaults returns how many minor page faults the process has taken: a
// fresh large allocation costs one per page it touches.
func pageFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Minflt
}
