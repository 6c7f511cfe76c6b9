package consul_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestHTTPSUsesHTTP2 watches many services over the agent's HTTPS port and
// checks that every request shares at most four connections.
func TestHTTPSUsesHTTP2(t *testing.T) {
	agent := consultest.Start(t, consultest.WithHTTPS())
	const n = 300
	for i := range n {
		agent.RegisterService(t, consultest.Service{Node: "n1", Address: "10.0.0.1", ID: svcName(i), Name: svcName(i), Port: 8000 + i})
	}
	var proto = make(chan string, 1)
	c, err := consul.New(consul.Options{
		Address: agent.HTTPSURL(), TLS: consul.TLSOptions{CAFile: agent.CAFile()},
		Logger: slog.New(slog.DiscardHandler),
		Observe: func(ri consul.RequestInfo) {
			if ri.Err != nil {
				select {
				case proto <- ri.Err.Error():
				default:
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := watch.New(t.Context(), c, watch.Options{Wait: 30 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	defer w.Close()
	for i := range n {
		spec, _ := watch.ParseService(svcName(i))
		if err := w.Watch(spec); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case u := <-w.Updates():
			if u.Err != nil {
				t.Fatalf("%s: %v", u.Key, u.Err)
			}
			got[u.Key] = true
		case e := <-proto:
			t.Fatalf("request error: %s", e)
		case <-deadline:
			t.Fatalf("%d of %d queries answered", len(got), n)
		}
	}
	if peak := c.PeakConns(); peak > 4 {
		t.Errorf("peak connections %d, want at most 4", peak)
	}
	t.Logf("open %d, peak %d connections for %d blocking queries", c.OpenConns(), c.PeakConns(), n)
}

func svcName(i int) string {
	return "svc" + string(rune('a'+i/100)) + string(rune('a'+i/10%10)) + string(rune('a'+i%10))
}
