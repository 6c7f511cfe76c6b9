package template_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// diffCase is a template of the differential corpus; fragments is how many
// ranges must be incremental (-1: not checked, for the compat corpus).
type diffCase struct {
	name, text string
	opts       template.Options
	fragments  int
}

// inlineCorpus covers what may and may not become a fragment.
var inlineCorpus = []diffCase{
	{name: "bench", text: benchTemplate, fragments: 1},
	{name: "index variable", fragments: 1,
		text: "{{range $i, $s := services}}{{$i}}:{{$s.Name}}{{range service $s.Name}} {{.Address}}:{{.Port}}{{end}}\n{{end}}"},
	{name: "element variable", fragments: 1,
		text: "{{range $s := services}}{{$n := 0}}{{range service $s.Name}}{{$n = add $n 1}}{{end}}{{$s.Name}}={{$n}}\n{{end}}"},
	{name: "any status and tag", fragments: 2,
		text: "{{range services}}{{.Name}}{{range service (printf \"%s|any\" .Name)}} {{.ID}}/{{.Status}}{{end}}\n{{end}}{{range service \"http.svc03\"}}{{.ID}}{{end}}"},
	{name: "kv", fragments: 2,
		text: "{{range tree \"app\"}}{{.Key}}={{.Value}} {{keyOrDefault (printf \"cfg/%s\" .Key) \"none\"}}\n{{end}}{{range ls \"cfg\"}}{{.Key}} {{keyExists (printf \"app/%s\" .Key)}}\n{{end}}"},
	{name: "key waits", fragments: 1, text: "{{range ls \"app\"}}{{.Key}}={{key (printf \"cfg/%s\" .Key)}}\n{{end}}"},
	{name: "nodes", fragments: 1, text: "{{range nodes}}{{.Node}} {{.Address}}\n{{end}}"},
	{name: "continue", fragments: 1,
		text: "{{range services}}{{if .Tags.Contains \"canary\"}}{{continue}}{{end}}{{.Name}} {{len (service .Name)}}\n{{end}}"},
	{name: "define", fragments: 1,
		text: "{{define \"inst\"}}{{.Address}}:{{.Port}}{{end}}{{range services}}{{range service .Name}}{{template \"inst\" .}} {{end}}\n{{end}}"},
	{name: "execute template", fragments: 1,
		text: "{{define \"n\"}}<{{.}}>{{end}}{{range services}}{{executeTemplate \"n\" .Name}}{{end}}"},
	{name: "errors", fragments: 1, text: "{{range services}}{{.Name}}={{index .Tags 2}}\n{{end}}"},
	{name: "outer variable in both", fragments: 1,
		text: "{{$w := keyOrDefault \"cfg/a\" \"1\"}}{{range services}}{{.Name}}:{{$w}}{{range service .Name}} {{.ID}}{{end}}\n{{end}}"},
	{name: "scratch in body", fragments: 1,
		text: "{{range services}}{{scratch.MapSet \"s\" .Name (len (service .Name))}}{{end}}{{range $v := scratch.MapValues \"s\"}}{{$v}} {{end}}"},
	{name: "scratch in template", fragments: 0,
		text: "{{define \"x\"}}{{scratch.Set \"a\" .}}{{end}}{{range services}}{{executeTemplate \"x\" .Name}}{{scratch.Get \"a\"}}{{end}}"},
	{name: "outer variable", fragments: 1,
		text: "{{$x := keyOrDefault \"cfg/a\" \"z\"}}{{range services}}{{.Name}}={{$x}}{{end}}"},
	{name: "shadowed variable", fragments: 1,
		text: "{{$x := keyOrDefault \"cfg/b\" \"z\"}}{{range services}}{{$x}}{{$x := .Name}}{{$x}}{{range service .Name}}{{$x}}{{end}}\n{{end}}"},
	{name: "interface variable", fragments: 2,
		text: "{{$n := 0}}{{range $x := parseJSON `[1, \"a\", null]`}}{{$n = 1}}{{range services}}{{$x}}{{.Name}}{{end}}{{end}}{{range $y := parseJSON `[2]`}}{{$y}}{{end}}"},
	{name: "inner fragment", fragments: 1,
		text: "{{$n := 0}}{{range services}}{{$n = 1}}{{.Name}}{{range service .Name}} {{.ID}}{{$n}}{{end}}\n{{end}}"},
	{name: "inner fragment, lists repeated", fragments: 1,
		text: "{{$n := 0}}{{range ls \"cfg\"}}{{$n = 1}}{{range service (printf \"svc0%s\" .Value)}}{{.ID}}={{keyOrDefault (printf \"app/%s\" .Node) \"-\"}} {{end}}\n{{end}}"},
	{name: "reads switched", fragments: 1,
		text: "{{range services}}{{if eq (keyOrDefault \"cfg/a\" \"0\") \"1\" \"2\"}}{{range service .Name}}{{.Address}} {{end}}{{end}}{{.Name}}\n{{end}}"},
	{name: "outer assignment", fragments: 0, text: "{{$n := 0}}{{range services}}{{$n = .Name}}{{end}}{{$n}}"},
	{name: "dollar", fragments: 0, text: "{{range services}}{{$}}{{end}}"},
	{name: "break", fragments: 0,
		text: "{{range services}}{{if .Tags.Contains \"v2\"}}{{break}}{{end}}{{.Name}}{{end}}"},
	{name: "else", fragments: 0, text: "{{range ls \"app/sub\"}}{{.Key}}{{else}}empty{{end}}"},
	{name: "file", fragments: 1, text: "{{range services}}{{.Name}}{{file \"/etc/hostname\" | len}}{{end}}"},
	{name: "sandboxed file", fragments: 0, opts: template.Options{SandboxPath: "/nonexistent"},
		text: "{{range services}}{{.Name}}{{file \"/etc/hostname\" | len}}{{end}}"},
	{name: "timestamp", fragments: 0, text: "{{range services}}{{.Name}}{{timestamp \"2006\" | len}}{{end}}"},
}

