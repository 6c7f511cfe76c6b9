package decode

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
)

// decodeHealth is Health keeping no entries.
func decodeHealth(body []byte, in *Interner) ([]*watch.HealthService, error) {
	return Health(body, in, nil)
}

// referenceHealth is the decoding decodeHealth replaces: encoding/json
// into the api client's types, as the api client reads the body, then the
// conversion to records. ok is false when that path panics (an entry
// without its node or service).
func referenceHealth(body []byte) (out []*watch.HealthService, err error, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var entries []*api.ServiceEntry
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&entries); err != nil {
		return nil, err, true
	}
	out = make([]*watch.HealthService, 0, len(entries))
	for _, e := range entries {
		out = append(out, apiHealthService(e))
	}
	return out, nil, true
}

// apiHealthService is the conversion from the api client's types that
// decodeHealth must match.
func apiHealthService(e *api.ServiceEntry) *watch.HealthService {
	checks := make([]*watch.HealthCheck, 0, len(e.Checks))
	for _, c := range e.Checks {
		d := c.Definition
		interval := cmp.Or(d.IntervalDuration, time.Duration(d.Interval))
		timeout := cmp.Or(d.TimeoutDuration, time.Duration(d.Timeout))
		deregister := cmp.Or(d.DeregisterCriticalServiceAfterDuration, time.Duration(d.DeregisterCriticalServiceAfter))
		checks = append(checks, &watch.HealthCheck{
			Node: c.Node, CheckID: c.CheckID, Name: c.Name, Status: c.Status, Notes: c.Notes,
			Output: c.Output, ServiceID: c.ServiceID, ServiceName: c.ServiceName,
			ServiceTags: c.ServiceTags, Type: c.Type, Namespace: c.Namespace, Partition: c.Partition,
			ExposedPort: c.ExposedPort, PeerName: c.PeerName, Definition: watch.CheckDefinition{
				HTTP: d.HTTP, Header: d.Header, Method: d.Method, Body: d.Body, TLSServerName: d.TLSServerName,
				TLSSkipVerify: d.TLSSkipVerify, TCP: d.TCP, TCPUseTLS: d.TCPUseTLS, UDP: d.UDP, GRPC: d.GRPC,
				OSService: d.OSService, GRPCUseTLS: d.GRPCUseTLS, SessionName: d.SessionName,
				IntervalDuration: interval, TimeoutDuration: timeout, DeregisterCriticalServiceAfterDuration: deregister,
				Interval: watch.ReadableDuration(interval), Timeout: watch.ReadableDuration(timeout),
				DeregisterCriticalServiceAfter: watch.ReadableDuration(deregister),
			},
			CreateIndex: c.CreateIndex, ModifyIndex: c.ModifyIndex,
		})
	}
	addr := e.Service.Address
	if addr == "" {
		addr = e.Node.Address
	}
	var sta map[string]watch.ServiceAddress
	if e.Service.TaggedAddresses != nil {
		sta = make(map[string]watch.ServiceAddress, len(e.Service.TaggedAddresses))
		for k, v := range e.Service.TaggedAddresses {
			sta[k] = watch.ServiceAddress{Address: v.Address, Port: v.Port}
		}
	}
	tags := make(watch.ServiceTags, len(e.Service.Tags))
	copy(tags, e.Service.Tags)
	slices.Sort(tags)
	return &watch.HealthService{
		Node: e.Node.Node, NodeID: e.Node.ID, NodeAddress: e.Node.Address,
		NodeTaggedAddresses: e.Node.TaggedAddresses, NodeMeta: e.Node.Meta,
		ServiceMeta: e.Service.Meta, Address: addr, ServiceTaggedAddresses: sta, ID: e.Service.ID,
		Name: e.Service.Service, Tags: tags, Checks: checks, Status: watch.AggregateStatus(checks),
		Port: e.Service.Port, Weights: watch.Weights{Passing: e.Service.Weights.Passing, Warning: e.Service.Weights.Warning},
	}
}

// sameDecoding fails t unless decodeHealth and the reference agree on body:
// both fail, or both give deeply equal records. With strict false, the
// reference may fail where decodeHealth does not (it type-checks fields
// ctpl never reads).
func sameDecoding(t *testing.T, name string, body []byte, strict bool) {
	t.Helper()
	for _, in := range []*Interner{nil, {}} {
		want, wantErr, ok := referenceHealth(body)
		if !ok {
			return
		}
		got, err := decodeHealth(body, in)
		switch {
		case err != nil && wantErr == nil:
			t.Fatalf("%s: decodeHealth failed where encoding/json did not: %v\nbody: %q", name, err, body)
		case err == nil && wantErr != nil && strict:
			t.Fatalf("%s: decodeHealth accepted what encoding/json rejected (%v)\nbody: %q", name, wantErr, body)
		case err == nil && wantErr == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("%s: records differ\n got: %s\nwant: %s\nbody: %q", name, dump(got), dump(want), body)
		}
	}
}

