package template_test

import (
	"fmt"
	"testing"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// fastPair is a template executed incrementally and in full, each step
// compared: output, queries, errors and UsedChanged.
type fastPair struct {
	t            *testing.T
	inc, full    *template.Template
	usedA, usedB usedTracker
}

func newFastPair(t *testing.T, text string) *fastPair {
	t.Helper()
	inc, err := template.Parse("fast", text, template.Options{})
	if err != nil {
		t.Fatal(err)
	}
	full, err := template.Parse("fast", text, template.Options{NoIncremental: true})
	if err != nil {
		t.Fatal(err)
	}
	return &fastPair{t: t, inc: inc, full: full}
}

// step executes both against data and returns the incremental Result and
// how many fragment calls ran from the change log and how many iterations
// ran, in this step.
func (p *fastPair) step(where string, data template.Data) (res *template.Result, fast, ran uint64) {
	p.t.Helper()
	fast0 := template.FastCalls(p.inc)
	_, _, ranBefore := template.IncrementalStats(p.inc)
	a, errA := p.inc.Execute(data)
	b, errB := p.full.Execute(data)
	compareResults(p.t, where, a, b, errA, errB)
	p.usedA.check(p.t, where+" incremental", a)
	p.usedB.check(p.t, where+" full", b)
	_, _, ranAfter := template.IncrementalStats(p.inc)
	return a, template.FastCalls(p.inc) - fast0, ranAfter - ranBefore
}

func setService(st *watch.Store, name string, addrs ...string) {
	list := make([]*watch.HealthService, len(addrs))
	for i, a := range addrs {
		list[i] = &watch.HealthService{Node: "n" + a, ID: name + "-" + a, Name: name, Address: a, Port: 80, Status: watch.StatusPassing}
	}
	spec, err := watch.ParseService(name)
	if err != nil {
		panic(err)
	}
	st.Apply(watch.Update{Key: spec.String(), Value: list})
}

func setCatalog(st *watch.Store, names ...string) {
	list := make([]*watch.CatalogService, len(names))
	for i, n := range names {
		list[i] = &watch.CatalogService{Name: n, Tags: watch.ServiceTags{"http"}}
	}
	st.Apply(watch.Update{Key: watch.Spec{Kind: watch.KindCatalogServices}.String(), Value: list})
}

func setKV(st *watch.Store, key, value string) {
	st.Apply(watch.Update{Key: watch.Spec{Kind: watch.KindKVGet, Name: key}.String(), Value: watch.KVValue{Value: value, Exists: true}})
}

// fastStore holds n services of two instances each.
func fastStore(n int) (*watch.Store, []string) {
	st := watch.NewStore()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("svc%02d", i)
		setService(st, names[i], fmt.Sprintf("10.0.%d.1", i), fmt.Sprintf("10.0.%d.2", i))
	}
	setCatalog(st, names...)
	return st, names
}

const fastTemplate = "{{range services}}{{.Name}}:{{range service .Name}} {{.Address}}{{end}}\n{{end}}"

