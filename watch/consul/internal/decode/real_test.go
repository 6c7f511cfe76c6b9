package decode

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// realRegistrations are catalog and agent registrations whose health
// answers exercise every field the decoder reads: tags, metadata, node and
// service tagged addresses, weights, check definitions of several kinds,
// a Connect proxy, unicode, hostile strings and invalid UTF-8.
var realRegistrations = []struct{ path, body string }{
	{"/v1/catalog/register", `{"Node":"node-ü1","Address":"10.0.0.1","TaggedAddresses":{"lan":"10.0.0.1","wan":"198.51.100.1"},
		"NodeMeta":{"rack":"r1","emoji":"🚀","quote":"\"'<>&"},
		"Service":{"ID":"web-1","Service":"web","Tags":["v1","b","a","ünï","http\n}\nserver 6.6.6.6:80;"],"Address":"10.1.0.1","Port":8080,
			"Meta":{"version":"1","ctl":"a\u0007b","tab":"x\ty"},
			"TaggedAddresses":{"lan":{"Address":"10.1.0.1","Port":8080},"wan":{"Address":"198.51.100.2","Port":80}},
			"Weights":{"Passing":10,"Warning":1}},
		"Checks":[
			{"CheckID":"http-1","Name":"HTTP ✓","Status":"passing","ServiceID":"web-1","Output":"ok\nline2","Notes":"tab\there",
			 "Definition":{"HTTP":"http://10.1.0.1:8080/health","Method":"GET","Header":{"X-A":["1","2"],"X-B":[]},
			   "Interval":"10s","Timeout":"2s","DeregisterCriticalServiceAfter":"90m","TLSSkipVerify":true,"Body":"{\"a\":1}"}},
			{"CheckID":"tcp-1","Name":"tcp","Status":"warning","ServiceID":"web-1","Definition":{"TCP":"10.1.0.1:8080","Interval":"5s"}},
			{"CheckID":"node-check","Name":"node \ud83d\ude00","Status":"passing"}]}`},
	{"/v1/catalog/register", "{\"Node\":\"node-2\",\"Address\":\"10.0.0.2\",\"NodeMeta\":{\"bad\":\"a\xffb\"}," +
		"\"Service\":{\"ID\":\"web-2\",\"Service\":\"web\",\"Tags\":[\"v2\",\"\\u0000nul\",\"x\xfey\"],\"Port\":8081," +
		"\"Meta\":{\"k\":\"v\xff\\u2028\"}}," +
		"\"Checks\":[{\"CheckID\":\"svc-2\",\"Name\":\"grpc\",\"Status\":\"critical\",\"ServiceID\":\"web-2\",\"Output\":\"\\ud800 lone\"," +
		"\"Definition\":{\"GRPC\":\"10.0.0.2:9000/health\",\"GRPCUseTLS\":true,\"Interval\":\"1m\",\"Timeout\":\"3s\"}}]}"},
	{"/v1/catalog/register", `{"Node":"node-3","Address":"10.0.0.3","Service":{"ID":"web-3","Service":"web","Port":8082},
		"Checks":[{"CheckID":"_service_maintenance:web-3","Name":"Service Maintenance Mode","Status":"critical","ServiceID":"web-3","Notes":"draining"}]}`},
	{"/v1/catalog/register", `{"Node":"node-3","Address":"10.0.0.3","Service":{"Kind":"connect-proxy","ID":"web-proxy","Service":"web-sidecar-proxy","Port":21000,
		"Proxy":{"DestinationServiceName":"web","DestinationServiceID":"web-3","LocalServiceAddress":"127.0.0.1","LocalServicePort":8082,
		  "Upstreams":[{"DestinationName":"db","LocalBindPort":9191,"Config":{"connect_timeout_ms":500}}]},
		"TaggedAddresses":{"lan_ipv4":{"Address":"10.0.0.3","Port":21000}}},
		"Checks":[{"CheckID":"proxy-alive","Name":"Proxy alive","Status":"passing","ServiceID":"web-proxy"}]}`},
	{"/v1/agent/service/register", `{"ID":"api-1","Name":"api","Tags":["z","a"],"Port":9000,"Meta":{"team":"x"},
		"Check":{"CheckID":"api-ttl","Name":"ttl","TTL":"30s","Notes":"n","DeregisterCriticalServiceAfter":"10m"},
		"Checks":[{"CheckID":"api-tcp","Name":"tcp","TCP":"127.0.0.1:1","Interval":"30s","Timeout":"1s"}]}`},
	{"/v1/agent/service/maintenance/api-1?enable=true&reason=upgrade", ``},
}

// realPaths are the answers compared.
var realPaths = []string{
	"/v1/health/service/web", "/v1/health/service/web?passing=1", "/v1/health/service/web?near=_agent",
	"/v1/health/service/web-sidecar-proxy", "/v1/health/connect/web", "/v1/health/service/api",
	"/v1/health/service/consul", "/v1/health/service/nothing",
}

// TestDecodeHealthRealConsul decodes real Consul answers both ways.
func TestDecodeHealthRealConsul(t *testing.T) {
	a := consultest.Start(t)
	for _, r := range realRegistrations {
		req, err := http.NewRequest(http.MethodPut, a.URL()+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s: %s: %s", r.path, resp.Status, msg)
		}
	}
	seen := 0
	for _, p := range realPaths {
		resp, err := http.Get(a.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %s", p, err, resp.Status)
		}
		t.Logf("GET %s: %d bytes", p, len(body))
		sameDecoding(t, p, body, true)
		list, err := decodeHealth(body, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(list)
		for _, h := range list {
			for _, c := range h.Checks {
				if c.Definition.Header != nil || c.Definition.IntervalDuration != 0 {
					seen += 1000
				}
			}
		}
	}
	resp, err := http.Get(a.URL() + "/v1/catalog/services")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	sameServiceTags(t, "/v1/catalog/services", body)
	for _, p := range []string{"/v1/health/state/any", "/v1/health/state/critical", "/v1/health/state/warning",
		"/v1/catalog/node-services/node-%C3%BC1", "/v1/catalog/node-services/node-3", "/v1/catalog/node-services/none"} {
		resp, err := http.Get(a.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		sameRefs(t, p, body)
	}
	if !bytes.Contains(body, []byte("web-sidecar-proxy")) {
		t.Fatalf("catalog services %s lacks the registrations", body)
	}
	if seen < 1000 {
		t.Fatalf("the answers held %d instances and no check definition: the registrations did not take", seen)
	}
}
