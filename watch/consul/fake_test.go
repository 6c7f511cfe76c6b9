package consul_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
)

// answer is one scripted HTTP response of the fake Consul.
type answer struct {
	status      int
	index       uint64
	node        string // the one instance's node name; "" answers []
	lastContact int    // X-Consul-LastContact in ms
	stall       bool   // hold the request until the client gives up
	truncated   bool   // cut the body short
	aclFiltered bool   // set X-Consul-Results-Filtered-By-ACLs
	noLeader    bool   // X-Consul-KnownLeader: false
}

// fakeConsul serves /v1/health/service/web from a script and records the
// query string of every request.
type fakeConsul struct {
	mu       sync.Mutex
	answers  []answer
	requests []string
}

func (f *fakeConsul) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.URL.RawQuery)
	a := answer{stall: true}
	if len(f.answers) > 0 {
		a, f.answers = f.answers[0], f.answers[1:]
	}
	f.mu.Unlock()
	if a.stall {
		<-r.Context().Done()
		return
	}
	if a.status != 0 && a.status != http.StatusOK {
		http.Error(w, http.StatusText(a.status), a.status)
		return
	}
	w.Header().Set("X-Consul-Index", fmt.Sprint(a.index))
	w.Header().Set("X-Consul-LastContact", fmt.Sprint(a.lastContact))
	w.Header().Set("X-Consul-KnownLeader", fmt.Sprint(!a.noLeader))
	if a.aclFiltered {
		w.Header().Set("X-Consul-Results-Filtered-By-ACLs", "true")
	}
	body := "[]"
	if a.node != "" {
		body = fmt.Sprintf(`[{"Node":{"Node":%q,"Address":"10.0.0.1"},"Service":{"ID":"web1","Service":"web","Port":80},"Checks":[]}]`, a.node)
	}
	if a.truncated {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		body = body[:len(body)/2]
	}
	fmt.Fprint(w, body)
}

func (f *fakeConsul) queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// nodes waits for n data updates and returns the node names they carry.
func nodes(t *testing.T, w *watch.Watcher, n int) (names []string, errs int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for len(names) < n {
		select {
		case u := <-w.Updates():
			if u.Err != nil {
				errs++
				continue
			}
			hs := u.Value.([]*watch.HealthService)
			name := "-"
			if len(hs) > 0 {
				name = hs[0].Node
			}
			names = append(names, name)
		case <-deadline:
			t.Fatalf("got %v, want %d updates", names, n)
		}
	}
	return names, errs
}

func TestFakeConsulProtocolEdges(t *testing.T) {
	tests := []struct {
		name      string
		answers   []answer
		maxStale  time.Duration
		wantNodes []string
		wantErrs  int
		wantQuery []string // query strings of the first requests
	}{
		{
			name:      "index going backwards resets to 0",
			answers:   []answer{{index: 10, node: "a"}, {index: 4, node: "a"}, {index: 5, node: "b"}},
			wantNodes: []string{"a", "b"},
			wantQuery: []string{"passing=1&wait=100ms", "index=10&passing=1&wait=100ms", "passing=1&wait=100ms"},
		},
		{
			name:      "429 backs off and recovers without an error",
			answers:   []answer{{status: 429}, {status: 429}, {index: 3, node: "a"}},
			wantNodes: []string{"a"},
		},
		{
			name:      "an answer filtered by ACLs is the token's view, not an error",
			answers:   []answer{{index: 3, aclFiltered: true}, {index: 4, node: "a", aclFiltered: true}},
			wantNodes: []string{"-", "a"},
		},
		{
			name:      "a stale answer from a server without a leader is read again from the leader",
			answers:   []answer{{index: 3, node: "old", noLeader: true}, {index: 3, node: "a"}},
			maxStale:  time.Minute,
			wantNodes: []string{"a"},
			wantQuery: []string{"passing=1&stale=&wait=100ms", "passing=1&wait=100ms"},
		},
		{
			name:      "403 backs off and recovers",
			answers:   []answer{{status: 403}, {index: 3, node: "a"}},
			wantNodes: []string{"a"},
			wantErrs:  1,
		},
		{
			name:      "500 backs off and recovers",
			answers:   []answer{{status: 500}, {index: 3, node: "a"}},
			wantNodes: []string{"a"},
			wantErrs:  1,
		},
		{
			name:      "a stalled connection is cut off by the client deadline",
			answers:   []answer{{stall: true}, {index: 3, node: "a"}},
			wantNodes: []string{"a"},
			wantErrs:  1,
		},
		{
			name:      "a truncated body is an error, not empty data",
			answers:   []answer{{index: 3, node: "a", truncated: true}, {index: 3, node: "a"}},
			wantNodes: []string{"a"},
			wantErrs:  1,
		},
		{
			name:      "too stale an answer is read again from the leader",
			answers:   []answer{{index: 3, node: "old", lastContact: 5000}, {index: 3, node: "a"}},
			maxStale:  time.Second,
			wantNodes: []string{"a"},
			wantQuery: []string{"passing=1&stale=&wait=100ms", "passing=1&wait=100ms"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeConsul{answers: tc.answers}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			c, err := consul.New(consul.Options{Address: srv.URL, MaxStale: tc.maxStale})
			if err != nil {
				t.Fatal(err)
			}
			w := watch.New(t.Context(), c, watch.Options{
				Wait: 100 * time.Millisecond, Grace: 100 * time.Millisecond, MinInterval: time.Millisecond,
				BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
			})
			defer w.Close()
			spec, _ := watch.ParseService("web")
			if err := w.Watch(spec); err != nil {
				t.Fatal(err)
			}
			got, errs := nodes(t, w, len(tc.wantNodes))
			if fmt.Sprint(got) != fmt.Sprint(tc.wantNodes) || errs != tc.wantErrs {
				t.Errorf("nodes %v errs %d, want %v errs %d", got, errs, tc.wantNodes, tc.wantErrs)
			}
			if q := fake.queries(); len(tc.wantQuery) > 0 && fmt.Sprint(q[:min(len(q), len(tc.wantQuery))]) != fmt.Sprint(tc.wantQuery) {
				t.Errorf("queries %q, want %q", q, tc.wantQuery)
			}
		})
	}
}

