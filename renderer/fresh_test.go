package renderer_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/watch"
)

// TestStaleDatacenterLogged: a datacenter whose queries fail is logged once
// when the first fails; a render using its data after StaleAfter says how
// old the data is, once per outage; its recovery says how long it lasted;
// the status names the datacenters a template reads.
func TestStaleDatacenterLogged(t *testing.T) {
	const keyRegion = "kv.get(region@dc2)"
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `{{ key "a" }} {{ key "region@dc2" }}`, "")
	tpl.ReadyIgnore = []string{"@dc2"}
	w := newFakeWatcher()
	var logs syncBuffer
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: logTo(&logs), StaleAfter: time.Minute})
	start(t, a)
	w.set(keyA, "one")
	w.set(keyRegion, "eu")
	testkit.WaitFor(t, 5*time.Second, "first render", fileIs(tpl.Dest, "one eu"))
	st := stateOf(a, 0)
	if strings.Join(st.Datacenters, ",") != "dc2" || strings.Join(st.ReadyIgnore, ",") != "@dc2" {
		t.Errorf("status datacenters %v, ready_ignore %v; want [dc2] and [@dc2]", st.Datacenters, st.ReadyIgnore)
	}

	down := time.Now().Add(-12 * time.Minute)
	w.updates <- watch.Update{Key: keyRegion, Err: errors.New("rpc error: no path to datacenter"), At: down}
	testkit.WaitFor(t, 5*time.Second, "the outage logged", func() bool { return strings.Contains(logs.String(), "datacenter's data is aging") })
	for _, v := range []string{"two", "three"} {
		w.set(keyA, v)
		testkit.WaitFor(t, 5*time.Second, v, fileIs(tpl.Dest, v+" eu"))
	}
	if n := strings.Count(logs.String(), `stale="dc2 data 12m0s old"`); n != 1 {
		t.Errorf("the stale render was logged %d times, want once:\n%s", n, logs.String())
	}
	w.set(keyRegion, "us")
	testkit.WaitFor(t, 5*time.Second, "recovered", fileIs(tpl.Dest, "three us"))
	testkit.WaitFor(t, 5*time.Second, "the recovery logged", func() bool {
		return strings.Contains(logs.String(), "datacenter's data is fresh again") && strings.Contains(logs.String(), "down_for=12m0s")
	})
}

// TestDatacenterComingBack: once one query of a datacenter answers again
// while others the template uses still fail, the template keeps its whole
// last output until they answer too (or recoveryWait passes), so a
// datacenter's fresh answers are never rendered with its old ones.
func TestDatacenterComingBack(t *testing.T) {
	const (
		keyRegion = "kv.get(region@dc2)"
		keyZone   = "kv.get(zone@dc2)"
	)
	for _, tc := range []struct {
		name    string
		back    time.Time // the first answer's At
		onEmpty string
		waits   bool
	}{
		{name: "waits for the rest", back: time.Now(), waits: true},
		{name: "not after recoveryWait", back: time.Now().Add(-11 * time.Second)},
		{name: "not with on_empty: allow", back: time.Now(), onEmpty: renderer.OnEmptyAllow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tpl := newTemplate(t, dir, `{{ key "a" }} {{ key "region@dc2" }} {{ key "zone@dc2" }}`, "")
			tpl.OnEmpty = tc.onEmpty
			w := newFakeWatcher()
			obs := &recorder{}
			a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet, Observer: obs})
			start(t, a)
			held := func() int {
				return obs.count(func(r *recorder) int { return strings.Count(strings.Join(r.rendered, " "), renderer.ResultHeld) })
			}
			w.set(keyA, "one")
			w.set(keyRegion, "eu")
			w.set(keyZone, "z1")
			testkit.WaitFor(t, 5*time.Second, "first render", fileIs(tpl.Dest, "one eu z1"))
			down := errors.New("no path to datacenter")
			w.updates <- watch.Update{Key: keyRegion, Err: down, At: time.Now()}
			w.updates <- watch.Update{Key: keyZone, Err: down, At: time.Now()}
			w.set(keyA, "two") // dc2 down: its last data renders with dc1's news
			testkit.WaitFor(t, 5*time.Second, "dc1's change during the outage", fileIs(tpl.Dest, "two eu z1"))
			w.updates <- watch.Update{Key: keyRegion, Value: watch.KVValue{Value: "us", Exists: true}, Index: 2, At: tc.back, Reread: true}
			if !tc.waits {
				testkit.WaitFor(t, 5*time.Second, "rendered at once", fileIs(tpl.Dest, "two us z1"))
				return
			}
			testkit.WaitFor(t, 5*time.Second, "held", func() bool {
				st := stateOf(a, 0)
				return st.State == renderer.StateHeld && strings.Contains(st.Reason, "datacenter dc2 is coming back") &&
					strings.Contains(st.Reason, keyZone)
			})
			before := held()
			w.set(keyA, "three")
			testkit.WaitFor(t, 5*time.Second, "dc1's change held too", func() bool { return held() > before })
			if b, _ := os.ReadFile(tpl.Dest); string(b) != "two eu z1" {
				t.Fatalf("destination %q while dc2 comes back, want the whole last output", b)
			}
			w.updates <- watch.Update{Key: keyZone, Value: watch.KVValue{Value: "z2", Exists: true}, Index: 2, At: time.Now(), Reread: true}
			testkit.WaitFor(t, 5*time.Second, "rendered once dc2 is back", fileIs(tpl.Dest, "three us z2"))
		})
	}
}

// TestRefusedQueryNamesItsTemplates: a query Consul refused (here a filter
// expression it cannot parse) is the template's fault, not an outage: the
// log names the templates that use it and no datacenter is said to age;
// the file keeps its content.
func TestRefusedQueryNamesItsTemplates(t *testing.T) {
	const keyVersion = `kv.get(version)`
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `{{ key "a" }} {{ key "version" }}`, "")
	w := newFakeWatcher()
	var logs syncBuffer
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: logTo(&logs)})
	start(t, a)
	w.set(keyA, "one")
	w.set(keyVersion, "2")
	testkit.WaitFor(t, 5*time.Second, "first render", fileIs(tpl.Dest, "one 2"))
	refused := fmt.Errorf(`health service "web": %w: Consul cannot use filter "x ==": 1:5 (4): no match found`, watch.ErrRefused)
	w.updates <- watch.Update{Key: keyVersion, Err: refused, At: time.Now()}
	testkit.WaitFor(t, 5*time.Second, "the refusal logged", func() bool {
		return strings.Contains(logs.String(), "Consul refused a query")
	})
	line := logs.String()[strings.Index(logs.String(), "Consul refused a query"):]
	line = line[:strings.IndexByte(line, '\n')]
	if !strings.Contains(line, "query="+keyVersion) || !strings.Contains(line, "templates=[t.tmpl]") ||
		!strings.Contains(line, `cannot use filter`) {
		t.Errorf("log line %q: want the query, the template and Consul's reason", line)
	}
	if strings.Contains(logs.String(), "datacenter's data is aging") {
		t.Errorf("a refused query logged as an outage:\n%s", logs.String())
	}
	if got, _ := os.ReadFile(tpl.Dest); string(got) != "one 2" {
		t.Errorf("file %q, want its last content", got)
	}
}
