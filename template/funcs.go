package template

import (
	"fmt"
	"maps"
	"path"
	"slices"
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
