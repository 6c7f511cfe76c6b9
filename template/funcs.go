package template

import (
	"fmt"
	"maps"
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
	return m
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