// TestFastPathRunsOnlyWhatChanged: after one service changed, one
// iteration runs, from the change log, and Used is unchanged.
func TestFastPathRunsOnlyWhatChanged(t *testing.T) {
	st, names := fastStore(20)
	p := newFastPair(t, fastTemplate)
	p.step("first", st)
	p.step("again", st)
	setService(st, names[7], "10.9.9.9")
	res, fast, ran := p.step("one change", st)
	if fast != 1 || ran != 1 || res.UsedChanged {
		t.Fatalf("fast calls %d, iterations run %d, UsedChanged %v; want 1, 1, false", fast, ran, res.UsedChanged)
	}
	built := template.UsedBuilt(p.inc)
	for i := range 5 {
		setService(st, names[i], "10.8.8.8")
		if res, fast, ran = p.step(fmt.Sprintf("service %d changed", i), st); fast != 1 || ran != 1 || res.UsedChanged {
			t.Fatalf("fast calls %d, iterations run %d, UsedChanged %v; want 1, 1, false", fast, ran, res.UsedChanged)
		}
	}
	if n := template.UsedBuilt(p.inc) - built; n != 0 {
		t.Fatalf("Used listed %d times after changes that kept it", n)
	}
	setService(st, names[3], "10.9.9.8")
	setService(st, names[3], "10.9.9.7")
	setService(st, names[11], "10.9.9.6")
	if _, fast, ran = p.step("three changes", st); fast != 1 || ran != 2 {
		t.Fatalf("fast calls %d, iterations run %d; want 1, 2", fast, ran)
	}
	spec, _ := watch.ParseService(names[5])
	st.Delete(spec.String())
	if res, _, ran = p.step("deleted", st); ran != 1 || res.Complete() {
		t.Fatalf("iterations run %d, missing %v; want 1 and the deleted query", ran, res.Missing)
	}
	setService(st, names[6], "10.9.9.4")
	if res, _, ran = p.step("another change", st); ran != 1 || res.Complete() {
		t.Fatalf("iterations run %d, missing %v; want 1 and the deleted query", ran, res.Missing)
	}
	setService(st, names[5], "10.9.9.5")
	p.step("back", st)
	setCatalog(st, names[:19]...) // new pointers, one element fewer
	p.step("catalog shrank", st)
	setCatalog(st, names[:19]...) // new pointers, equal elements
	if _, fast, ran = p.step("catalog decoded anew", st); fast != 1 || ran != 0 {
		t.Fatalf("fast calls %d, iterations run %d; want 1, 0", fast, ran)
	}
	// Many changes, so that the outputs are joined again on the way.
	for i := range 60 {
		setService(st, names[(i*7)%19], fmt.Sprintf("10.7.%d.1", i))
		if _, fast, ran = p.step(fmt.Sprintf("change %d", i), st); fast != 1 || ran != 1 {
			t.Fatalf("change %d: fast calls %d, iterations run %d; want 1, 1", i, fast, ran)
		}
	}
}

// TestFastPathReadsSwitch: iterations that now read other queries change
// Used, though no element changed.
func TestFastPathReadsSwitch(t *testing.T) {
	st, _ := fastStore(5)
	setKV(st, "cfg/on", "0")
	p := newFastPair(t, "{{range services}}{{.Name}}{{if eq (key \"cfg/on\") \"1\"}}{{range service .Name}} {{.Address}}{{end}}{{end}}\n{{end}}")
	p.step("off", st)
	for i, v := range []string{"1", "0", "1", "1", "0"} {
		setKV(st, "cfg/on", v)
		res, fast, _ := p.step(fmt.Sprintf("step %d: %s", i, v), st)
		if fast != 1 {
			t.Fatalf("step %d: %d fast calls, want 1", i, fast)
		}
		if want := i != 3; res.UsedChanged != want {
			t.Fatalf("step %d: UsedChanged %v, want %v", i, res.UsedChanged, want)
		}
	}
}

// TestFastPathRepeatedLists: a fragment called from the change log and
// then otherwise in the same execution keeps the queries of both calls.
func TestFastPathRepeatedLists(t *testing.T) {
	st, _ := fastStore(3)
	sel := func(values ...string) {
		var pairs []*watch.KeyPair
		for i, v := range values {
			k := string(rune('a' + i))
			pairs = append(pairs, &watch.KeyPair{Path: "sel/" + k, Key: k, Value: v})
		}
		st.Apply(watch.Update{Key: watch.Spec{Kind: watch.KindKVList, Name: "sel"}.String(), Value: pairs})
	}
	// The inner range is the fragment, called once per selected service:
	// the outer one assigns $n. Each instance reads a key of its own.
	p := newFastPair(t, "{{$n := 0}}{{range ls \"sel\"}}{{$n = 1}}{{range service (printf \"svc%s\" .Value)}}{{.ID}}={{keyOrDefault (printf \"id/%s\" .ID) \"-\"}} {{end}}\n{{end}}")
	sel("01", "00")
	p.step("svc01 then svc00", st)
	sel("00", "01")
	// svc00 first: the same list as the last call, from the change log;
	// then svc01, not.
	if _, fast, _ := p.step("svc00 then svc01", st); fast != 1 {
		t.Fatalf("%d fragment calls from the change log, want 1", fast)
	}
	sel("00", "00", "01")
	p.step("svc00 twice then svc01", st)
}

