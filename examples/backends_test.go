package examples_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// backend is a tiny HTTP server that answers every request with its name.
type backend struct {
	name string
	ip   string
	port int
}

func (b *backend) addr() string { return net.JoinHostPort(b.ip, strconv.Itoa(b.port)) }

// startBackend serves name on ip and a free port until the test ends.
func startBackend(t *testing.T, name, ip string) *backend {
	t.Helper()
	l, err := net.Listen("tcp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("backend %s: %v", name, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, name)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return &backend{name: name, ip: ip, port: l.Addr().(*net.TCPAddr).Port}
}

// fleet is the registry side of a test: three legitimate backends of the
// service "web" on 127.0.0.2-4 and an "evil" one on 127.0.0.66 that only
// hostile registrations point at.
type fleet struct {
	agent *consultest.Agent
	web   []*backend // a, b, c
	evil  *backend
}

func startFleet(t *testing.T) *fleet {
	t.Helper()
	f := &fleet{agent: consultest.Start(t)}
	for i, name := range []string{"a", "b", "c"} {
		f.web = append(f.web, startBackend(t, name, fmt.Sprintf("127.0.0.%d", i+2)))
	}
	f.evil = startBackend(t, "evil", "127.0.0.66")
	for _, b := range f.web {
		f.register(t, "web", b, "passing")
	}
	// A service with no healthy instance: the recipe's placeholder.
	f.agent.RegisterService(t, consultest.Service{
		Node: "node-idle", Address: "127.0.0.1", ID: "idle-1", Name: "idle", Port: 1, Tags: []string{"http"},
		Checks: []consultest.Check{{CheckID: "check-idle-1", ServiceID: "idle-1", Status: "critical"}},
	})
	return f
}

// register adds b as an instance of service with one check of status.
func (f *fleet) register(t *testing.T, service string, b *backend, status string) {
	t.Helper()
	id := service + "-" + b.name
	f.agent.RegisterService(t, consultest.Service{
		Node: "node-" + b.name, Address: b.ip, ID: id, Name: service, Port: b.port, Tags: []string{"http"},
		Checks: []consultest.Check{{CheckID: "check-" + id, ServiceID: id, Status: status}},
	})
}

// setHealth sets the check of b's instance of "web".
func (f *fleet) setHealth(t *testing.T, b *backend, status string) {
	t.Helper()
	f.agent.SetCheck(t, "node-"+b.name, "check-web-"+b.name, "web-"+b.name, status)
}

// names returns the names of backends.
func names(bs ...*backend) []string {
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.name)
	}
	return out
}

// client sends requests for <service>.service.consul to a proxy.
type client struct {
	url string
	hc  *http.Client
}

func newClient(proxyAddr string) *client {
	return &client{
		url: "http://" + proxyAddr + "/",
		// A new connection per request: every request sees the proxy's
		// current configuration and its listening socket.
		hc: &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

// get asks for service and returns the answering backend's name, or an
// error for a failed request or any status but 200.
func (c *client) get(ctx context.Context, service string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return "", err
	}
	req.Host = service + ".service.consul"
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", &statusError{code: resp.StatusCode, body: strings.TrimSpace(string(body))}
	}
	return string(body), nil
}

type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %.80q", e.code, e.body) }

// status returns the HTTP status of a request for service (0 on a failed
// request).
func (c *client) status(t *testing.T, service string) int {
	t.Helper()
	_, err := c.get(t.Context(), service)
	if se, ok := err.(*statusError); ok {
		return se.code
	}
	if err != nil {
		return 0
	}
	return http.StatusOK
}

// moved says when traffic settled after a change at some moment since.
type moved struct {
	// left is when the final run of answers from the wanted set began: from
	// then on no other backend answered.
	left time.Duration
	// complete is when the last of the wanted backends first answered
	// within that run.
	complete time.Duration
}

