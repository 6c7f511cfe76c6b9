package examples_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
)

// testReloadInterval replaces the recipes' min_reload_interval of 1s, so
// that 20 reloads take seconds, not half a minute.
const testReloadInterval = "250ms"

// proxy is a running load balancer (nginx or HAProxy) kept in step by ctpl.
type proxy struct {
	name   string
	master *proc // the target's master process
	ctpl   *proc
	client *client
	// statusNoInstance and statusUnknown are the target's answers for a
	// service without a healthy instance and for a name ctpl never rendered.
	statusNoInstance, statusUnknown int
	// placeholder is what the target's configuration holds for a service
	// without a healthy instance.
	placeholder []string
	// effective returns the servers of each service, as "ip:port" plus any
	// flags, from the target's own view of its running configuration, and
	// that view's text.
	effective func(t *testing.T) (map[string][]string, string)
	// workers is the number of worker processes one reload starts.
	workers int
	// zeroFailures makes a failed request during the reloads a test failure.
	zeroFailures bool
}

// exerciseProxy runs the scenario of issue 6 against p: traffic reaches only
// healthy instances, follows a failing and a recovering check, survives 20
// reloads under load, and hostile registrations never reach the target.
func exerciseProxy(t *testing.T, f *fleet, p *proxy) {
	a, b, c := f.web[0], f.web[1], f.web[2]
	all := names(a, b, c)
	took := p.client.converge(t, all, time.Now(), 20*time.Second, nil).complete
	t.Logf("%s: traffic reached a, b and c %v after the proxy started", p.name, took.Round(time.Millisecond))
	p.client.assertOnly(t, 30, all)
	if got := p.client.status(t, "idle"); got != p.statusNoInstance {
		t.Errorf("a service without a healthy instance answered %d, want %d", got, p.statusNoInstance)
	}
	if got := p.client.status(t, "nosuch"); got != p.statusUnknown {
		t.Errorf("an unknown service answered %d, want %d", got, p.statusUnknown)
	}

	since, old := time.Now(), p.master.children()
	f.setHealth(t, b, "critical")
	leave := p.client.converge(t, names(a, c), since, 10*time.Second, p.gone(old)).left
	p.client.assertOnly(t, 30, names(a, c))
	t.Logf("%s: MEASURED traffic left the failed backend b %v after its check failed",
		p.name, leave.Round(time.Millisecond))
	if leave > 2*time.Second {
		t.Errorf("traffic left the failed backend after %v, want within 2 s", leave)
	}
	since, old = time.Now(), p.master.children()
	f.setHealth(t, b, "passing")
	back := p.client.converge(t, all, since, 10*time.Second, p.gone(old)).complete
	t.Logf("%s: MEASURED traffic returned to b %v after its check passed", p.name, back.Round(time.Millisecond))

	reloadUnderLoad(t, f, p)
	hostileNeverReaches(t, f, p)
	p.master.running(t)
	p.ctpl.running(t)
}

// reloadUnderLoad flips c's check 20 times, each time waiting until the
// target has reloaded (a new worker process appears), while two workers send
// requests one after another, and reports the failed requests.
func reloadUnderLoad(t *testing.T, f *fleet, p *proxy) {
	const reloads = 20
	c := f.web[2]
	l := p.client.startLoad(t, 2)
	began := time.Now()
	for i := range reloads {
		before := p.master.children()
		status := "critical"
		if i%2 == 1 {
			status = "passing"
		}
		f.setHealth(t, c, status)
		// Reloaded once every worker of the new generation runs: waiting for
		// the first alone could see a straggler of the previous reload.
		testkit.WaitFor(t, 10*time.Second, "reload "+status, func() bool {
			fresh := 0
			for pid := range p.master.children() {
				if !before[pid] {
					fresh++
				}
			}
			return fresh >= p.workers
		})
	}
	l.stop()
	t.Logf("%s: MEASURED %d reloads in %v under steady traffic: new connection per request: %v; kept-alive connections: %v",
		p.name, reloads, time.Since(began).Round(time.Millisecond), &l.fresh, &l.reused)
	if l.fresh.ok.Load() == 0 || l.reused.ok.Load() == 0 {
		t.Errorf("no request succeeded during the reloads")
	}
	if failed := l.fresh.failed.Load() + l.reused.failed.Load(); p.zeroFailures && failed > 0 {
		t.Errorf("%d requests failed during %d reloads, want 0", failed, reloads)
	}
	p.client.converge(t, names(f.web...), time.Now(), 10*time.Second, nil)
}

// gone returns a condition for converge: every worker of old has exited, so
// none can still serve a request with the configuration it started with.
func (p *proxy) gone(old map[int]bool) func() bool {
	return func() bool {
		for pid := range p.master.children() {
			if old[pid] {
				return false
			}
		}
		return true
	}
}

// hostileNeverReaches registers hostile instances and checks that the
// target's effective configuration holds exactly the legitimate entries.
func hostileNeverReaches(t *testing.T, f *fleet, p *proxy) {
	a, b, c := f.web[0], f.web[1], f.web[2]
	f.registerHostile(t)
	testkit.WaitFor(t, 10*time.Second, "the sentinel service is served", func() bool {
		return p.client.status(t, "sentinel") == 200
	})
	// A change of web after the hostile instances joined it: once traffic
	// has moved, ctpl has rendered web with them in Consul's answer.
	old := p.master.children()
	f.setHealth(t, b, "critical")
	p.client.converge(t, names(a, c), time.Now(), 10*time.Second, p.gone(old))
	p.client.assertOnly(t, 40, names(a, c))

	got, text := p.effective(t)
	want := map[string][]string{
		"web":      {a.addr(), c.addr()},
		"sentinel": {a.addr()},
		"odd":      {c.addr()},
		"idle":     p.placeholder,
	}
	for k, v := range got {
		slices.Sort(v)
		got[k] = v
	}
	for k, v := range want {
		v = slices.Clone(v)
		slices.Sort(v)
		want[k] = v
	}
	if !maps.EqualFunc(got, want, func(x, y []string) bool { return slices.Equal(x, y) }) {
		t.Errorf("%s's effective configuration holds %v, want exactly %v", p.name, got, want)
	}
	for _, bad := range []string{evilIP, "evil", "Evil"} {
		if strings.Contains(text, bad) {
			t.Errorf("%s's effective configuration mentions %q:\n%s", p.name, bad, text)
		}
	}
	if !strings.Contains(p.ctpl.output(), "untrusted registry string left out") {
		t.Errorf("ctpl logged no warning for the registry strings it left out")
	}
}
