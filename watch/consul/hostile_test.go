package consul_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
)

// A hostile Consul: the first request of every query gets a good answer,
// every later one the case's hostile answer. The hostile bodies are
// streamed from small buffers, so the server's own allocations stay far
// below what the test allows the client.

// testMaxAnswer is the answer limit of the hostile tests: small, so that an
// answer cut at the limit costs little and one read whole costs far more.
const testMaxAnswer = 1 << 20

// safetyCap ends the "endless" bodies, so that a client without a limit
// fails the memory check instead of exhausting the machine.
const safetyCap = 256 << 20

// goodHealth is the first answer of a health query.
const goodHealth = `[{"Node":{"Node":"a","Address":"10.0.0.1"},"Service":{"ID":"web1","Service":"web","Port":80},"Checks":[]}]`

// goodKV is the first answer of a kv list query.
const goodKV = `[{"Key":"app/a","Value":"MQ==","CreateIndex":1,"ModifyIndex":1}]`

// endless writes whitespace, which any JSON decoder must read through,
// until the client goes away (or safetyCap).
func endless(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-Consul-Index", "9")
	chunk := bytes.Repeat([]byte(" "), 64<<10)
	w.Write([]byte("["))
	for sent := 0; sent < safetyCap; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// gzipMember is one gzip member inflating to 1 MiB of spaces (~1 KB);
// Go's gzip reader reads concatenated members as one stream.
var gzipMember = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(bytes.Repeat([]byte(" "), 1<<20))
	zw.Close()
	return b.Bytes()
})

// gzipBomb sends ~1 MB that inflates to 1 GiB, with Content-Encoding: gzip
// whether or not it was asked for.
func gzipBomb(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-Consul-Index", "9")
	w.Header().Set("Content-Encoding", "gzip")
	for range 1024 {
		if _, err := w.Write(gzipMember()); err != nil {
			return
		}
	}
}

// hugeError answers 500 with a 200 MB body.
func hugeError(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusInternalServerError)
	line := bytes.Repeat([]byte("rpc error: no leader\n"), 1000)
	for sent := 0; sent < 200<<20; sent += len(line) {
		if _, err := w.Write(line); err != nil {
			return
		}
	}
}

func body(index, text string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Consul-Index", index)
		fmt.Fprint(w, text)
	}
}

// hostileConsul serves one good answer per path, then hostile ones.
type hostileConsul struct {
	good    map[string]http.HandlerFunc // by path prefix
	hostile http.HandlerFunc
	mu      sync.Mutex
	seen    map[string]bool
	queries []string
}

func (h *hostileConsul) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	first := !h.seen[r.URL.Path]
	h.seen[r.URL.Path] = true
	h.queries = append(h.queries, r.URL.RawQuery)
	h.mu.Unlock()
	if !first {
		h.hostile(w, r)
		return
	}
	for prefix, good := range h.good {
		if strings.HasPrefix(r.URL.Path, prefix) {
			good(w, r)
			return
		}
	}
	http.NotFound(w, r)
}

