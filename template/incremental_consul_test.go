package template_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// consulInstance is one service instance the test registered.
type consulInstance struct{ node, id, name string }

// TestIncrementalMatchesFullAgainstConsul drives a real Consul with random
// registrations, deregistrations, health flips, tag changes and KV edits,
// feeds a Store through the watcher, and after every update compares the
// incremental and full executions of the recipes and more.
func TestIncrementalMatchesFullAgainstConsul(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Consul")
	}
	a := consultest.Start(t)
	rng := rand.New(rand.NewPCG(42, 4242))
	var insts []consulInstance
	register := func(in consulInstance) {
		var tags []string
		for _, tag := range regTags {
			if rng.IntN(2) == 0 {
				tags = append(tags, tag)
			}
		}
		a.RegisterService(t, consultest.Service{
			Node: in.node, Address: "10.9.0." + in.node[len(in.node)-1:], ID: in.id, Name: in.name, Tags: tags,
			ServiceAddress: fmt.Sprintf("10.1.%d.%d", rng.IntN(4), rng.IntN(250)+1), Port: 8000 + rng.IntN(100),
			Meta:   map[string]string{"weight": fmt.Sprint(rng.IntN(20))},
			Checks: []consultest.Check{{CheckID: "chk-" + in.id, ServiceID: in.id, Status: regStatuses[rng.IntN(len(regStatuses))]}},
		})
	}
	next := 0
	newInstance := func() consulInstance {
		next++
		in := consulInstance{node: fmt.Sprintf("n%d", rng.IntN(3)), id: fmt.Sprintf("i%d", next), name: fmt.Sprintf("svc%d", rng.IntN(6))}
		insts = append(insts, in)
		return in
	}
	for range 15 {
		register(newInstance())
	}
	a.PutKV(t, "app/a", "0")
	pairs := consulCorpus(t)
	c, err := consul.New(consul.Options{Address: a.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	w := watch.New(t.Context(), c, watch.Options{Wait: 5 * time.Second})
	defer w.Close()
	st := watch.NewStore()
	compared := 0
	execAll := func(where string) {
		t.Helper()
		var used []watch.Spec
		for _, p := range pairs {
			ra, errA := p.inc.Execute(st)
			rb, errB := p.full.Execute(st)
			compareResults(t, p.name+": "+where, ra, rb, errA, errB)
			used = append(used, rb.Used...)
		}
		compared++
		if _, err := w.Sync(used); err != nil {
			t.Fatal(err)
		}
	}
	// pump applies updates, comparing after each, until none arrives for
	// quiet; a change may change nothing (a check set to its status).
	silent := 0
	pump := func(where string, quiet time.Duration) {
		t.Helper()
		wait := 3 * time.Second
		for n := 0; ; n++ {
			select {
			case u := <-w.Updates():
				st.Apply(u)
				execAll(fmt.Sprintf("%s, update %d", where, n))
				wait = quiet
			case <-time.After(wait):
				if n == 0 {
					silent++
				}
				return
			}
		}
	}
	execAll("start")
	pump("start", 300*time.Millisecond)
	for step := range 40 {
		where := fmt.Sprintf("step %d", step)
		switch op := rng.IntN(5); {
		case op == 0 || len(insts) < 3:
			register(newInstance())
		case op == 1:
			i := rng.IntN(len(insts))
			a.DeregisterService(t, insts[i].node, insts[i].id)
			insts = slices.Delete(insts, i, i+1)
		case op == 2:
			in := insts[rng.IntN(len(insts))]
			a.SetCheck(t, in.node, "chk-"+in.id, in.id, regStatuses[rng.IntN(len(regStatuses))])
		case op == 3:
			register(insts[rng.IntN(len(insts))]) // new tags, address, port, meta and status
		default:
			a.PutKV(t, fmt.Sprintf("app/%c", 'a'+rune(rng.IntN(4))), fmt.Sprint(step+1))
		}
		pump(where, 150*time.Millisecond)
	}
	var reused uint64
	for _, p := range pairs {
		_, r, _ := template.IncrementalStats(p.inc)
		reused += r
	}
	if reused == 0 || silent > 10 {
		t.Errorf("%d iterations reused, %d changes of 40 without an update", reused, silent)
	}
	t.Logf("%d comparisons, %d iterations reused", compared, reused)
}

type diffPair struct {
	name      string
	inc, full *template.Template
}

func consulCorpus(t *testing.T) []diffPair {
	t.Helper()
	cases := []diffCase{
		corpusFile(t, "nginx", "../examples/nginx/upstreams.tmpl", template.Options{}),
		corpusFile(t, "haproxy", "../examples/haproxy/backends.tmpl", template.Options{}),
		corpusFile(t, "dnsmasq", "../examples/dnsmasq/hosts.tmpl", template.Options{}),
		{name: "bench", text: benchTemplate},
		{name: "any", text: "{{range services}}{{.Name}} {{.Tags}}{{range service (printf \"%s|any\" .Name)}} {{.ID}}/{{.Status}}/{{.Tags}}{{end}}\n{{end}}"},
		{name: "kv", text: "{{range tree \"app\"}}{{.Key}}={{.Value}}\n{{end}}{{range nodes}}{{.Node}} {{.Address}}\n{{end}}"},
	}
	var out []diffPair
	for _, c := range cases {
		inc, err := template.Parse(c.name, c.text, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		opts := c.opts
		opts.NoIncremental = true
		full, err := template.Parse(c.name, c.text, opts)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, diffPair{name: c.name, inc: inc, full: full})
	}
	return out
}
