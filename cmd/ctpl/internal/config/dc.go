package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ctpl/ctpl/renderer"
)

// DCConfig holds the top-level keys of multi-datacenter operation (issue 15).
type DCConfig struct {
	// ReadyIgnore lists datacenters ("@dc2": every query naming dc2; "@*":
	// every query naming a datacenter other than the agent's) and queries
	// (their canonical string, as /status lists them) whose data age never
	// makes /readyz fail. The default is "@*": a remote datacenter's outage
	// never takes the local proxy out of service unless the operator lists
	// what matters instead (an empty list counts every datacenter).
	ReadyIgnore []string `yaml:"ready_ignore"`
	// PreparedQueryInterval is how often each prepared query (`query`) is
	// executed: Consul's execute endpoint does not block (default 5s; each
	// wait is shortened by up to a fifth at random).
	PreparedQueryInterval time.Duration `yaml:"prepared_query_interval"`
}

// TemplateDCConfig holds the per-template keys of multi-datacenter
// operation (issue 15).
type TemplateDCConfig struct {
	// ReadyIgnore lists datacenters ("@dc2") whose data age must not make
	// /readyz fail on this template's account: a datacenter is ignored when
	// every template reading it ignores it.
	ReadyIgnore []string `yaml:"ready_ignore"`
	// HoldKVLists makes on_empty and max_shrink count the keys of ls and
	// tree too.
	HoldKVLists bool `yaml:"hold_kv_lists"`
}

// MinPreparedQueryInterval is the shortest prepared_query_interval: a
// typo such as 5ms for 5s would execute each query a hundred times a second.
const MinPreparedQueryInterval = time.Second

// applyDC copies tc's multi-datacenter settings into t.
func applyDC(tc TemplateConfig, t *renderer.Template) {
	t.ReadyIgnore, t.HoldKVLists = tc.TemplateDCConfig.ReadyIgnore, tc.HoldKVLists
}

// validateDC checks the multi-datacenter keys.
func (c *Config) validateDC() error {
	var errs []error
	for _, e := range c.ReadyIgnore {
		if err := checkIgnore(e, true); err != nil {
			errs = append(errs, fmt.Errorf("ready_ignore: %w", err))
		}
	}
	for i, t := range c.Templates {
		for _, e := range t.TemplateDCConfig.ReadyIgnore {
			if err := checkIgnore(e, false); err != nil {
				errs = append(errs, fmt.Errorf("template %d: ready_ignore: %w", i+1, err))
			}
		}
	}
	if c.PreparedQueryInterval < 0 {
		errs = append(errs, errors.New("prepared_query_interval: must not be negative"))
	} else if c.PreparedQueryInterval > 0 && c.PreparedQueryInterval < MinPreparedQueryInterval {
		errs = append(errs, fmt.Errorf("prepared_query_interval: %s: at least %s (every execution of every query is a server RPC)",
			c.PreparedQueryInterval, MinPreparedQueryInterval))
	}
	return errors.Join(errs...)
}

// checkIgnore checks one ready_ignore entry: "@dc", or, at the top level,
// a query's canonical string such as "health.service(web@dc2)".
func checkIgnore(e string, queries bool) error {
	if dc, ok := strings.CutPrefix(e, "@"); ok {
		if dc == "" || strings.ContainsAny(dc, "@~|() \t") {
			return fmt.Errorf("%q: want @ and a datacenter name", e)
		}
		return nil
	}
	if queries && strings.Contains(e, "(") && strings.HasSuffix(e, ")") {
		return nil
	}
	if queries {
		return fmt.Errorf("%q: want @datacenter or a query as /status names it, e.g. health.service(web@dc2)", e)
	}
	return fmt.Errorf("%q: want @datacenter", e)
}

// Readiness returns what /readyz ignores, for the telemetry.
func (c Config) Readiness() (maxAge time.Duration, ignore []string) {
	return c.ReadyMaxDataAge, c.ReadyIgnore
}