func dump(list []*watch.HealthService) string {
	var b strings.Builder
	if list == nil {
		return "nil"
	}
	for _, h := range list {
		fmt.Fprintf(&b, "%+v\n", *h)
		for _, c := range h.Checks {
			fmt.Fprintf(&b, "  check %+v\n", *c)
		}
	}
	return b.String()
}

// healthCases are hand-written answers covering what the decoder must do
// like encoding/json: escapes, invalid UTF-8, surrogates, case-insensitive
// and escaped keys, duplicate keys, nulls, empty values, both duration
// encodings, unknown nested fields, extreme numbers.
var healthCases = []struct {
	name string
	body string
}{
	{name: "empty", body: `[]`},
	{name: "null answer", body: `null`},
	{name: "trailing data is not read", body: `[] {"x"`},
	{name: "minimal", body: `[{"Node":{"Node":"n1","Address":"10.0.0.1"},"Service":{"ID":"a","Service":"web","Port":80},"Checks":[]}]`},
	{name: "escapes", body: `[{"Node":{"Node":"n\u00e9\ud83d\ude00\t\n\"\\\/\b\f\r\u0000","Address":"a"},"Service":{"ID":"\ud800","Service":"\udc00\ud800x","Tags":["\ud800\u0041","\ud83d\u0041"," \u007f"]},"Checks":null}]`},
	{name: "invalid utf-8", body: "[{\"Node\":{\"Node\":\"a\xffb\xed\xa0\x80c\xc3\",\"Address\":\"\xe2\x82\"},\"Service\":{\"ID\":\"ü✓\U0001F680\",\"Meta\":{\"k\xff\":\"v\xfe\"}},\"Checks\":[]}]"},
	{name: "folded and escaped keys", body: `[{"node":{"NODE":"n","aDDress":"x","No\u0064e":"m"},"SERVICE":{"\u212aind":"connect-proxy","service":"s","ſervice":"t","tags":["b","a"]},"checks":[{"checkid":"c","STATUS":"critical"}]}]`},
	{name: "duplicate keys", body: `[{"Node":{"Node":"a","Meta":{"x":"1"},"Meta":{"y":"2"}},"Node":{"Address":"b"},"Service":{"Tags":["z"],"Tags":["y","x"],"Port":1,"Port":2,"Weights":{"Passing":3},"Weights":{"Warning":4}},"Checks":[{"CheckID":"x"}],"Checks":[{"CheckID":"y"},{"CheckID":"z","Status":"warning"}]}]`},
	{name: "nulls", body: `[{"Node":{"ID":null,"Node":"n","Address":null,"Datacenter":null,"TaggedAddresses":null,"Meta":null},"Service":{"Kind":null,"ID":null,"Service":"s","Tags":null,"Meta":null,"Port":null,"Address":null,"TaggedAddresses":null,"Weights":null,"Namespace":null,"Partition":null},"Checks":[{"Node":null,"CheckID":null,"ServiceTags":null,"ExposedPort":null,"CreateIndex":null,"Definition":{"Header":null,"HTTP":null,"TLSSkipVerify":null,"IntervalDuration":null}}]}]`},
	{name: "null map values", body: `[{"Node":{"Node":"n","TaggedAddresses":{"lan":null,"wan":"w"},"Meta":{"a":null}},"Service":{"TaggedAddresses":{"lan":null,"wan":{"Address":null,"Port":null}}},"Checks":[{"Definition":{"Header":{"A":null,"B":[null,"x"]}}}]}]`},
	{name: "empty values", body: `[{"Node":{"Node":"","TaggedAddresses":{},"Meta":{}},"Service":{"Tags":[],"Meta":{},"TaggedAddresses":{},"Weights":{}},"Checks":[{"ServiceTags":[],"Definition":{"Header":{}}}]}]`},
	{name: "durations", body: `[{"Node":{},"Service":{},"Checks":[
		{"CheckID":"a","Definition":{"Interval":"10s","Timeout":"1.5s","DeregisterCriticalServiceAfter":"90m"}},
		{"CheckID":"b","Definition":{"Interval":1000000000,"Timeout":2.5e9,"DeregisterCriticalServiceAfter":0}},
		{"CheckID":"c","Definition":{"Interval":"10s","IntervalDuration":"5s","TimeoutDuration":3000000000,"DeregisterCriticalServiceAfterDuration":true}},
		{"CheckID":"d","Definition":{"IntervalDuration":"7s","Interval":"10s","TimeoutDuration":{"x":1},"Timeout":"1s","DeregisterCriticalServiceAfterDuration":null,"DeregisterCriticalServiceAfter":"1h"}},
		{"CheckID":"e","Definition":{"intervalduration":"1m","TIMEOUT":"2m"}}]}]`},
	{name: "definition fields", body: `[{"Node":{},"Service":{},"Checks":[{"Definition":{"HTTP":"http://x/h","Header":{"X-A":["1","2"],"X-B":[]},"Method":"POST","Body":"{\"a\":1}","TLSServerName":"x","TLSSkipVerify":true,"TCP":"x:1","TCPUseTLS":true,"UDP":"u:1","GRPC":"g:1","GRPCUseTLS":true,"OSService":"svc","SessionName":"sess","Unknown":[1,{"a":[]}]}}]}]`},
	{name: "unknown nested fields", body: `[{"Node":{"Node":"n","Locality":{"Region":"r","Zone":null},"CreateIndex":1},"Service":{"ID":"i","Proxy":{"DestinationServiceName":"web","Upstreams":[{"DestinationName":"db","Config":{"a":[true,false,null,-1.5e-3,{"b":"c"}]}}],"Expose":{}},"Connect":{"Native":false},"Locality":null,"SocketPath":"","Ports":[]},"Checks":[],"Extra":[[[]],{}]}]`},
	{name: "numbers", body: `[{"Node":{},"Service":{"Port":-1,"Weights":{"Passing":0,"Warning":-0}},"Checks":[{"ExposedPort":65535,"CreateIndex":18446744073709551615,"ModifyIndex":0}]}]`},
	{name: "maintenance and statuses", body: `[{"Node":{"Node":"n"},"Service":{"ID":"s"},"Checks":[{"CheckID":"serfHealth","Status":"passing"},{"CheckID":"_service_maintenance:s","Status":"critical"}]},{"Node":{"Node":"m"},"Service":{"ID":"t"},"Checks":[{"CheckID":"x","Status":"warning"},{"CheckID":"y","Status":"passing"}]}]`},
	{name: "white space", body: " \n[ \t{ \"Node\" : { \"Node\" : \"n\" } , \"Service\" :{\"Tags\": [ \"a\" , \"b\" ] } ,\"Checks\":[ ] } ]\r\n"},
	// encoding/json rejects these; so must decodeHealth.
	{name: "port as string", body: `[{"Node":{},"Service":{"Port":"80"},"Checks":[]}]`},
	{name: "port as float", body: `[{"Node":{},"Service":{"Port":80.5},"Checks":[]}]`},
	{name: "port overflow", body: `[{"Node":{},"Service":{"Port":99999999999999999999},"Checks":[]}]`},
	{name: "negative index", body: `[{"Node":{},"Service":{},"Checks":[{"CreateIndex":-1}]}]`},
	{name: "tags as string", body: `[{"Node":{},"Service":{"Tags":"a"},"Checks":[]}]`},
	{name: "meta as array", body: `[{"Node":{"Meta":[]},"Service":{},"Checks":[]}]`},
	{name: "meta value number", body: `[{"Node":{"Meta":{"a":1}},"Service":{},"Checks":[]}]`},
	{name: "bool as string", body: `[{"Node":{},"Service":{},"Checks":[{"Definition":{"TLSSkipVerify":"true"}}]}]`},
	{name: "bad duration", body: `[{"Node":{},"Service":{},"Checks":[{"Definition":{"Interval":"soon"}}]}]`},
	{name: "null readable duration", body: `[{"Node":{},"Service":{},"Checks":[{"Definition":{"Timeout":null}}]}]`},
	{name: "escaped readable duration", body: `[{"Node":{},"Service":{},"Checks":[{"Definition":{"Interval":"1\u0073"}}]}]`},
	{name: "bad any duration", body: `[{"Node":{},"Service":{},"Checks":[{"Definition":{"IntervalDuration":"soon"}}]}]`},
	{name: "trailing comma", body: `[{"Node":{},"Service":{},"Checks":[],}]`},
	{name: "trailing comma in array", body: `[{"Node":{},"Service":{"Tags":["a",]},"Checks":[]}]`},
	{name: "bad literal", body: `[{"Node":{},"Service":{"Tags":nul},"Checks":[]}]`},
	{name: "bad escape", body: `[{"Node":{"Node":"\x"},"Service":{},"Checks":[]}]`},
	{name: "short unicode escape", body: `[{"Node":{"Node":"\u12"},"Service":{},"Checks":[]}]`},
	{name: "raw control character", body: "[{\"Node\":{\"Node\":\"a\nb\"},\"Service\":{},\"Checks\":[]}]"},
	{name: "bad number", body: `[{"Node":{},"Service":{"Unknown":01},"Checks":[]}]`},
	{name: "missing colon", body: `[{"Node" {}}]`},
	{name: "object answer", body: `{}`},
	{name: "empty body", body: ``},
	{name: "entry not an object", body: `[1]`},
}

