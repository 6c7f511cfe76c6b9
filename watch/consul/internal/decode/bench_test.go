package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"github.com/ctpl/ctpl/watch"
)

// BenchmarkDecodeHealth compares decoding a 1,000-instance health answer
// into records: encoding/json into the api client's types plus the
// conversion (what the api client did), and decodeHealth with and without
// interning; "pretty" is the same answer indented, as a dev agent writes it.
func BenchmarkDecodeHealth(b *testing.B) {
	compact := generatedHealth(1000)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, compact, "", "    "); err != nil {
		b.Fatal(err)
	}
	for _, body := range []struct {
		name string
		b    []byte
	}{{"compact", compact}, {"pretty", pretty.Bytes()}} {
		b.Run(body.name+"/encoding-json-api", func(b *testing.B) {
			b.SetBytes(int64(len(body.b)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err, _ := referenceHealth(body.b); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(body.name+"/decodeHealth", func(b *testing.B) {
			b.SetBytes(int64(len(body.b)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeHealth(body.b, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(body.name+"/decodeHealth-interned", func(b *testing.B) {
			in := &Interner{}
			b.SetBytes(int64(len(body.b)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeHealth(body.b, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRetainedHealth decodes the answers of 10,000 services × 10
// instances shaped as `make bench` seeds them (one check each, 200 nodes,
// indented as a dev agent writes them), keeps every record, and reports
// the heap they hold: the memory ctpl needs for them at 10,000×10.
func BenchmarkRetainedHealth(b *testing.B) {
	const services, instances = 10000, 10
	for _, path := range []struct {
		name   string
		decode func(*Interner, []byte) ([]*watch.HealthService, error)
	}{
		{"encoding-json-api", func(_ *Interner, body []byte) ([]*watch.HealthService, error) {
			out, err, _ := referenceHealth(body)
			return out, err
		}},
		{"decodeHealth", func(in *Interner, body []byte) ([]*watch.HealthService, error) { return decodeHealth(body, nil) }},
		{"decodeHealth-interned", decodeHealth2},
	} {
		b.Run(path.name, func(b *testing.B) {
			for b.Loop() {
				in := &Interner{}
				kept := make([][]*watch.HealthService, services)
				before := heapInUse()
				var buf bytes.Buffer
				for s := range services {
					list, err := path.decode(in, seededAnswer(&buf, s, instances))
					if err != nil || len(list) != instances {
						b.Fatal(err)
					}
					kept[s] = list
				}
				buf = bytes.Buffer{}
				after := heapInUse()
				b.ReportMetric(float64(after-before)/(1<<20), "MB-retained")
				b.ReportMetric(float64(after-before)/services/instances, "B/instance")
				runtime.KeepAlive(kept)
				runtime.KeepAlive(in)
			}
		})
	}
}

func decodeHealth2(in *Interner, body []byte) ([]*watch.HealthService, error) {
	return decodeHealth(body, in)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// seededAnswer writes into buf, and returns, service s's answer with m
// instances as a Consul 1.14 dev agent writes it for what `make bench`
// seeds.
func seededAnswer(buf *bytes.Buffer, s, m int) []byte {
	var compact bytes.Buffer
	compact.WriteByte('[')
	for j := range m {
		if j > 0 {
			compact.WriteByte(',')
		}
		g := s*m + j
		node, id, name := fmt.Sprintf("node%03d", g%200), fmt.Sprintf("svc%05d-%d", s, j), fmt.Sprintf("svc%05d", s)
		fmt.Fprintf(&compact, `{"Node":{"ID":"","Node":%q,"Address":"192.168.0.%d","Datacenter":"dc1","TaggedAddresses":null,`+
			`"Meta":null,"CreateIndex":16,"ModifyIndex":16},"Service":{"ID":%q,"Service":%q,"Tags":[],"Address":"10.%d.%d.%d",`+
			`"Meta":null,"Port":%d,"Weights":{"Passing":1,"Warning":1},"EnableTagOverride":false,"Proxy":{"Mode":"",`+
			`"MeshGateway":{},"Expose":{}},"Connect":{},"PeerName":"","CreateIndex":19,"ModifyIndex":19},"Checks":[{"Node":%q,`+
			`"CheckID":"chk-%s","Name":"alive","Status":"passing","Notes":"","Output":"","ServiceID":%q,"ServiceName":%q,`+
			`"ServiceTags":[],"Type":"","Interval":"","Timeout":"","ExposedPort":0,"Definition":{},"CreateIndex":19,"ModifyIndex":19}]}`,
			node, g%200, id, name, g>>16&255, g>>8&255, g&255, 20000+j, node, id, id, name)
	}
	compact.WriteByte(']')
	buf.Reset()
	_ = json.Indent(buf, compact.Bytes(), "", "    ")
	return buf.Bytes()
}

// BenchmarkDecodeHealthChange decodes a 10-instance answer (as `make bench`
// seeds it, indented) whose one instance changed since the last answer:
// "fresh" decodes every entry, "since" only the changed one, answering the
// others with the records of the last answer.
func BenchmarkDecodeHealthChange(b *testing.B) {
	var buf bytes.Buffer
	a := bytes.Clone(seededAnswer(&buf, 42, 10))
	c := bytes.Replace(a, []byte(`"ModifyIndex": 19
            }
        ]`), []byte(`"ModifyIndex": 20
            }
        ]`), 1)
	if bytes.Equal(a, c) {
		b.Fatal("no change made")
	}
	bodies := [2][]byte{a, c}
	b.Run("fresh", func(b *testing.B) {
		in := &Interner{}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := decodeHealth(bodies[i%2], in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("since", func(b *testing.B) {
		in := &Interner{}
		var prev Entries
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := Health(bodies[i%2], in, &prev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
