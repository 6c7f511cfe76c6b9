package renderer_test

import (
	"errors"
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