func TestDecodeHealthMatchesEncodingJSON(t *testing.T) {
	for _, tc := range healthCases {
		t.Run(tc.name, func(t *testing.T) {
			sameDecoding(t, tc.name, []byte(tc.body), true)
		})
	}
}

// TestDecodeHealthTruncated cuts answers at every byte: every cut must
// fail as encoding/json fails, never yield records.
func TestDecodeHealthTruncated(t *testing.T) {
	for _, tc := range healthCases[:17] {
		body := []byte(tc.body)
		for n := range len(body) {
			sameDecoding(t, fmt.Sprintf("%s cut at %d", tc.name, n), body[:n], true)
		}
	}
}

// TestDecodeHealthGenerated checks a large generated answer.
func TestDecodeHealthGenerated(t *testing.T) {
	sameDecoding(t, "generated", generatedHealth(200), true)
}

// FuzzDecodeHealth compares the decoders on arbitrary bodies: decodeHealth
// never fails where encoding/json succeeds and, when both succeed, gives the
// same records. (It may accept a body encoding/json rejects for a wrong type
// in a field ctpl never reads.)
func FuzzDecodeHealth(f *testing.F) {
	for _, tc := range healthCases {
		f.Add([]byte(tc.body))
	}
	f.Add(generatedHealth(3))
	f.Fuzz(func(t *testing.T, body []byte) {
		if duplicateKeys(body) {
			// Consul never repeats a key. encoding/json merges a repeated
			// object or array into the first one's values, which the
			// decoder follows only in part: it must merely not fail.
			_, _ = decodeHealth(body, &Interner{})
			return
		}
		sameDecoding(t, "fuzz", body, false)
		// Decoded again with its own entries kept, it must not change.
		var prev Entries
		first, err := Health(body, nil, &prev)
		if err != nil {
			return
		}
		again, err := Health(body, nil, &prev)
		if err != nil || !reflect.DeepEqual(first, again) {
			t.Fatalf("decoded again with its entries kept: %v\n got: %s\nwant: %s", err, dump(again), dump(first))
		}
	})
}

