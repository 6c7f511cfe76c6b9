package watch

import (
	"errors"
	"fmt"
)

// Adapter is a Source that says which kinds of query it serves.
type Adapter interface {
	Source
	Kinds() []Kind
}

// Router is a Source that hands each spec to the adapter serving its kind.
type Router map[Kind]Source

// ErrNoSource is returned for a kind no adapter serves.
var ErrNoSource = errors.New("no source serves this kind of query")

// Route returns a Router over adapters; a later adapter wins a kind that two
// serve.
func Route(adapters ...Adapter) Router {
	r := Router{}
	for _, a := range adapters {
		for _, k := range a.Kinds() {
			r[k] = a
		}
	}
	return r
}

// Query returns the query of the adapter that serves spec's kind.
func (r Router) Query(spec Spec) (Query, error) {
	src, ok := r[spec.Kind]
	if !ok {
		return nil, fmt.Errorf("%s: %w", spec.Kind, ErrNoSource)
	}
	return src.Query(spec)
}