// TestFastPathDroppedRead: an iteration that runs again and no longer
// reads a query drops it from Used, though the other reads are those of the
// last execution.
func TestFastPathDroppedRead(t *testing.T) {
	st, _ := fastStore(2)
	setKV(st, "c", "svc00")
	setKV(st, "e", "1")
	setKV(st, "d", "x")
	p := newFastPair(t, "{{range services}}{{key \"c\"}}{{if eq .Name \"svc01\"}}{{key \"e\"}}{{end}}{{if eq .Name (key \"c\")}}{{key \"d\"}}{{end}}\n{{end}}")
	p.step("first", st)
	setKV(st, "e", "2") // svc01 runs again
	p.step("e changed", st)
	setKV(st, "c", "none") // both run again; svc00 no longer reads d
	if res, fast, _ := p.step("c changed", st); fast != 1 || !res.UsedChanged {
		t.Fatalf("fast calls %d, UsedChanged %v; want 1, true", fast, res.UsedChanged)
	}
}

// TestFastPathSeesListChangedInPlace: a list changed in place, the same
// slice, is not taken for the one of the last call. (sprig_sortAlpha sorts
// a []string in place, here the Store's own value.)
func TestFastPathSeesListChangedInPlace(t *testing.T) {
	stores := [2]*watch.Store{watch.NewStore(), watch.NewStore()} // incremental, full
	for _, st := range stores {
		st.Apply(watch.Update{Key: watch.DatacentersSpec(false).String(), Value: []string{"dc3", "dc1", "dc2"}})
	}
	p := newFastPair(t, "{{$l := datacenters}}{{range $l}}{{.}} {{end}}{{$_ := sprig_sortAlpha $l}}")
	for i := range 3 {
		a, errA := p.inc.Execute(stores[0])
		b, errB := p.full.Execute(stores[1])
		compareResults(t, fmt.Sprintf("step %d", i), a, b, errA, errB)
	}
	if fast := template.FastCalls(p.inc); fast == 0 {
		t.Fatal("no fragment call ran from the change log")
	}
}

// TestFastPathOtherData: executed against another Store, at the same Seq,
// a template does not take that Store's change log for the first one's.
func TestFastPathOtherData(t *testing.T) {
	a, names := fastStore(4)
	b, _ := fastStore(4)
	setService(a, names[1], "10.1.1.1")
	setService(b, names[2], "10.2.2.2")
	if a.Seq() != b.Seq() {
		t.Fatalf("seqs %d and %d", a.Seq(), b.Seq())
	}
	p := newFastPair(t, fastTemplate)
	p.step("a", a)
	p.step("b", b)
	p.step("a again", a)
}

// TestFastPathLogTooShort: when the change log no longer reaches back to
// the last execution, iterations are checked one by one.
func TestFastPathLogTooShort(t *testing.T) {
	st, names := fastStore(4)
	p := newFastPair(t, fastTemplate)
	p.step("first", st)
	setService(st, names[2], "10.3.3.3")
	for i := range 5000 {
		setKV(st, "noise", fmt.Sprint(i))
	}
	if _, fast, ran := p.step("after many changes", st); fast != 0 || ran != 1 {
		t.Fatalf("fast calls %d, iterations run %d; want 0, 1", fast, ran)
	}
	setService(st, names[1], "10.3.3.4")
	if _, fast, ran := p.step("next", st); fast != 1 || ran != 1 {
		t.Fatalf("fast calls %d, iterations run %d; want 1, 1", fast, ran)
	}
}

// TestMissingAsDataArrives: Missing stays sorted and complete as some
// queries get data and others start to be missing.
func TestMissingAsDataArrives(t *testing.T) {
	st := watch.NewStore()
	p := newFastPair(t, fastTemplate)
	setCatalog(st, "a", "b", "c", "d")
	p.step("none", st)
	setService(st, "b", "10.0.0.2")
	setCatalog(st, "a", "b", "c", "d", "e")
	p.step("b arrived, e added", st)
	setService(st, "a", "10.0.0.1")
	setService(st, "d", "10.0.0.4")
	setCatalog(st, "a", "b", "c", "d", "e", "0")
	res, _, _ := p.step("a and d arrived, 0 added", st)
	var got []string
	for _, s := range res.Missing {
		got = append(got, s.Name)
	}
	if fmt.Sprint(got) != "[0 c e]" {
		t.Fatalf("missing %v, want [0 c e]", got)
	}
}