// duplicateKeys reports whether some object in body repeats a key (after
// unescaping, ignoring case as encoding/json matches fields).
func duplicateKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type level struct {
		keys   map[string]bool
		object bool
		key    bool // the next string token is a key
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.object && top.key
		if top != nil && top.object {
			top.key = !top.key
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &level{keys: map[string]bool{}, object: true, key: true})
			case '[':
				stack = append(stack, &level{})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
				if len(stack) == 0 {
					return false
				}
			}
			if v == '{' || v == '[' {
				if top != nil && top.object {
					top.key = false // the container is the value
				}
			}
		case string:
			if isKey {
				k := strings.ToLower(strings.ToUpper(v))
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
			}
		}
	}
}

// generatedHealth returns an answer of n instances shaped as Consul 1.14
// writes them, with a node check and a service check each.
func generatedHealth(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		node := fmt.Sprintf("node%03d", i%200)
		id := fmt.Sprintf("web-%d", i)
		fmt.Fprintf(&b, `{"Node":{"ID":"%08x-0000-0000-0000-000000000000","Node":%q,"Address":"10.0.%d.%d","Datacenter":"dc1",`+
			`"TaggedAddresses":{"lan":"10.0.0.1","lan_ipv4":"10.0.0.1","wan":"10.0.0.1","wan_ipv4":"10.0.0.1"},`+
			`"Meta":{"consul-network-segment":""},"CreateIndex":10,"ModifyIndex":10},`, i, node, i>>8, i&255)
		fmt.Fprintf(&b, `"Service":{"ID":%q,"Service":"web","Tags":["v1","http"],"Address":"10.1.%d.%d","Meta":{"version":"1"},`+
			`"Port":8080,"Weights":{"Passing":1,"Warning":1},"EnableTagOverride":false,"Proxy":{"Mode":"","MeshGateway":{},"Expose":{}},`+
			`"Connect":{},"PeerName":"","CreateIndex":11,"ModifyIndex":11},`, id, i>>8, i&255)
		fmt.Fprintf(&b, `"Checks":[{"Node":%q,"CheckID":"serfHealth","Name":"Serf Health Status","Status":"passing","Notes":"",`+
			`"Output":"Agent alive and reachable","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":"","Interval":"","Timeout":"",`+
			`"ExposedPort":0,"Definition":{},"CreateIndex":10,"ModifyIndex":10},`, node)
		fmt.Fprintf(&b, `{"Node":%q,"CheckID":"service:%s","Name":"HTTP check","Status":"passing","Notes":"","Output":"HTTP GET 200 OK",`+
			`"ServiceID":%q,"ServiceName":"web","ServiceTags":["v1","http"],"Type":"http","Interval":"10s","Timeout":"1s","ExposedPort":0,`+
			`"Definition":{"Interval":"10s","Timeout":"1s","DeregisterCriticalServiceAfter":"0s","HTTP":"http://10.1.0.1:8080/h",`+
			`"Header":{"X-A":["1"]},"Method":"GET","TLSSkipVerify":false,"TCP":""},"CreateIndex":11,"ModifyIndex":11}]}`, node, id, id)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// TestStringsAtEveryOffset puts each kind of special byte at every offset
// of strings up to 40 bytes, so the eight-byte scan meets it in every lane.
func TestStringsAtEveryOffset(t *testing.T) {
	specials := []string{`\"`, `\\`, `\n`, `\u00e9`, "é", "\xff", "\x7f", "\U0001F680", `\ud800`, "\x1f"}
	for _, sp := range specials {
		for n := range 40 {
			for at := 0; at <= n; at++ {
				s := strings.Repeat("a", at) + sp + strings.Repeat("b", n-at)
				body := []byte(`"` + s + `"`)
				var want string
				wantErr := json.Unmarshal(body, &want)
				l := &lexer{b: body}
				got := string(l.strBytes())
				if (l.err != nil) != (wantErr != nil) || wantErr == nil && got != want {
					t.Fatalf("%q: got %q (%v), want %q (%v)", body, got, l.err, want, wantErr)
				}
			}
		}
	}
}

// TestDecodeHealthSinceMatchesFresh decodes every answer after every other
// one with the first's entries kept: the records must equal a fresh
// decoding's, and entries whose text repeats must be the same records.
func TestDecodeHealthSinceMatchesFresh(t *testing.T) {
	var bodies [][]byte
	for _, tc := range healthCases[:17] {
		bodies = append(bodies, []byte(tc.body))
	}
	a := generatedHealth(50)
	b := bytes.Replace(a, []byte(`"web-7","Service"`), []byte(`"web-7b","Service"`), 1)
	bodies = append(bodies, a, b)
	for i, first := range bodies {
		for j, second := range bodies {
			var prev Entries
			if _, err := Health(first, nil, &prev); err != nil {
				continue
			}
			want, wantErr := decodeHealth(second, nil)
			got, err := Health(second, nil, &prev)
			if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
				t.Fatalf("body %d after %d: got %s (%v), want %s (%v)", j, i, dump(got), err, dump(want), wantErr)
			}
		}
	}
	var prev Entries
	before, _ := Health(a, nil, &prev)
	after, err := Health(b, nil, &prev)
	if err != nil {
		t.Fatal(err)
	}
	shared := 0
	for k := range after {
		if after[k] == before[k] {
			shared++
		}
	}
	if shared != len(after)-1 || after[7] == before[7] {
		t.Fatalf("%d of %d records shared, want all but the changed one", shared, len(after))
	}
}

func TestValueEnd(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{in: `{}`, want: 2},
		{in: `{"a":"}"} x`, want: 9},
		{in: `{"a":"\"}"}`, want: 11},
		{in: `{"a":"\\"}`, want: 10},
		{in: `{"a":"\\\"]"}`, want: 13},
		{in: `[{"a":[1,{"b":"]"}]}]`, want: 21},
		{in: "{        \"a\":        [      ]         }", want: 39},
		{in: `{"a":"x`, want: -1},
		{in: `{"a":[}`, want: -1},
		{in: `"x"`, want: -1},
	}
	for _, tc := range tests {
		if got := valueEnd([]byte(tc.in), 0); got != tc.want {
			t.Errorf("valueEnd(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
