package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ctpl/ctpl/renderer"
)

// DefaultReadyMaxDataAge is how long a query may fail before /readyz turns
// unready, unless configured.
const DefaultReadyMaxDataAge = 2 * time.Minute

// Report is what /status serves and `ctpl status` prints.
type Report struct {
	Version   string           `json:"version"`
	At        time.Time        `json:"at"`
	Ready     bool             `json:"ready"`
	Reasons   []string         `json:"unready_reasons,omitempty"`
	Templates []TemplateReport `json:"templates"`
	// Datacenters is the freshness of each datacenter's data.
	Datacenters []DatacenterReport `json:"datacenters"`
	Queries     []QueryReport      `json:"queries"`
	Exec        *ExecReport        `json:"exec,omitempty"`
	// Progress and Changes: see operator.go.
	Progress *ProgressReport `json:"progress,omitempty"`
	Changes  ChangeReport    `json:"instance_changes"`
	// ConfigWarnings are what loading the running configuration warned
	// about: consul-template keys and flags ctpl ignores.
	ConfigWarnings []string `json:"config_warnings,omitempty"`
	// Stopped marks the last report of an agent that has stopped (the
	// status file it leaves behind); Ready is then false.
	Stopped bool `json:"stopped,omitempty"`
}

// ExecReport is the exec-mode child in a Report.
type ExecReport struct {
	Command string `json:"command"`
	PID     int    `json:"pid"`    // 0 while no child runs
	Starts  int    `json:"starts"` // times the child was started
}

// TemplateReport is one template in a Report.
type TemplateReport struct {
	Source     string    `json:"source"`
	Dest       string    `json:"dest"`
	State      string    `json:"state"`
	Reason     string    `json:"reason,omitempty"`
	Missing    []string  `json:"missing,omitempty"`
	Held       []string  `json:"held,omitempty"`
	LastRender time.Time `json:"last_render,omitzero"`
	LastWrite  time.Time `json:"last_write,omitzero"`
	LastReload time.Time `json:"last_reload,omitzero"`
	LastChange string    `json:"last_change,omitempty"` // what changed at the last write
}

// QueryReport is one watched query in a Report.
type QueryReport struct {
	Query      string    `json:"query"`
	LastOK     time.Time `json:"last_ok,omitzero"`
	Error      string    `json:"error,omitempty"`
	ErrorSince time.Time `json:"error_since,omitzero"`
	AgeSeconds float64   `json:"age_seconds"`
	Warning    string    `json:"warning,omitempty"`
	// Instances of a health service query with data.
	Instances  *renderer.InstanceCount `json:"instances,omitempty"`
	Datacenter string                  `json:"datacenter,omitempty"` // the datacenter it names; empty for the agent's own
}

// NewReport assembles a report from src at now; ready says which data ages
// make the agent unready.
func NewReport(src Sources, version string, ready Readiness, now time.Time) Report {
	maxAge := ready.MaxDataAge
	if maxAge <= 0 {
		maxAge = DefaultReadyMaxDataAge
	}
	r := Report{Version: version, At: now, Templates: []TemplateReport{}, Queries: []QueryReport{},
		Datacenters: []DatacenterReport{}}
	var st renderer.Status
	if src.Status != nil {
		st = src.Status()
	}
	r.Ready = st.Ready
	if !st.Ready {
		r.Reasons = append(r.Reasons, unrenderedReason(st))
	}
	for _, t := range st.Templates {
		r.Templates = append(r.Templates, TemplateReport{Source: t.Source, Dest: t.Dest, State: t.State,
			Reason: t.Reason, Missing: t.Missing, Held: t.Held, LastRender: t.LastRender, LastWrite: t.LastWrite,
			LastReload: t.LastReload})
	}
	if src.Freshness != nil {
		qs := src.Freshness()
		for key, q := range qs {
			r.Queries = append(r.Queries, QueryReport{Query: key, LastOK: q.LastOK, Error: q.Err,
				ErrorSince: q.ErrSince, AgeSeconds: q.Age(now).Seconds(), Warning: q.Warning, Datacenter: q.DC})
		}
		ignored := ignoreRule(ready, st)
		r.Datacenters = datacenters(qs, ignored, now)
		if why := staleReasons(qs, ignored, maxAge, now); len(why) > 0 {
			r.Ready = false
			r.Reasons = append(r.Reasons, why...)
		}
	}
	if src.Exec != nil {
		e := src.Exec()
		r.Exec = &e
	}
	if src.ConfigWarnings != nil {
		r.ConfigWarnings = src.ConfigWarnings()
	}
	addOperator(&r, st)
	sort.Slice(r.Queries, func(i, j int) bool { return r.Queries[i].Query < r.Queries[j].Query })
	sort.Strings(r.Reasons)
	return r
}

// Server serves /metrics, /healthz, /readyz and /status.
type Server struct {
	// Addr is the listen address, e.g. 127.0.0.1:9469.
	Addr    string
	Metrics *Metrics
	Sources Sources
	Version string
	// ReadyMaxDataAge is the data age beyond which /readyz fails (0:
	// DefaultReadyMaxDataAge).
	ReadyMaxDataAge time.Duration
	// ReadyIgnore lists the datacenters ("@dc2") and queries whose age
	// never fails /readyz (Readiness.Ignore).
	ReadyIgnore []string
	Logger      *slog.Logger
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	if s.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics.reg, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		r := s.report()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !r.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			for _, why := range r.Reasons {
				fmt.Fprintln(w, why)
			}
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.report())
	})
	return mux
}

func (s *Server) report() Report {
	return NewReport(s.Sources, s.Version, Readiness{MaxDataAge: s.ReadyMaxDataAge, Ignore: s.ReadyIgnore}, time.Now())
}

// Listen opens the listener, so a bad address fails before the agent starts.
func (s *Server) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	return ln, nil
}

// Serve serves on ln until ctx ends, then shuts down within a second.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("metrics and status listener up", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return fmt.Errorf("telemetry: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("telemetry: %w", err)
	}
	return nil
}

// IsLoopback reports whether addr's host is a loopback address or
// "localhost".
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
