package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/ctpl/ctpl/watch"
)

// errPartialView says a snapshot would hold the token's view of the
// registry, not the registry: a data file made from it would say that
// services, instances and keys the token may not read do not exist.
var errPartialView = errors.New("the token may not read everything the snapshot captures, " +
	"and a data file of its view would say what it cannot see does not exist; " +
	"give the snapshot a token that reads all of it (or leave those queries out)")

// aclView is a Source that notes every answer Consul filtered by ACLs.
type aclView struct {
	watch.Source
	mu       sync.Mutex
	filtered map[string]string // query → why
}

func newACLView(src watch.Source) *aclView {
	return &aclView{Source: src, filtered: map[string]string{}}
}

// Query wraps the source's query so that its answers are watched.
func (v *aclView) Query(spec watch.Spec) (watch.Query, error) {
	q, err := v.Source.Query(spec)
	if err != nil {
		return nil, err
	}
	return &aclQuery{q: q, spec: spec, view: v}, nil
}

// err names every query whose answer ACLs filtered, or is nil.
func (v *aclView) err() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.filtered) == 0 {
		return nil
	}
	errs := []error{errPartialView}
	for _, k := range slices.Sorted(maps.Keys(v.filtered)) {
		errs = append(errs, fmt.Errorf("%s: %s", k, v.filtered[k]))
	}
	return errors.Join(errs...)
}

type aclQuery struct {
	q    watch.Query
	spec watch.Spec
	view *aclView
}

func (q *aclQuery) Fetch(ctx context.Context, opts watch.FetchOptions) (watch.Result, error) {
	res, err := q.q.Fetch(ctx, opts)
	if err == nil && (res.Filtered || res.Warning != "") {
		why := res.Warning
		if why == "" {
			why = "Consul's ACLs left out what the token may not read"
		}
		q.view.mu.Lock()
		q.view.filtered[q.spec.String()] = why
		q.view.mu.Unlock()
	}
	return res, err
}

// Close closes the wrapped query.
func (q *aclQuery) Close() {
	if c, ok := q.q.(io.Closer); ok {
		c.Close()
	} else if c, ok := q.q.(interface{ Close() }); ok {
		c.Close()
	}
}