func TestHostileAnswers(t *testing.T) {
	tests := []struct {
		name    string
		query   string // "health" or "kv", which goes through the api client
		hostile http.HandlerFunc
		wantErr error  // errors.Is
		wantMsg string // in the error, or in the log when no error is wanted
		maxErr  int    // the longest error message allowed; 0: 1 KiB
		want    string // the values after the hostile answer, when no error is wanted
	}{
		{name: "endless body, raw read", query: "health", hostile: endless,
			wantErr: consul.ErrAnswerTooLarge, wantMsg: "answer exceeds max_answer_bytes (1 MiB)"},
		{name: "endless body, api client", query: "kv", hostile: endless,
			wantErr: consul.ErrAnswerTooLarge, wantMsg: "answer exceeds max_answer_bytes (1 MiB)"},
		{name: "gzip bomb not asked for, raw read", query: "health", hostile: gzipBomb,
			wantMsg: `Content-Encoding "gzip", which was not asked for`},
		{name: "gzip bomb not asked for, api client", query: "kv", hostile: gzipBomb,
			wantMsg: `Content-Encoding "gzip", which was not asked for`},
		{name: "500 with a 200 MB body, raw read", query: "health", hostile: hugeError,
			wantMsg: `500 ("rpc error: no leader\nrpc error`, maxErr: 4096 + 1024},
		{name: "500 with a 200 MB body, api client", query: "kv", hostile: hugeError,
			wantMsg: `(cut at max_error_bytes, 4 KiB)`, maxErr: 4096 + 1024},
		{name: "an empty object is no instance", query: "health", hostile: body("10", `[{}]`),
			wantMsg: "malformed instance left out", want: "[]"},
		{name: "an instance without an address is no instance", query: "health",
			hostile: body("10", `[{"Node":{"Node":"b"},"Service":{"ID":"web2","Service":"web","Port":80}}]`),
			wantMsg: "malformed instance left out", want: "[]"},
		{name: "an instance without a service name is no instance", query: "health",
			hostile: body("10", `[{"Node":{"Node":"b","Address":"10.0.0.2"},"Service":{"ID":"web2","Port":80}}]`),
			wantMsg: "malformed instance left out", want: "[]"},
		{name: "a service address alone is an address", query: "health",
			hostile: body("10", `[{"Node":{"Node":"b"},"Service":{"ID":"web2","Service":"web","Address":"10.0.0.9"}}]`),
			want:    `["b"]`},
		{name: "wrong type of answer", query: "health", hostile: body("10", `{"Node":1}`),
			wantMsg: "wrong JSON type for health answer"},
		{name: "wrong type of field", query: "health", hostile: body("10", `[{"Node":"b"}]`),
			wantMsg: "Node"},
		{name: "wrong type through the api client", query: "kv", hostile: body("10", `{"Key":1}`),
			wantMsg: "cannot unmarshal"},
		{name: "index going backwards is read afresh", query: "health",
			hostile: body("3", `[{"Node":{"Node":"c","Address":"10.0.0.3"},"Service":{"ID":"web3","Service":"web"}}]`),
			want:    `["c"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &hostileConsul{seen: map[string]bool{}, hostile: tc.hostile, good: map[string]http.HandlerFunc{
				"/v1/health/service/": body("5", goodHealth), "/v1/kv/": body("5", goodKV),
			}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			var logs syncBuffer
			c, err := consul.New(consul.Options{Address: srv.URL, MaxAnswerBytes: testMaxAnswer,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			spec, _ := watch.ParseService("web")
			if tc.query == "kv" {
				spec, _ = watch.ParseKV(watch.KindKVList, "app")
			}
			w := watch.New(t.Context(), c, watch.Options{
				Wait: 100 * time.Millisecond, Grace: time.Second, MinInterval: time.Millisecond,
				BackoffMin: time.Minute, BackoffMax: time.Minute, Logger: slog.New(slog.DiscardHandler),
			})
			defer w.Close()
			store := watch.NewStore()
			if err := w.Watch(spec); err != nil {
				t.Fatal(err)
			}
			first := nextUpdate(t, w, store)
			if first.Err != nil {
				t.Fatalf("first answer: %v", first.Err)
			}
			good := names(store.Entry(spec.String()).Value)
			alloc := allocated()
			u := nextUpdate(t, w, store)
			used := allocated() - alloc
			if used > 16<<20 {
				t.Errorf("allocated %d MiB reading the hostile answer, want < 16 MiB", used>>20)
			}
			e := store.Entry(spec.String())
			if tc.want != "" {
				if u.Err != nil {
					t.Fatalf("error %v, want values %s", u.Err, tc.want)
				}
				if got := names(e.Value); got != tc.want {
					t.Errorf("values %s, want %s", got, tc.want)
				}
				if !strings.Contains(logs.String(), tc.wantMsg) {
					t.Errorf("log %q does not contain %q", logs.String(), tc.wantMsg)
				}
				return
			}
			if u.Err == nil {
				t.Fatalf("values %s, want an error", names(u.Value))
			}
			msg := u.Err.Error()
			if tc.wantErr != nil && !errors.Is(u.Err, tc.wantErr) || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("error %.300q, want %v containing %q", msg, tc.wantErr, tc.wantMsg)
			}
			if len(msg) > cmpOr(tc.maxErr, 1024) {
				t.Errorf("error of %d bytes, want at most %d", len(msg), cmpOr(tc.maxErr, 1024))
			}
			if got := names(e.Value); got != good || !e.HasValue {
				t.Errorf("after the error the store holds %s, want the last value %s", got, good)
			}
		})
	}
}

// nextUpdate waits for the watcher's next update and applies it to store.
func nextUpdate(t *testing.T, w *watch.Watcher, store *watch.Store) watch.Update {
	t.Helper()
	select {
	case u := <-w.Updates():
		store.Apply(u)
		return u
	case <-time.After(20 * time.Second):
		t.Fatal("no update within 20 s")
	}
	return watch.Update{}
}

// names lists what a value holds, quoted: node names or KV keys.
func names(v any) string {
	var out []string
	switch v := v.(type) {
	case []*watch.HealthService:
		for _, h := range v {
			out = append(out, h.Node)
		}
	case []*watch.KeyPair:
		for _, p := range v {
			out = append(out, p.Key)
		}
	default:
		return fmt.Sprintf("%T", v)
	}
	return fmt.Sprintf("%q", out)
}

// allocated returns the bytes the process has allocated so far.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = testkit.Buffer

func TestRedirectIsNotFollowed(t *testing.T) {
	var leaked atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Consul-Token") != "" {
			leaked.Add(1)
		}
		fmt.Fprint(w, goodHealth)
	}))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer srv.Close()
	c, err := consul.New(consul.Options{Address: srv.URL, Token: "secret-token"})
	if err != nil {
		t.Fatal(err)
	}
	health, _ := watch.ParseService("web")
	kv, _ := watch.ParseKV(watch.KindKVList, "app")
	for _, spec := range []watch.Spec{health, kv} {
		t.Run(string(spec.Kind), func(t *testing.T) {
			q, _ := c.Query(spec)
			_, err := q.Fetch(t.Context(), watch.FetchOptions{Wait: 100 * time.Millisecond})
			if !errors.Is(err, consul.ErrRedirect) || !strings.Contains(err.Error(), elsewhere.URL) {
				t.Errorf("error %v, want %v naming %s", err, consul.ErrRedirect, elsewhere.URL)
			}
		})
	}
	if n := leaked.Load(); n > 0 {
		t.Errorf("the token reached another host %d times", n)
	}
}
