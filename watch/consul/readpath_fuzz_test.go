package consul_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
)

// fuzzMaxAnswer is the answer limit of FuzzReadPath: small, so that the
// fuzzer reaches it.
const fuzzMaxAnswer = 4 << 10

// FuzzReadPath runs bodies through the whole read path of a health and a
// catalog services query: the transport's limits, the raw read, the
// decoder, the malformed-instance check and the untrusted-strings screen.
// Whatever the body, a read either fails or yields only well-formed,
// trusted records; a body over the limit always fails with
// ErrAnswerTooLarge.
func FuzzReadPath(f *testing.F) {
	for _, seed := range []string{
		goodHealth, `[{}]`, `[]`, `null`, `{}`, `{"Node":1}`, `[{"Node":"b"}]`, `[null]`,
		`[{"Node":{"Node":"b"},"Service":{"Service":"web","Address":"10.0.0.9","Tags":["a\u0085b","ok"]}}]`,
		`[{"Node":{"Node":"b","Address":"10.0.0.2","ID":"\u202e"},"Service":{"Service":"web"}}]`,
		`[{"Node":{"Node":"b","Address":"10.0.0.2"},"Service":{"Service":"web","Meta":{"k\u2028":"v"}},` +
			`"Checks":[{"CheckID":"c","Status":"pass\u009bing","Output":"multi\nline"}]}]`,
		`{"web":["http","a\nb"],"db":null,"x\u0085":[]}`,
		`[` + strings.Repeat(" ", fuzzMaxAnswer) + `]`,
		strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200),
	} {
		f.Add([]byte(seed))
	}
	var body atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Consul-Index", "5")
		w.Write(*body.Load())
	}))
	f.Cleanup(srv.Close)
	c, err := consul.New(consul.Options{Address: srv.URL, MaxAnswerBytes: fuzzMaxAnswer,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	health, _ := watch.ParseService("web", watch.StatusAny)
	services, _ := watch.ParseCatalog(watch.KindCatalogServices, "")
	var queries []watch.Query
	for _, spec := range []watch.Spec{health, services} {
		q, err := c.Query(spec)
		if err != nil {
			f.Fatal(err)
		}
		queries = append(queries, q)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(&b)
		for i, q := range queries {
			spec := []watch.Spec{health, services}[i]
			res, err := q.Fetch(t.Context(), watch.FetchOptions{})
			if len(b) > fuzzMaxAnswer {
				if !errors.Is(err, consul.ErrAnswerTooLarge) {
					t.Fatalf("%s: a %d-byte body read with error %v, want ErrAnswerTooLarge", spec, len(b), err)
				}
				continue
			}
			if err != nil {
				continue
			}
			if bad := untrustedRecord(res.Value); bad != "" {
				t.Fatalf("%s: %s", spec, bad)
			}
		}
	})
}

// untrustedRecord describes the first malformed or untrusted record of a
// query's value, "" when there is none.
func untrustedRecord(v any) string {
	bad := func(s ...string) bool {
		for _, x := range s {
			if watch.UntrustedWith(x, watch.FormatCharsScreen) {
				return true
			}
		}
		return false
	}
	switch v := v.(type) {
	case []*watch.HealthService:
		for _, h := range v {
			if h.Node == "" || h.Name == "" || h.Address == "" {
				return fmt.Sprintf("malformed instance %+v", *h)
			}
			strs := []string{h.Node, h.NodeID, h.NodeAddress, h.Address, h.Name, h.ID}
			strs = append(strs, h.Tags...)
			for k, m := range h.ServiceMeta {
				strs = append(strs, k, m)
			}
			for k, m := range h.NodeMeta {
				strs = append(strs, k, m)
			}
			for _, c := range h.Checks {
				strs = append(strs, c.CheckID, c.Name, c.Status, c.Type, c.ServiceID, c.ServiceName)
			}
			if bad(strs...) {
				return fmt.Sprintf("untrusted instance %q", strs)
			}
		}
	case []*watch.CatalogService:
		for _, s := range v {
			if bad(append([]string{s.Name}, s.Tags...)...) {
				return fmt.Sprintf("untrusted service %+v", *s)
			}
		}
	}
	return ""
}
