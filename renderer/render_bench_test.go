package renderer

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// benchTemplate is the template of the bench tool's scenarios: every
// instance of every service.
const benchTemplate = `{{range services}}{{if ne .Name "consul"}}{{range service .Name}}{{.Address}}:{{.Port}}
{{end}}{{end}}{{end}}`

// benchWatcher is a Watcher that watches nothing.
type benchWatcher struct{ syncs int }

func (w *benchWatcher) Sync([]watch.Spec) ([]string, error) { w.syncs++; return nil, nil }
func (w *benchWatcher) Updates() <-chan watch.Update        { return nil }
func (w *benchWatcher) Current(watch.Update) bool           { return true }

// benchHealth returns the instances of service i, without instance drop
// when down is false, else without its last.
func benchHealth(i, instances int, down bool) []*watch.HealthService {
	name := fmt.Sprintf("svc%04d", i)
	if down {
		instances--
	}
	list := make([]*watch.HealthService, instances)
	for j := range instances {
		list[j] = &watch.HealthService{
			Node: fmt.Sprintf("node%02d", j), ID: fmt.Sprintf("%s-%d", name, j), Name: name,
			Address: fmt.Sprintf("10.%d.%d.%d", i/256, i%256, j+1), Port: 8000 + j, Status: "passing",
		}
	}
	return list
}

// benchAgent returns an agent (not running) whose store holds services ×
// instances healthy instances, with the keys of the services' queries, after
// its first render.
func benchAgent(b *testing.B, services, instances int) (*Agent, []string) {
	b.Helper()
	tmpl, err := template.Parse("bench.tmpl", benchTemplate, template.Options{})
	if err != nil {
		b.Fatal(err)
	}
	t := Template{Source: "bench.tmpl", Tmpl: tmpl, Dest: filepath.Join(b.TempDir(), "out.txt"),
		File: DefaultFileOptions(), Command: ParseCommand("true")}
	a := New([]Template{t}, &benchWatcher{}, Options{Logger: slog.New(slog.DiscardHandler)})
	catalog := make([]*watch.CatalogService, services)
	keys := make([]string, services)
	for i := range services {
		catalog[i] = &watch.CatalogService{Name: fmt.Sprintf("svc%04d", i)}
		spec, err := watch.ParseService(catalog[i].Name)
		if err != nil {
			b.Fatal(err)
		}
		keys[i] = spec.String()
		a.store.Apply(watch.Update{Key: keys[i], Value: benchHealth(i, instances, false), Index: 1})
	}
	a.store.Apply(watch.Update{Key: watch.Spec{Kind: watch.KindCatalogServices}.String(), Value: catalog, Index: 1})
	a.renderDue(time.Now())
	if j := a.jobs[0]; !j.rendered {
		b.Fatalf("no first render: missing %d", len(j.missing))
	}
	return a, keys
}

// BenchmarkRenderChange is the agent's work for one change of one service
// of the 1,000 × 10 template: store the new value, execute, check the
// instance counts, stage and commit the output (with fsync). Run it with
//
//	go test ./renderer -run '^$' -bench RenderChange -benchmem -count 5
func BenchmarkRenderChange(b *testing.B) {
	a, keys := benchAgent(b, 1000, 10)
	down := make([]bool, len(keys))
	b.ReportAllocs()
	cpu := processCPU()
	n := 0
	for b.Loop() {
		i := (n * 7) % len(keys)
		down[i] = !down[i]
		now := time.Now()
		a.store.Apply(watch.Update{Key: keys[i], Value: benchHealth(i, 10, down[i]), Index: uint64(n + 2)})
		for _, j := range a.jobs {
			j.touch(keys[i], now)
		}
		a.renderDue(now)
		if j := a.jobs[0]; j.dirty || j.state != "" {
			b.Fatalf("render %d: dirty %v, state %q: %s", n, j.dirty, j.state, j.reason)
		}
		n++
	}
	b.ReportMetric(float64(processCPU()-cpu)/float64(n), "cpu-ns/op")
}

// processCPU returns the CPU time the process has used, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkColdStart is the agent's work from the first answer to the first
// render of the 1,000 × 10 template when the services' answers arrive in
// batches of 20 every 20 ms (a simulated clock), as they do from Consul:
// it reports the template's executions and the CPU per cold start.
func BenchmarkColdStart(b *testing.B) {
	const services, batch = 1000, 20
	catalog := make([]*watch.CatalogService, services)
	keys := make([]string, services)
	values := make([][]*watch.HealthService, services)
	for i := range services {
		catalog[i] = &watch.CatalogService{Name: fmt.Sprintf("svc%04d", i)}
		spec, _ := watch.ParseService(catalog[i].Name)
		keys[i], values[i] = spec.String(), benchHealth(i, 10, false)
	}
	b.ReportAllocs()
	cpu, execs := processCPU(), 0
	for b.Loop() {
		b.StopTimer()
		tmpl, err := template.Parse("bench.tmpl", benchTemplate, template.Options{})
		if err != nil {
			b.Fatal(err)
		}
		t := Template{Source: "bench.tmpl", Tmpl: tmpl, Dest: filepath.Join(b.TempDir(), "out.txt"), File: DefaultFileOptions()}
		a := New([]Template{t}, &benchWatcher{}, Options{Logger: slog.New(slog.DiscardHandler)})
		j := a.jobs[0]
		b.StartTimer()
		now := time.Now()
		step := func(key string, v any) {
			if a.store.Apply(watch.Update{Key: key, Value: v, Index: 1}) {
				j.touch(key, now)
			}
		}
		a.renderDue(now)
		execs++
		step(watch.Spec{Kind: watch.KindCatalogServices}.String(), catalog)
		for i := 0; !j.rendered; i += batch {
			if i >= services {
				b.Fatalf("no render after every answer: missing %d", len(j.missing))
			}
			for k := i; k < i+batch && k < services; k++ {
				step(keys[k], values[k])
			}
			for ; !j.dueAt().IsZero() && !j.dueAt().After(now); execs++ {
				a.renderDue(now)
			}
			now = now.Add(20 * time.Millisecond)
		}
	}
	b.ReportMetric(float64(execs)/float64(b.N), "execs/op")
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}
