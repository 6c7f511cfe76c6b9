package template_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// BenchmarkChange measures one execution after one service of 1,000 × 10
// changed (an instance's health flips back and forth), incrementally and in
// full: go test ./template -run '^$' -bench Change -benchmem
func BenchmarkChange(b *testing.B) {
	for _, mode := range []struct {
		name string
		full bool
	}{{name: "incremental"}, {name: "full", full: true}} {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/%dx10", mode.name, n), func(b *testing.B) { benchChange(b, benchTemplate, n, 10, mode.full) })
		}
	}
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("issue4/%dx10", n), func(b *testing.B) { benchChange(b, issueTemplate, n, 10, false) })
	}
}

// issueTemplate is the template of issue 4's goals.
const issueTemplate = "{{range services}}{{if ne .Name \"consul\"}}{{range service .Name}}{{.Address}}:{{.Port}}\n{{end}}{{end}}{{end}}"

func benchChange(b *testing.B, text string, services, instances int, full bool) {
	st := benchStore(b, services, instances)
	tmpl, err := template.Parse("bench.tmpl", text, template.Options{NoIncremental: full})
	if err != nil {
		b.Fatal(err)
	}
	first, err := tmpl.Execute(st)
	if err != nil || !first.Complete() {
		b.Fatalf("err %v, missing %d", err, len(first.Missing))
	}
	spec, _ := watch.ParseService(fmt.Sprintf("svc%04d", services/2))
	v, _ := st.Get(spec.String())
	before := v.([]*watch.HealthService)
	after := before[1:] // one instance leaves the passing list
	b.ReportAllocs()
	cpu, faults := processCPU(), pageFaults()
	n := 0
	for b.Loop() {
		list := after
		if n%2 == 1 {
			list = before
		}
		st.Apply(watch.Update{Key: spec.String(), Value: list, Index: uint64(n + 2)})
		res, err := tmpl.Execute(st)
		if err != nil || len(res.Output) == 0 {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(n), "cpu-ns/op")
	b.ReportMetric(float64(pageFaults()-faults)/float64(n), "faults/op")
}

// BenchmarkFirstExecute measures the first execution of a freshly parsed
// template at 1,000 × 10, which fills the fragment caches: what incremental
// execution costs at start-up.
func BenchmarkFirstExecute(b *testing.B) {
	for _, c := range []struct {
		name, text string
		services   int
		full       bool
	}{
		{name: "incremental/1000x10", text: benchTemplate, services: 1000},
		{name: "full/1000x10", text: benchTemplate, services: 1000, full: true},
		{name: "issue4/1000x10", text: issueTemplate, services: 1000},
		{name: "issue4/10000x10", text: issueTemplate, services: 10000},
	} {
		b.Run(c.name, func(b *testing.B) {
			st := benchStore(b, c.services, 10)
			b.ReportAllocs()
			cpu, n := processCPU(), 0
			for b.Loop() {
				tmpl, err := template.Parse("bench.tmpl", c.text, template.Options{NoIncremental: c.full})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tmpl.Execute(st); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(n), "cpu-ns/op")
		})
	}
}

// BenchmarkCatalogChange measures an execution of issue 4's template after
// a service was registered or deregistered: the catalog's list changed, so
// the fragment matches its iterations one by one and Used changes.
func BenchmarkCatalogChange(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("issue4/%dx10", n), func(b *testing.B) {
			st := benchStore(b, n, 10)
			tmpl, err := template.Parse("bench.tmpl", issueTemplate, template.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tmpl.Execute(st); err != nil {
				b.Fatal(err)
			}
			key := watch.Spec{Kind: watch.KindCatalogServices}.String()
			v, _ := st.Get(key)
			before := v.([]*watch.CatalogService)
			after := append(slices.Clone(before), &watch.CatalogService{Name: "new"})
			b.ReportAllocs()
			cpu, i := processCPU(), 0
			for b.Loop() {
				list := after
				if i%2 == 1 {
					list = before
				}
				st.Apply(watch.Update{Key: key, Value: list, Index: uint64(i + 2)})
				res, err := tmpl.Execute(st)
				if err != nil || !res.UsedChanged {
					b.Fatalf("err %v, UsedChanged %v", err, res.UsedChanged)
				}
				i++
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(i), "cpu-ns/op")
		})
	}
}
