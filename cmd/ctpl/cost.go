package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
)

// Thresholds of the cost warnings.
const (
	manyServiceQueries = 1000 // health queries: a range over services with service .Name
	largeTree          = 1000 // keys in one ls/tree answer
	https2Streams      = 400  // requests in flight over HTTPS (4 connections × 100 streams)
)

// cost estimates what the templates' queries cost Consul and ctpl's
// connection budget (see docs/architecture.md, "Transport").
type cost struct {
	// Queries is how many Consul queries ctpl holds (file queries aside).
	Queries int            `json:"queries"`
	ByKind  map[string]int `json:"by_kind"`
	ByDC    map[string]int `json:"by_datacenter"`
	// Budget is the connection budget (plain HTTP) or streams (HTTPS);
	// LongPolls the long polls it can hold at once.
	Budget    int  `json:"connection_budget"`
	LongPolls int  `json:"long_poll_slots"`
	HTTPS     bool `json:"https"`
	// Detectors is true when the queries exceed the long-poll slots, so the
	// local health queries follow the change detectors.
	Detectors bool     `json:"change_detectors"`
	Warnings  []string `json:"warnings,omitempty"`
}

// estimateCost counts the queries and warns of patterns expensive at scale.
func estimateCost(cfg config.Config, specs map[string]watch.Spec, got answers) *cost {
	c := &cost{ByKind: map[string]int{}, ByDC: map[string]int{}}
	health, polled := 0, 0
	for _, k := range slices.Sorted(maps.Keys(specs)) {
		s := specs[k]
		if s.Kind == watch.KindFile {
			continue
		}
		c.Queries++
		c.ByKind[string(s.Kind)]++
		c.ByDC[cmp.Or(s.DC, "local")]++
		switch s.Kind {
		case watch.KindHealthService:
			health++
		case watch.KindPreparedQuery:
			polled++
		}
		if pairs, ok := got[k].([]*watch.KeyPair); ok && len(pairs) >= largeTree {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s returns %d keys: any change below %q re-renders every template using it",
				k, len(pairs), s.Name))
		}
		if s.Near != "" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s sorts by distance (~%s): Consul's servers answer it, never the agent's cache", k, s.Near))
		}
	}
	opts := cfg.Consul.Options()
	c.HTTPS = opts.TLS.Enable || strings.HasPrefix(opts.Address, "https://")
	c.Budget = cmp.Or(cfg.Consul.MaxConns, consul.DefaultMaxConns)
	plain := min(16, c.Budget/8)
	c.LongPolls = max(c.Budget-plain-4, 1)
	if c.HTTPS {
		c.Budget, c.LongPolls = https2Streams, https2Streams-16
	}
	c.Detectors = c.Queries-polled > c.LongPolls // prepared queries are polled on plain-read slots
	if polled > 0 {
		every := cmp.Or(cfg.PreparedQueryInterval, consul.DefaultPreparedQueryInterval)
		perMinute := math.Round(float64(polled) * float64(time.Minute) / (0.9 * float64(every))) // waits average 9/10 of the interval
		c.Warnings = append(c.Warnings, fmt.Sprintf("%d prepared queries polled every %s (prepared_query_interval): "+
			"about %.0f executions a minute, each a server RPC, whatever changes", polled, every, perMinute))
	}
	if health >= manyServiceQueries {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%d service queries (a range over services calling service .Name?): "+
			"each is a query Consul keeps answering; filter the services (by tag or name) where the template allows", health))
	}
	if n := c.Queries - c.ByDC["local"]; n > 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%d queries read other datacenters: each crosses the WAN", n))
	}
	return c
}

// write prints the estimate for people.
func (c *cost) write(w io.Writer) {
	fmt.Fprintf(w, "queries: %d Consul queries held", c.Queries)
	for _, k := range slices.Sorted(maps.Keys(c.ByKind)) {
		fmt.Fprintf(w, ", %s %d", k, c.ByKind[k])
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, "per datacenter:")
	for _, k := range slices.Sorted(maps.Keys(c.ByDC)) {
		fmt.Fprintf(w, " %s %d", k, c.ByDC[k])
	}
	fmt.Fprintln(w)
	unit := "connections"
	if c.HTTPS {
		unit = "HTTP/2 streams"
	}
	if c.Detectors {
		fmt.Fprintf(w, "budget: %d %s, %d long polls: exceeded, local health queries follow the change detectors\n", c.Budget, unit, c.LongPolls)
	} else {
		fmt.Fprintf(w, "budget: %d %s, %d long polls: every query holds its own long poll\n", c.Budget, unit, c.LongPolls)
	}
	for _, wn := range c.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
}
