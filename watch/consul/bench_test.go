package consul_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
)

// healthBody returns a /v1/health/service answer of n instances, each with
// a node check and a service check, as Consul 1.14 writes it.
func healthBody(b *testing.B, n int) []byte {
	b.Helper()
	type check struct {
		Node, CheckID, Name, Status, Notes, Output, ServiceID, ServiceName string
		ServiceTags                                                        []string
		Type                                                               string
		CreateIndex, ModifyIndex                                           uint64
	}
	var out []map[string]any
	for i := range n {
		node := fmt.Sprintf("node%04d", i)
		id := fmt.Sprintf("web-%d", i)
		out = append(out, map[string]any{
			"Node": map[string]any{"ID": fmt.Sprintf("%08x-0000-0000-0000-000000000000", i), "Node": node,
				"Address": fmt.Sprintf("10.0.%d.%d", i>>8, i&255), "Datacenter": "dc1",
				"TaggedAddresses": map[string]string{"lan": "10.0.0.1", "wan": "10.0.0.1"},
				"Meta":            map[string]string{"consul-network-segment": ""}, "CreateIndex": 10, "ModifyIndex": 10},
			"Service": map[string]any{"ID": id, "Service": "web", "Tags": []string{"v1", "http"},
				"Address": fmt.Sprintf("10.1.%d.%d", i>>8, i&255), "Meta": map[string]string{"version": "1"},
				"Port": 8080, "Weights": map[string]int{"Passing": 1, "Warning": 1}, "EnableTagOverride": false,
				"Proxy": map[string]any{}, "Connect": map[string]any{}, "CreateIndex": 11, "ModifyIndex": 11},
			"Checks": []check{
				{Node: node, CheckID: "serfHealth", Name: "Serf Health Status", Status: "passing",
					Output: "Agent alive and reachable", Type: "", CreateIndex: 10, ModifyIndex: 10},
				{Node: node, CheckID: "service:" + id, Name: "HTTP check", Status: "passing", Output: "HTTP GET 200 OK",
					ServiceID: id, ServiceName: "web", ServiceTags: []string{"v1", "http"}, Type: "http", CreateIndex: 11, ModifyIndex: 11},
			},
		})
	}
	body, err := json.Marshal(out)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkHealthService1000 fetches and decodes a 1,000-instance health
// answer from a local HTTP server: the request, JSON decoding, conversion
// to watch records, screening and sorting. Two bodies alternate: in
// "all-changed" every instance differs between them, in "changed" one
// check's output does (the client decodes that instance only); in
// "unchanged" the body repeats, which the client recognises before
// decoding.
func BenchmarkHealthService1000(b *testing.B) {
	bodies := [][]byte{healthBody(b, 1000), healthBody(b, 1000)}
	bodies[1] = bytes.Replace(bodies[1], []byte("HTTP GET 200 OK"), []byte("HTTP GET 204 OK"), 1)
	allChanged := [][]byte{bodies[0], bytes.ReplaceAll(bodies[0], []byte(`"ModifyIndex":11`), []byte(`"ModifyIndex":12`))}
	for _, bc := range []struct {
		name   string
		bodies [][]byte
	}{
		{name: "all-changed", bodies: allChanged},
		{name: "changed", bodies: bodies},
		{name: "unchanged", bodies: bodies[:1]},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Consul-Index", "42")
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(bc.bodies[int(n.Add(1))%len(bc.bodies)])
			}))
			defer srv.Close()
			c, err := consul.New(consul.Options{Address: srv.URL, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			spec, _ := watch.ParseService("web")
			q, _ := c.Query(spec)
			b.SetBytes(int64(len(bc.bodies[0])))
			b.ReportAllocs()
			for b.Loop() {
				res, err := q.Fetch(b.Context(), watch.FetchOptions{Wait: time.Second})
				if err != nil || len(res.Value.([]*watch.HealthService)) != 1000 {
					b.Fatalf("fetch: %v", err)
				}
			}
		})
	}
}