// webQuery returns the query for service "web" of a client of h.
func webQuery(t *testing.T, h http.Handler) watch.Query {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := consul.New(consul.Options{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := watch.ParseService("web")
	q, err := c.Query(spec)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestFilteredToNothingWarns(t *testing.T) {
	q := webQuery(t, &fakeConsul{answers: []answer{{index: 3, aclFiltered: true}, {index: 4, node: "a", aclFiltered: true}}})
	for i, want := range []string{`the token probably lacks service "web" { policy = "read" }`, ""} {
		res, err := q.Fetch(t.Context(), watch.FetchOptions{Index: uint64(i), Wait: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if want == "" && res.Warning != "" || !strings.Contains(res.Warning, want) {
			t.Errorf("answer %d: warning %q, want one containing %q", i, res.Warning, want)
		}
	}
}

func TestForbiddenNamesTheRule(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr error
		want    string
	}{
		{name: "unknown token", body: "ACL not found", wantErr: consul.ErrACLNotFound, want: "revoked"},
		{name: "missing permission", body: "Permission denied: token lacks permission 'service:read'",
			wantErr: consul.ErrPermissionDenied, want: `service "web" { policy = "read" }`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := webQuery(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, tc.body, http.StatusForbidden)
			}))
			_, err := q.Fetch(t.Context(), watch.FetchOptions{Wait: 100 * time.Millisecond})
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %v naming %q", err, tc.wantErr, tc.want)
			}
		})
	}
}

func TestObserveAndOpenConns(t *testing.T) {
	fake := &fakeConsul{answers: []answer{{status: 429}, {index: 3, node: "a"}}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var (
		mu   sync.Mutex
		seen []consul.RequestInfo
	)
	c, err := consul.New(consul.Options{Address: srv.URL, Observe: func(ri consul.RequestInfo) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, ri)
	}})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := watch.ParseService("web")
	q, err := c.Query(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Fetch(t.Context(), watch.FetchOptions{Wait: 100 * time.Millisecond}); err != nil {
		t.Fatalf("fetch after a 429: %v", err)
	}
	mu.Lock()
	got := fmt.Sprint(seen)
	codes := []int{}
	for _, ri := range seen {
		if ri.Endpoint != "/v1/health/service" || ri.Err != nil || ri.Duration <= 0 {
			t.Errorf("observed %+v, want endpoint /v1/health/service, a duration, no error", ri)
		}
		codes = append(codes, ri.Code)
	}
	mu.Unlock()
	if fmt.Sprint(codes) != "[429 200]" {
		t.Errorf("observed codes %v (%s), want [429 200]", codes, got)
	}
	if n := c.OpenConns(); n < 1 || n > 2 {
		t.Errorf("OpenConns = %d, want 1 or 2 (the 429 closes its connection on a real Consul)", n)
	}
}
