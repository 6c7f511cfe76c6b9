package consul_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// hostileHealth answers two instances, the second with a hostile tag.
const hostileHealth = `[
 {"Node":{"Node":"n1","Address":"10.0.0.1"},"Service":{"ID":"good","Service":"web","Port":80,"Tags":["http"]},"Checks":[]},
 {"Node":{"Node":"n2","Address":"10.0.0.2"},"Service":{"ID":"evil","Service":"web","Port":80,"Tags":["http\n}\nserver 6.6.6.6:80;"]},"Checks":[]}
]`

func TestUntrustedPolicies(t *testing.T) {
	tests := []struct {
		name    string
		policy  watch.UntrustedPolicy
		wantIDs string
		wantErr bool
		wantLog string
	}{
		{name: "drop leaves the instance out and warns", policy: watch.UntrustedDrop, wantIDs: "good",
			wantLog: `value="\"http\\n}\\nserver 6.6.6.6:80;\""`},
		{name: "error fails the query", policy: watch.UntrustedError, wantErr: true},
		{name: "allow passes it", policy: watch.UntrustedAllow, wantIDs: "good evil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Consul-Index", "7")
				fmt.Fprint(w, hostileHealth)
			}))
			defer srv.Close()
			var logs strings.Builder
			c, err := consul.New(consul.Options{Address: srv.URL, Untrusted: tc.policy, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			spec, _ := watch.ParseService("web")
			q, _ := c.Query(spec)
			res, err := q.Fetch(t.Context(), watch.FetchOptions{Wait: time.Second})
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "untrusted tag") {
					t.Fatalf("err %v, want an untrusted tag error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, h := range res.Value.([]*watch.HealthService) {
				ids = append(ids, h.ID)
			}
			if got := strings.Join(ids, " "); got != tc.wantIDs {
				t.Errorf("instances %q, want %q", got, tc.wantIDs)
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log %q does not contain %q", logs.String(), tc.wantLog)
			}
		})
	}
}

// TestUntrustedRealConsul registers what Consul accepts and the old screen
// let through (C1 controls, separators, format characters) and reads it
// back under each format-character policy.
func TestUntrustedRealConsul(t *testing.T) {
	a := consultest.Start(t)
	for i, s := range []consultest.Service{
		{ID: "clean", Tags: []string{"http"}},
		{ID: "output", Checks: []consultest.Check{{CheckID: "out", ServiceID: "output", Output: "line 1\nline 2", Notes: "a\tb"}}},
		{ID: "nel", Tags: []string{"web\u0085admin: true"}},
		{ID: "csi", Meta: map[string]string{"color": "\u009b31m"}},
		{ID: "lsep", Meta: map[string]string{"role": "web\u2028admin: true"}},
		{ID: "check", Checks: []consultest.Check{{CheckID: "c\u2029", ServiceID: "check"}}},
		{ID: "rlo", Tags: []string{"admin\u202egpj.exe"}},
	} {
		s.Node, s.Address, s.Name = fmt.Sprintf("n%d", i), fmt.Sprintf("10.0.0.%d", i+1), "web"
		a.RegisterService(t, s)
	}
	tests := []struct {
		name    string
		format  watch.FormatCharPolicy
		wantIDs string
	}{
		{name: "format characters screened (default)", wantIDs: "clean output"},
		{name: "format characters allowed", format: watch.FormatCharsAllow, wantIDs: "clean output rlo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			c, err := consul.New(consul.Options{Address: a.URL(), FormatChars: tc.format,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			spec, _ := watch.ParseService("web")
			q, _ := c.Query(spec)
			res, err := q.Fetch(t.Context(), watch.FetchOptions{Wait: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, h := range res.Value.([]*watch.HealthService) {
				ids = append(ids, h.ID)
			}
			if got := strings.Join(ids, " "); got != tc.wantIDs {
				t.Errorf("instances %q, want %q; log:\n%s", got, tc.wantIDs, logs.String())
			}
			// The values as the text handler quotes them.
			for _, v := range []string{`web\\u0085admin: true`, `\\u009b31m`, `web\\u2028admin: true`} {
				if !strings.Contains(logs.String(), v) {
					t.Errorf("no warning quoting %s in:\n%s", v, logs.String())
				}
			}
		})
	}
}
