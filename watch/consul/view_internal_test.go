package consul

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ctpl/ctpl/watch"
)

// TestLaggingViewFallsBackToServers: a follower named by a detector waits
// on the agent's view for the change; a view that has not seen it within
// viewWait lags, and the servers answer instead.
func TestLaggingViewFallsBackToServers(t *testing.T) {
	var (
		mu       sync.Mutex
		requests []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.URL.RawQuery)
		mu.Unlock()
		index, node := "5", "old"
		if !r.URL.Query().Has("cached") { // the servers already hold the change
			index, node = "7", "new"
		}
		w.Header().Set("X-Consul-Index", index)
		fmt.Fprintf(w, `[{"Node":{"Node":%q,"Address":"10.0.0.1"},"Service":{"ID":"web1","Service":"web","Port":80},"Checks":[]}]`, node)
	}))
	defer srv.Close()
	c, err := New(Options{Address: srv.URL, Agent: &Agent{Known: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	spec, _ := watch.ParseService("web")
	res, changed, err := c.reread(t.Context(), spec, 5, false, nil, c.healthService(spec))
	if err != nil || !changed || res.Index != 7 {
		t.Fatalf("reread: index %d changed %v err %v; want the servers' answer at 7", res.Index, changed, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(requests) != 2 || !strings.Contains(requests[0], "cached") || !strings.Contains(requests[0], "index=5") ||
		strings.Contains(requests[1], "cached") {
		t.Errorf("requests %q: want the view with the follower's index, then the servers", requests)
	}
	if n := c.Stats().ViewLags; n != 1 {
		t.Errorf("ViewLags = %d, want 1", n)
	}
}

func TestConnBudget(t *testing.T) {
	tests := []struct {
		name       string
		configured int
		agent      *Agent
		want       int
	}{
		{name: "configured wins", configured: 50, agent: &Agent{Known: true, MaxConnsPerClient: 4096}, want: 50},
		{name: "client agent: its limit less an eighth", agent: &Agent{Known: true, MaxConnsPerClient: 4096}, want: 3584},
		{name: "client agent at the default limit", agent: &Agent{Known: true, MaxConnsPerClient: 200}, want: 175},
		{name: "small limit: at least 16 left", agent: &Agent{Known: true, MaxConnsPerClient: 64}, want: 48},
		{name: "server", agent: &Agent{Known: true, Server: true, MaxConnsPerClient: 4096}, want: DefaultMaxConns},
		{name: "unknown agent", agent: &Agent{}, want: DefaultMaxConns},
		{name: "not discovered", want: DefaultMaxConns},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := connBudget(tc.configured, tc.agent); got != tc.want {
				t.Errorf("connBudget = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestDetectorsStartEarlyOnlyFromAServer(t *testing.T) {
	tests := []struct {
		name   string
		server bool
		want   bool
	}{
		{name: "server: started before any query follows", server: true, want: true},
		{name: "client agent: not started while every query holds a long poll", server: false, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Options{Address: "127.0.0.1:1", Agent: &Agent{Known: true, Server: tc.server, MaxConnsPerClient: 64},
				MaxConns: 48, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := range c.budget.Long.Limit()/2 + 1 {
				spec, _ := watch.ParseService(fmt.Sprintf("web%d", i))
				if _, err := c.Query(spec); err != nil {
					t.Fatal(err)
				}
			}
			if started := c.detecting.Load(); started != tc.want {
				t.Errorf("detectors started: %v, want %v", started, tc.want)
			}
		})
	}
}
