package examples_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
)

func TestDnsmasqRecipe(t *testing.T) {
	dnsmasq := requireTarget(t, "dnsmasq", "dnsmasq-base")
	f := startFleet(t)
	dir := t.TempDir()
	port := freePorts(t, 1)[0]
	server := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	hosts := filepath.Join(dir, "dnsmasq.hosts")
	pidFile := filepath.Join(dir, "dnsmasq.pid")
	conf := install(t, "dnsmasq/dnsmasq.conf", filepath.Join(dir, "dnsmasq.conf"),
		"/var/lib/ctpl/dnsmasq.hosts", hosts)
	config := install(t, "dnsmasq/ctpl.yaml", filepath.Join(dir, "ctpl.yaml"),
		"/etc/ctpl/dnsmasq/hosts.tmpl", abs(t, "dnsmasq/hosts.tmpl"),
		"/etc/ctpl/dnsmasq/dnsmasq-check", abs(t, "dnsmasq/dnsmasq-check"),
		"/var/lib/ctpl/dnsmasq.hosts", hosts,
		"/run/dnsmasq/dnsmasq.pid", pidFile,
		"min_reload_interval: 1s", "min_reload_interval: "+testReloadInterval,
		"/var/lib/ctpl", filepath.Join(dir, "state"))

	// dnsmasq first (a missing hosts file is only logged), then ctpl.
	args := []string{
		"--keep-in-foreground", "--log-facility=-", "--conf-file=" + conf,
		"--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1",
		"--port=" + strconv.Itoa(port), "--pid-file=" + pidFile,
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root") // the test's directories are private to root
	}
	master := startProc(t, "dnsmasq", nil, syscall.SIGTERM, dnsmasq, args...)
	testkit.WaitFor(t, 10*time.Second, "dnsmasq's pid file", func() bool {
		master.running(t)
		_, err := os.Stat(pidFile)
		return err == nil
	})
	ctpl := startCtpl(t, f.agent, config, filepath.Dir(dnsmasq))
	t.Cleanup(func() { logFileOnFailure(t, hosts) })

	r := newDNS(server)
	a, b, c := f.web[0], f.web[1], f.web[2]
	ips := func(bs ...*backend) []string {
		out := []string{}
		for _, x := range bs {
			out = append(out, x.ip)
		}
		return out
	}
	took := r.track(t, "web", ips(a, b, c), time.Now(), 20*time.Second)
	t.Logf("dnsmasq: web.service.consul answered a, b and c %v after ctpl started", took.Round(time.Millisecond))
	r.track(t, "idle", []string{}, time.Now(), time.Second)
	r.track(t, "nosuch", []string{}, time.Now(), time.Second)

	since := time.Now()
	f.setHealth(t, b, "critical")
	leave := r.track(t, "web", ips(a, c), since, 10*time.Second)
	t.Logf("dnsmasq: MEASURED b left the answers %v after its check failed", leave.Round(time.Millisecond))
	if leave > 2*time.Second {
		t.Errorf("b left the answers after %v, want within 2 s", leave)
	}
	since = time.Now()
	f.setHealth(t, b, "passing")
	back := r.track(t, "web", ips(a, b, c), since, 10*time.Second)
	t.Logf("dnsmasq: MEASURED b returned to the answers %v after its check passed", back.Round(time.Millisecond))

	f.registerHostile(t)
	r.track(t, "sentinel", ips(a), time.Now(), 10*time.Second)
	f.setHealth(t, b, "critical")
	r.track(t, "web", ips(a, c), time.Now(), 10*time.Second)
	r.track(t, "odd", ips(c), time.Now(), time.Second)
	// The rendered file holds exactly the lines the legitimate instances
	// imply (the dev agent registers "consul" itself, on 127.0.0.1).
	b2, err := os.ReadFile(hosts)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for line := range strings.Lines(string(b2)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	slices.Sort(lines)
	want := []string{
		"127.0.0.1 consul.service.consul", a.ip + " sentinel.service.consul", a.ip + " web.service.consul",
		c.ip + " odd.service.consul", c.ip + " web.service.consul",
	}
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Errorf("the hosts file holds\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, name := range []string{"evil", "evil-q", "Evil", "evil.service.consul", "injected"} {
		if got, err := r.lookup(t, name); len(got) > 0 {
			t.Errorf("%s.service.consul resolved to %v (%v)", name, got, err)
		}
	}
	if out := ctpl.output(); !strings.Contains(out, "untrusted registry string left out") {
		t.Errorf("ctpl logged no warning for the registry strings it left out")
	}
	master.running(t)
	ctpl.running(t)
}

// dns queries one DNS server with Go's own resolver.
type dns struct{ r *net.Resolver }

func newDNS(server string) *dns {
	return &dns{r: &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}}
}

// lookup returns the sorted addresses of <service>.service.consul, none
// for a name that does not exist.
func (d *dns) lookup(t *testing.T, service string) ([]string, error) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	addrs, err := d.r.LookupHost(ctx, service+".service.consul.")
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return []string{}, nil
	}
	slices.Sort(addrs)
	return addrs, err
}

// track queries service until its answer is exactly want, failing the test
// after within, and returns how long after since that was.
func (d *dns) track(t *testing.T, service string, want []string, since time.Time, within time.Duration) time.Duration {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	var (
		got []string
		err error
	)
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if got, err = d.lookup(t, service); err == nil && slices.Equal(got, want) {
			return time.Since(since)
		}
		time.Sleep(poll)
	}
	t.Fatalf("%s.service.consul: answer %v (%v), want %v within %v", service, got, err, want, within)
	return 0
}