// corpusFile reads a template of the repository's corpus.
func corpusFile(t *testing.T, name, path string, opts template.Options) diffCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return diffCase{name: name, text: string(b), opts: opts, fragments: -1}
}

// TestIncrementalMatchesFull feeds a Store with random registry changes
// and requires the incremental execution of every template of the corpus
// to give exactly what a full execution gives: output, used and missing
// queries, errors.
func TestIncrementalMatchesFull(t *testing.T) {
	corpus := slices_clone(inlineCorpus)
	recipes := []diffCase{
		corpusFile(t, "nginx", "../examples/nginx/upstreams.tmpl", template.Options{}),
		corpusFile(t, "haproxy", "../examples/haproxy/backends.tmpl", template.Options{}),
		corpusFile(t, "dnsmasq", "../examples/dnsmasq/hosts.tmpl", template.Options{}),
	}
	recipes[0].fragments, recipes[1].fragments, recipes[2].fragments = 1, 1, 1
	corpus = append(corpus, recipes...)
	steps := 120
	if testing.Short() {
		steps = 30
	}
	var reused, fast uint64
	for _, c := range corpus {
		t.Run(c.name, func(t *testing.T) {
			for seed := range uint64(3) {
				r, f := diffRun(t, c, seed, steps)
				reused, fast = reused+r, fast+f
			}
		})
	}
	if reused == 0 || fast == 0 {
		t.Errorf("fragment iterations reused %d times, fragments called from the change log %d times", reused, fast)
	}
}

