package telemetry

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ctpl/ctpl/renderer"
)

// Query is the freshness of one watched query.
type Query struct {
	LastOK   time.Time // last successful answer (zero: none yet)
	Err      string    // current error, empty when healthy
	ErrSince time.Time // when the current error began
	Warning  string    // the last answer's warning (ACLs filtered it to nothing)
	DC       string    // the datacenter the query names; empty for the agent's own
}

// Age is how old the query's data is at now: zero while the query is
// healthy (a blocking query holds the latest data), the time since it began
// to fail while it fails (the data was current until then).
func (q Query) Age(now time.Time) time.Duration {
	switch {
	case q.Err == "":
		return 0
	case !q.ErrSince.IsZero():
		return now.Sub(q.ErrSince)
	case !q.LastOK.IsZero():
		return now.Sub(q.LastOK)
	}
	return 0
}

// Sources are read at scrape time and for reports; nil fields are skipped.
type Sources struct {
	Status    func() renderer.Status
	Freshness func() map[string]Query
	OpenConns func() int
	Exec      func() ExecReport // exec mode only
	// ConfigWarnings are what loading the configuration warned about
	// (consul-template keys and flags ctpl ignores), one line each.
	ConfigWarnings func() []string
}

// Build identifies the binary in ctpl_build_info.
type Build struct{ Version, Commit string }

// Metrics holds ctpl's Prometheus metrics in a registry of its own.
type Metrics struct {
	reg *prometheus.Registry

	consulRequests  *prometheus.CounterVec
	consulLatency   *prometheus.HistogramVec
	renders         *prometheus.CounterVec
	renderDuration  *prometheus.HistogramVec
	commands        *prometheus.CounterVec
	commandDuration *prometheus.HistogramVec
	lastSuccess     *prometheus.GaugeVec
}

// NewMetrics registers every metric, the Go and process collectors and the
// scrape-time collector reading src.
func NewMetrics(src Sources, build Build) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		consulRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ctpl_consul_requests_total",
			Help: "HTTP requests to Consul by endpoint and status code (\"error\" when no response arrived).",
		}, []string{"endpoint", "code"}),
		consulLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ctpl_consul_request_duration_seconds",
			Help:    "Duration of HTTP requests to Consul, blocking queries included, by endpoint.",
			Buckets: []float64{.001, .005, .025, .1, .5, 1, 5, 15, 30, 60, 120, 300},
		}, []string{"endpoint"}),
		renders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ctpl_renders_total",
			Help: "Template executions by template and result (written, unchanged, held, failed).",
		}, []string{"template", "result"}),
		renderDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ctpl_render_duration_seconds",
			Help:    "Duration of template executions, writes included, by template.",
			Buckets: prometheus.ExponentialBuckets(.0001, 4, 10),
		}, []string{"template"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ctpl_commands_total",
			Help: "Check and reload command runs by kind, template and result (ok, error).",
		}, []string{"kind", "template", "result"}),
		commandDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ctpl_command_duration_seconds",
			Help:    "Duration of check and reload commands by kind.",
			Buckets: prometheus.ExponentialBuckets(.005, 3, 10),
		}, []string{"kind"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ctpl_last_success_timestamp_seconds",
			Help: "Unix time of the last successful render (written or unchanged), check and reload.",
		}, []string{"event"}),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "ctpl_build_info",
		Help:        "Always 1; labels identify the running binary.",
		ConstLabels: prometheus.Labels{"version": build.Version, "commit": build.Commit, "goversion": runtime.Version()},
	})
	info.Set(1)
	m.reg.MustRegister(m.consulRequests, m.consulLatency, m.renders, m.renderDuration, m.commands,
		m.commandDuration, m.lastSuccess, info, &scrapeCollector{src: src},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the metrics live in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ConsulRequest records one HTTP request to Consul.
func (m *Metrics) ConsulRequest(endpoint string, code int, d time.Duration, err error) {
	c := "error"
	if code != 0 {
		c = itoa(code)
	}
	m.consulRequests.WithLabelValues(endpoint, c).Inc()
	m.consulLatency.WithLabelValues(endpoint).Observe(d.Seconds())
}

// Rendered implements renderer.Observer.
func (m *Metrics) Rendered(source, result string, d time.Duration) {
	m.renders.WithLabelValues(source, result).Inc()
	m.renderDuration.WithLabelValues(source).Observe(d.Seconds())
	if result == renderer.ResultWritten || result == renderer.ResultUnchanged {
		m.lastSuccess.WithLabelValues("render").SetToCurrentTime()
	}
}

// Ran implements renderer.Observer.
func (m *Metrics) Ran(kind, source, command string, err error, d time.Duration) {
	result := "ok"
	if err != nil {
		result = "error"
	} else {
		m.lastSuccess.WithLabelValues(kind).SetToCurrentTime()
	}
	m.commands.WithLabelValues(kind, source, result).Inc()
	m.commandDuration.WithLabelValues(kind).Observe(d.Seconds())
}

// Tick implements renderer.Observer; metrics need no ticks.
func (m *Metrics) Tick() {}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}
