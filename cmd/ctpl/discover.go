package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// maxDiscoveryPasses bounds how deep nested queries may go (range services
// → service .Name is two passes).
const maxDiscoveryPasses = 64

// answers are query results by canonical string: the Data templates read
// in a discovery.
type answers map[string]any

// Get returns the answer of the query named key.
func (a answers) Get(key string) (any, bool) { v, ok := a[key]; return v, ok }

// fetchFunc reads the answers of specs; it returns what it could read and
// an error naming each query it could not.
type fetchFunc func(ctx context.Context, specs []watch.Spec) (map[string]any, error)

// discovery is what executing templates to a fixed point found.
type discovery struct {
	answers answers
	// specs are every query the templates used, by key.
	specs map[string]watch.Spec
	// results are each template's last execution (nil: it failed).
	results []*template.Result
	// errs are the execution errors, one per failing template.
	errs []error
}

// discover executes every template against the answers read so far,
// reading those they miss, until no template misses anything: a template
// discovers its queries by running, nested ones over several passes. When
// the only queries missing were read already, it stops with errWaiting
// naming them.
func discover(ctx context.Context, tmpls []*template.Template, fetch fetchFunc) (*discovery, error) {
	d := &discovery{answers: answers{}, specs: map[string]watch.Spec{}, results: make([]*template.Result, len(tmpls))}
	for pass := 0; ; pass++ {
		if pass == maxDiscoveryPasses {
			return d, fmt.Errorf("the templates still discover new queries after %d passes", pass)
		}
		missing := d.execute(ctx, tmpls)
		var fresh, waiting []watch.Spec
		for _, s := range missing {
			if _, read := d.answers[s.String()]; read {
				waiting = append(waiting, s)
			} else {
				fresh = append(fresh, s)
			}
		}
		if len(fresh) == 0 {
			return d, waitingError(waiting)
		}
		got, err := fetch(ctx, fresh)
		for k, v := range got {
			d.answers[k] = v
		}
		if err != nil {
			d.execute(ctx, tmpls)
			return d, err
		}
	}
}

// errWaiting says a template waits for more than a query's answer holds:
// `key` waits for the key to exist, safeLs and safeTree for a key below the
// prefix. A -once run would wait for them until -once-timeout.
var errWaiting = errors.New("the template waits for it: the key does not exist (`key` waits until it does; " +
	"keyOrDefault does not) or no key is below the prefix (safeLs and safeTree wait; ls and tree do not)")

// waitingError names each query a template waits for although it was read,
// or is nil.
func waitingError(specs []watch.Spec) error {
	errs := make([]error, len(specs))
	for i, s := range specs {
		errs[i] = fmt.Errorf("%s: %w", s, errWaiting)
	}
	return errors.Join(errs...)
}

// execute runs every template once and returns the queries missing, sorted.
func (d *discovery) execute(ctx context.Context, tmpls []*template.Template) []watch.Spec {
	missing := map[string]watch.Spec{}
	d.errs = d.errs[:0]
	for i, t := range tmpls {
		res, err := t.ExecuteContext(ctx, d.answers)
		d.results[i] = res
		if res != nil {
			for _, s := range res.Used {
				d.specs[s.String()] = s
			}
			for _, s := range res.Missing {
				missing[s.String()] = s
			}
		}
		if err != nil && (res == nil || len(res.Missing) == 0) {
			d.results[i] = nil
			d.errs = append(d.errs, err)
		}
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range missing {
			if !yield(k) {
				return
			}
		}
	})
	out := make([]watch.Spec, 0, len(keys))
	for _, k := range keys {
		out = append(out, missing[k])
	}
	return out
}

// sourceFetch reads specs through src with index 0, up to 16 at a time,
// each bounded by timeout.
func sourceFetch(src watch.Source, timeout time.Duration) fetchFunc {
	return func(ctx context.Context, specs []watch.Spec) (map[string]any, error) {
		var (
			mu   sync.Mutex
			out  = make(map[string]any, len(specs))
			errs []error
			wg   sync.WaitGroup
			sem  = make(chan struct{}, 16)
		)
		for _, spec := range specs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				v, err := fetchOne(ctx, src, spec, timeout)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				out[spec.String()] = v
			})
		}
		wg.Wait()
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return out, errors.Join(errs...)
	}
}

func fetchOne(ctx context.Context, src watch.Source, spec watch.Spec, timeout time.Duration) (any, error) {
	q, err := src.Query(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	if c, ok := q.(io.Closer); ok {
		defer c.Close()
	} else if c, ok := q.(interface{ Close() }); ok {
		defer c.Close()
	}
	res, err := q.Fetch(ctx, watch.FetchOptions{Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	return res.Value, nil
}