// TestIncrementalMatchesFullCompat runs the compat corpus, which covers
// every function, the same way.
func TestIncrementalMatchesFullCompat(t *testing.T) {
	paths, err := filepath.Glob("../testdata/compat/*.tmpl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("compat corpus: %v", err)
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".tmpl")
		opts := template.Options{Getenv: func(string) string { return "" }}
		switch name {
		case "delimiters_custom":
			opts.LeftDelim, opts.RightDelim = "[[", "]]"
		case "error_on_missing_key":
			opts.ErrOnMissingKey = true
		case "plugin_allowed", "write_to_file", "file_sandbox":
			continue // acts on the host; none of its ranges is a fragment anyway
		}
		c := corpusFile(t, name, p, opts)
		t.Run(name, func(t *testing.T) { diffRun(t, c, 7, 25) })
	}
}

func slices_clone(c []diffCase) []diffCase { return append([]diffCase(nil), c...) }

// diffRun runs steps rounds of random changes against c and returns how
// many iterations the incremental template reused and how many fragment
// calls ran from the change log.
func diffRun(t *testing.T, c diffCase, seed uint64, steps int) (reused, fast uint64) {
	t.Helper()
	inc, err := template.Parse(c.name, c.text, c.opts)
	if err != nil {
		t.Skipf("does not parse: %v", err)
	}
	fullOpts := c.opts
	fullOpts.NoIncremental = true
	full, err := template.Parse(c.name, c.text, fullOpts)
	if err != nil {
		t.Fatal(err)
	}
	if frags, _, _ := template.IncrementalStats(inc); c.fragments >= 0 && frags != c.fragments {
		t.Fatalf("%d fragments, want %d", frags, c.fragments)
	}
	reg := newRegistry(seed)
	st := watch.NewStore()
	known := map[string]watch.Spec{}
	var usedA, usedB usedTracker
	for step := range steps {
		for range step % 3 {
			reg.change()
		}
		for round := 0; ; round++ {
			reg.feed(st, known)
			if len(known) > 0 && reg.rng.IntN(10) == 0 {
				// A query no longer watched is forgotten; its value comes
				// back with the next feed.
				keys := slices.Sorted(mapKeys(known))
				st.Delete(keys[reg.rng.IntN(len(keys))])
			}
			a, errA := inc.Execute(st)
			b, errB := full.Execute(st)
			where := fmt.Sprintf("seed %d step %d round %d", seed, step, round)
			compareResults(t, where, a, b, errA, errB)
			usedA.check(t, where+" incremental", a)
			usedB.check(t, where+" full", b)
			n := len(known)
			for _, s := range b.Used {
				known[s.String()] = s
			}
			if len(known) == n || round > 5 {
				break
			}
		}
	}
	_, reused, _ = template.IncrementalStats(inc)
	return reused, template.FastCalls(inc)
}

// usedTracker checks Result.UsedChanged against a copy of the previous
// execution's Used.
type usedTracker struct {
	prev []watch.Spec
	seen bool
}

func (u *usedTracker) check(t *testing.T, where string, res *template.Result) {
	t.Helper()
	want := !u.seen || !reflect.DeepEqual(u.prev, res.Used)
	if res.UsedChanged != want {
		t.Fatalf("%s: UsedChanged %v, want %v (used %v, previous %v)", where, res.UsedChanged, want, res.Used, u.prev)
	}
	u.prev, u.seen = slices.Clone(res.Used), true
}

func compareResults(t *testing.T, where string, a, b *template.Result, errA, errB error) {
	t.Helper()
	if fmt.Sprint(errA) != fmt.Sprint(errB) {
		t.Fatalf("%s: incremental error %v, full error %v", where, errA, errB)
	}
	if !bytes.Equal(a.Output, b.Output) {
		t.Fatalf("%s: outputs differ\nincremental:\n%s\nfull:\n%s", where, a.Output, b.Output)
	}
	if !reflect.DeepEqual(a.Used, b.Used) || !reflect.DeepEqual(a.Missing, b.Missing) {
		t.Fatalf("%s: queries differ: used %v / %v, missing %v / %v", where, a.Used, b.Used, a.Missing, b.Missing)
	}
}
