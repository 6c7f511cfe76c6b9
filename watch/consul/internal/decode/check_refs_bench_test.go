package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/hashicorp/consul/api"
)

// stateBody is a /v1/health/state answer with n critical service checks.
func stateBody(b *testing.B, n int) []byte {
	checks := make([]*api.HealthCheck, n)
	for i := range checks {
		checks[i] = &api.HealthCheck{Node: fmt.Sprintf("node%03d", i%200), CheckID: fmt.Sprintf("chk-svc%05d-0", i),
			Name: "alive", Status: api.HealthCritical, ServiceID: fmt.Sprintf("svc%05d-0", i),
			ServiceName: fmt.Sprintf("svc%05d", i), ServiceTags: []string{}, Type: "", Namespace: "default",
			CreateIndex: uint64(1000 + i), ModifyIndex: uint64(2000 + i)}
	}
	body, err := json.Marshal(checks)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkHealthStateDecode compares what a health detector spends on one
// answer: the full decode it did before, the decode of the fields it
// compares, and an unchanged answer, which it now drops undecoded.
func BenchmarkHealthStateDecode(b *testing.B) {
	for _, n := range []int{0, 100} {
		body := stateBody(b, n)
		b.Run(fmt.Sprintf("%d checks/full HealthCheck", n), func(b *testing.B) {
			for b.Loop() {
				var out []*api.HealthCheck
				if err := json.Unmarshal(body, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%d checks/CheckRef", n), func(b *testing.B) {
			in := &Interner{}
			for b.Loop() {
				if _, err := CheckRefs(body, in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%d checks/unchanged", n), func(b *testing.B) {
			last := bytes.Clone(body)
			for b.Loop() {
				if !bytes.Equal(body, last) {
					b.Fatal("changed")
				}
			}
		})
	}
}
