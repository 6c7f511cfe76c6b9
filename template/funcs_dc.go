package template

import "github.com/ctpl/ctpl/watch"

// dcFuncs are ctpl's own data functions for several datacenters:
// prepared queries, which consul-template lacks.
func (t *Template) dcFuncs() map[string]any {
	return map[string]any{
		"query": t.preparedQuery,
	}
}

// preparedQuery executes a prepared query by name or ID
// (`name[@dc][~near]`) and returns its answer: the instances, the service
// and the datacenter that answered. Until the first answer arrives it
// returns an empty answer and the template waits.
func (t *Template) preparedQuery(query string) (*watch.PreparedQuery, error) {
	empty := &watch.PreparedQuery{Nodes: []*watch.HealthService{}}
	if query == "" {
		return empty, nil
	}
	a, err := lookup[*watch.PreparedQuery](t, "query", []string{query}, func() (watch.Spec, error) {
		return watch.ParsePreparedQuery(query)
	})
	if err != nil || a.value == nil {
		return empty, err
	}
	return a.value, nil
}

// withFilter parses the arguments of a function that takes a filter
// argument ("filter=EXPR", see watch.SplitFilter): parse gets the other
// arguments (at least one, "" when none is left) and the spec it returns
// gets the expression.
func withFilter(fn string, args []string, parse func(query string, rest ...string) (watch.Spec, error)) (watch.Spec, error) {
	rest, filter, err := watch.SplitFilter(fn, args)
	if err != nil {
		return watch.Spec{}, err
	}
	if len(rest) == 0 {
		rest = []string{""}
	}
	s, err := parse(rest[0], rest[1:]...)
	s.Filter = filter
	return s, err
}

// catalogParser parses the one optional argument of `services` or `nodes`
// left once a filter argument is taken out.
func catalogParser(kind watch.Kind, fn string) func(string, ...string) (watch.Spec, error) {
	return func(q string, rest ...string) (watch.Spec, error) {
		if len(rest) > 0 {
			_, err := oneOptional(fn, append([]string{q}, rest...))
			return watch.Spec{}, err
		}
		return watch.ParseCatalog(kind, q)
	}
}
