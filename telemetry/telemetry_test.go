package telemetry_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/telemetry"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestMetricsExposition(t *testing.T) {
	now := time.Now()
	src := telemetry.Sources{
		Status: func() renderer.Status {
			return renderer.Status{Ready: true, Templates: []renderer.TemplateStatus{
				{Source: "a.tmpl", Dest: "/x/a.conf", State: "held", LastRender: now}},
				Instances: map[string]renderer.InstanceCount{"health.service(web)": {Passing: 2, Total: 3},
					"health.service(api)": {Passing: 4, Total: 4, PassingOnly: true}},
				Changes: renderer.ChangeCounts{Added: 5, Removed: 1}}
		},
		Freshness: func() map[string]telemetry.Query {
			return map[string]telemetry.Query{
				"health.service(web)":    {LastOK: now.Add(-time.Minute), Err: "connection refused", ErrSince: now.Add(-50 * time.Second)},
				"health.service(secret)": {LastOK: now, Warning: "filtered to nothing"},
				"kv.get(a)":              {LastOK: now},
			}
		},
		OpenConns: func() int { return 3 },
	}
	m := telemetry.NewMetrics(src, telemetry.Build{Version: "v1", Commit: "abc"})
	m.ConsulRequest("/v1/health/service/:service", 200, 10*time.Millisecond, nil)
	m.ConsulRequest("/v1/health/service/:service", 0, time.Second, errors.New("refused"))
	m.Rendered("a.tmpl", "written", time.Millisecond)
	m.Rendered("a.tmpl", "held", time.Millisecond)
	m.Ran("reload", "a.tmpl", "nginx -s reload", nil, 20*time.Millisecond)
	m.Ran("check", "a.tmpl", "nginx -t", errors.New("exit 1"), 20*time.Millisecond)

	s := &telemetry.Server{Metrics: m, Sources: src}
	code, body := get(t, s.Handler(), "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`ctpl_consul_requests_total{code="200",endpoint="/v1/health/service/:service"} 1`,
		`ctpl_consul_requests_total{code="error",endpoint="/v1/health/service/:service"} 1`,
		`ctpl_consul_request_duration_seconds_count{endpoint="/v1/health/service/:service"} 2`,
		`ctpl_renders_total{result="written",template="a.tmpl"} 1`,
		`ctpl_query_instances{query="health.service(web)",status="passing"} 2`,
		`ctpl_query_instances{query="health.service(web)",status="total"} 3`,
		`ctpl_query_instances{query="health.service(api)",status="passing"} 4`,
		`ctpl_instance_changes_total{change="added"} 5`,
		`ctpl_instance_changes_total{change="removed"} 1`,
		`ctpl_queries_waiting 0`,
		`ctpl_renders_total{result="held",template="a.tmpl"} 1`,
		`ctpl_commands_total{kind="reload",result="ok",template="a.tmpl"} 1`,
		`ctpl_commands_total{kind="check",result="error",template="a.tmpl"} 1`,
		`ctpl_last_success_timestamp_seconds{event="reload"}`,
		`ctpl_last_success_timestamp_seconds{event="render"}`,
		`ctpl_template_state{dest="/x/a.conf",state="held",template="a.tmpl"} 1`,
		`ctpl_template_state{dest="/x/a.conf",state="ok",template="a.tmpl"} 0`,
		`ctpl_template_last_timestamp_seconds{dest="/x/a.conf",event="render",template="a.tmpl"}`,
		`ctpl_watched_queries 3`,
		`ctpl_query_failing{query="health.service(web)"} 1`,
		`ctpl_query_warning{query="health.service(secret)"} 1`,
		`ctpl_query_data_age_seconds{query="kv.get(a)"} 0`,
		`ctpl_consul_open_connections 3`,
		`ctpl_ready 1`,
		`ctpl_build_info{commit="abc"`,
		`go_goroutines`,
		`process_open_fds`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `last_success_timestamp_seconds{event="check"}`) {
		t.Error("a failed check set the last successful check time")
	}
	if strings.Contains(body, `ctpl_query_instances{query="health.service(api)",status="total"}`) {
		t.Error("a total for a passing-only query: Consul does not return its failing instances")
	}
}

func TestReadiness(t *testing.T) {
	now := time.Now()
	ready := renderer.Status{Ready: true}
	tests := []struct {
		name      string
		status    renderer.Status
		queries   map[string]telemetry.Query
		maxAge    time.Duration
		wantReady bool
		wantWhy   string
	}{
		{name: "ready and healthy", status: ready,
			queries: map[string]telemetry.Query{"q": {LastOK: now.Add(-time.Hour)}}, wantReady: true},
		{name: "pending template", wantWhy: "waiting for 478 of 2001 queries (1 of 2 templates not rendered yet)",
			status: renderer.Status{Ready: false, Queries: 2001, Waiting: 478,
				Templates: []renderer.TemplateStatus{{State: renderer.StatePending}, {State: renderer.StateOK}}}},
		{name: "pending template, every query answered", wantWhy: "1 of 1 templates not rendered yet",
			status: renderer.Status{Ready: false, Queries: 3, Templates: []renderer.TemplateStatus{{State: renderer.StatePending}}}},
		{name: "failing within the age", status: ready, maxAge: time.Minute, wantReady: true,
			queries: map[string]telemetry.Query{"q": {LastOK: now.Add(-5 * time.Minute), Err: "refused", ErrSince: now.Add(-30 * time.Second)}}},
		{name: "failing beyond the age", status: ready, maxAge: time.Minute, wantWhy: "q: data 1m30s old",
			queries: map[string]telemetry.Query{"q": {LastOK: now.Add(-5 * time.Minute), Err: "refused", ErrSince: now.Add(-90 * time.Second)}}},
		{name: "never answered, failing beyond the default", status: ready, wantWhy: "q: data 3m0s old",
			queries: map[string]telemetry.Query{"q": {Err: "refused", ErrSince: now.Add(-3 * time.Minute)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := telemetry.Sources{
				Status:    func() renderer.Status { return tc.status },
				Freshness: func() map[string]telemetry.Query { return tc.queries },
			}
			r := telemetry.NewReport(src, "v", telemetry.Readiness{MaxDataAge: tc.maxAge}, now)
			if r.Ready != tc.wantReady {
				t.Errorf("Ready = %v, want %v (%q)", r.Ready, tc.wantReady, r.Reasons)
			}
			if tc.wantWhy != "" && !strings.Contains(strings.Join(r.Reasons, "\n"), tc.wantWhy) {
				t.Errorf("reasons %q lack %q", r.Reasons, tc.wantWhy)
			}
			s := &telemetry.Server{Sources: src, ReadyMaxDataAge: tc.maxAge}
			code, _ := get(t, s.Handler(), "/readyz")
			if (code == 200) != tc.wantReady {
				t.Errorf("/readyz = %d", code)
			}
			code, body := get(t, s.Handler(), "/status")
			var back telemetry.Report
			if code != 200 || json.Unmarshal([]byte(body), &back) != nil || back.Ready != r.Ready {
				t.Errorf("/status = %d %s", code, body)
			}
			if code, _ := get(t, s.Handler(), "/healthz"); code != 200 {
				t.Errorf("/healthz = %d", code)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:9469": true, "[::1]:9469": true, "localhost:1": true,
		"0.0.0.0:9469": false, ":9469": false, "10.0.0.1:80": false, "nonsense": false} {
		if got := telemetry.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
}
