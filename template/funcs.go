package template

import (
	"fmt"
	"maps"
	"path"
	"slices"

	"github.com/ctpl/ctpl/watch"
)

// funcs returns every function a template may call.
func (t *Template) funcs() map[string]any {
	m := t.consulFuncs()
	maps.Copy(m, t.envFuncs())
	maps.Copy(m, t.hostFuncs())
	maps.Copy(m, t.executionFuncs())
	maps.Copy(m, textFuncs())
	maps.Copy(m, collectionFuncs())
	maps.Copy(m, encodingFuncs())
	maps.Copy(m, mathFuncs())
	maps.Copy(m, sprigFuncs())
	maps.Copy(m, t.dataFuncs())
	maps.Copy(m, t.dcFuncs())
	maps.Copy(m, t.hostActionFuncs())
	maps.Copy(m, guardFuncs())
	return m
}

// allowedFuncs returns the functions this template may call, and why each
// function left out is denied.
func (t *Template) allowedFuncs() (map[string]any, map[string]string) {
	m := t.funcs()
	denied := make(map[string]string)
	for _, name := range OptIn {
		if !slices.Contains(t.opts.Allow, name) {
			delete(m, name)
			denied[name] = "it is disabled unless allow_functions lists it"
		}
	}
	for name := range m {
		for _, glob := range t.opts.Denylist {
			if ok, _ := path.Match(glob, name); ok {
				delete(m, name)
				denied[name] = fmt.Sprintf("function_denylist denies it (%q)", glob)
				break
			}
		}
	}
	return m, denied
}

// envFuncs read the process environment.
func (t *Template) envFuncs() map[string]any {
	return map[string]any{
		"env": func(name string) string { return t.opts.Getenv(name) },
	}
}

// oneOptional returns the single optional argument of fn, or "".
func oneOptional(fn string, args []string) (string, error) {
	switch len(args) {
	case 0:
		return "", nil
	case 1:
		return args[0], nil
	}
	return "", fmt.Errorf("%s: want at most 1 argument, got %d", fn, len(args))
}

// answer is what a data function finds in the Store for its query.
type answer[T any] struct {
	value   T    // the zero value until data arrives
	arrived bool // the Store has a value for the query
	spec    *watch.Spec
	key     string
}

// lookup is the shape every data function shares: parse the query once per
// template, record it as used (and as missing until data arrives) and read
// its value from the Store as a T.
func lookup[T any](t *Template, fn string, args []string, parse func() (watch.Spec, error)) (answer[T], error) {
	spec, key, err := t.spec(fn, args, parse)
	if err != nil {
		return answer[T]{}, err
	}
	v, ok := t.recall(spec, key)
	a := answer[T]{arrived: ok, spec: spec, key: key}
	if ok {
		a.value, _ = v.(T)
	}
	return a, nil
}

// orEmpty returns list, or an empty non-nil slice for nil, so a template
// ranging over a query that has not answered sees no elements and `toJSON`
// prints [] as consul-template does.
func orEmpty[E any](list []E) []E {
	if list == nil {
		return []E{}
	}
	return list
}