// converge sends requests for "web" one after another until the last
// window answers all came from want and covered every name of it, and
// settled (when not nil) holds, failing the test after within.
func (c *client) converge(t *testing.T, want []string, since time.Time, within time.Duration, settled func() bool) moved {
	t.Helper()
	// Long enough that round robin over the old set cannot pass by chance.
	window := 12 * len(want)
	var (
		run       int                      // answers in the current run from want
		runStart  time.Time                // when the run's first request was sent
		firstSeen = map[string]time.Time{} // each name's first answer in the run
		tail      []string                 // the run's last window answers
		other     = map[string]int{}       // answers from elsewhere, counted
	)
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		at := time.Now()
		name, err := c.get(t.Context(), "web")
		if err != nil || !slices.Contains(want, name) {
			if err != nil {
				name = err.Error()
			}
			other[name]++
			run, tail = 0, tail[:0]
			clear(firstSeen)
			continue
		}
		if run == 0 {
			runStart = at
		}
		run++
		if _, ok := firstSeen[name]; !ok {
			firstSeen[name] = at
		}
		if tail = append(tail, name); len(tail) > window {
			tail = tail[1:]
		}
		if run < window || len(firstSeen) < len(want) || !coversAll(tail, want) {
			continue
		}
		if settled == nil || settled() {
			m := moved{left: runStart.Sub(since)}
			for _, at := range firstSeen {
				m.complete = max(m.complete, at.Sub(since))
			}
			return m
		}
	}
	t.Fatalf("traffic for web did not settle on %v within %v (current run %d answers, last %v; other answers %v)",
		want, within, run, tail, other)
	return moved{}
}

// coversAll reports whether every name of want occurs in answers.
func coversAll(answers, want []string) bool {
	for _, w := range want {
		if !slices.Contains(answers, w) {
			return false
		}
	}
	return true
}

// sample sends n requests for "web" and counts the answers by backend name.
func (c *client) sample(t *testing.T, n int) map[string]int {
	t.Helper()
	out := map[string]int{}
	for range n {
		name, err := c.get(t.Context(), "web")
		if err != nil {
			name = "error: " + err.Error()
		}
		out[name]++
	}
	return out
}

// assertOnly fails unless the n answers of a sample came from want alone,
// each of want answering at least once.
func (c *client) assertOnly(t *testing.T, n int, want []string) {
	t.Helper()
	got := c.sample(t, n)
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, want) {
		t.Fatalf("%d requests for web were answered by %v, want only and all of %v", n, got, want)
	}
}

// load is a steady request loop of a few workers, counting answers.
type load struct {
	fresh, reused counts          // by workers opening a connection per request, or keeping one
	kept          *http.Transport // the reused workers' connections
	cancel        context.CancelFunc
	wg            sync.WaitGroup
}

// counts tallies the requests of one kind of worker.
type counts struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       map[string]int // failure reasons, counted
}

func (c *counts) add(err error) {
	if err == nil {
		c.ok.Add(1)
		return
	}
	c.failed.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.errs == nil {
		c.errs = map[string]int{}
	}
	c.errs[err.Error()]++
}

func (c *counts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%d ok, %d failed %v", c.ok.Load(), c.failed.Load(), c.errs)
}

// startLoad sends requests for "web" one after another from workers
// goroutines opening a new connection per request, and as many keeping
// their connection alive (Go's client, which retries an idempotent request
// once when the server closed a kept connection before answering), until
// stop.
func (c *client) startLoad(t *testing.T, workers int) *load {
	ctx, cancel := context.WithCancel(t.Context())
	l := &load{cancel: cancel, kept: &http.Transport{}}
	kept := &client{url: c.url, hc: &http.Client{Timeout: c.hc.Timeout, Transport: l.kept}}
	run := func(cl *client, n *counts) {
		defer l.wg.Done()
		for ctx.Err() == nil {
			_, err := cl.get(ctx, "web")
			if ctx.Err() == nil { // else cut off by stop: not the proxy's doing
				n.add(err)
			}
		}
	}
	for range workers {
		l.wg.Add(2)
		go run(c, &l.fresh)
		go run(kept, &l.reused)
	}
	t.Cleanup(l.stop)
	return l
}

// stop ends the loop, waits for its workers and closes their idle
// connections: an idle kept connection would hold an old HAProxy worker
// (in soft stop) alive until the keep-alive timeout.
func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
	l.kept.CloseIdleConnections()
}
