package template

import (
	"slices"

	"github.com/Masterminds/sprig/v3"
)

// sprigFuncs are Sprig's hermetic functions (those whose output depends only
// on their input: no clock, randomness or environment), each named with the
// prefix "sprig_", as in consul-template: {{ "x" | sprig_upper }}.
func sprigFuncs() map[string]any {
	src := sprig.HermeticTxtFuncMap()
	m := make(map[string]any, len(src))
	for name, fn := range src {
		m["sprig_"+name] = fn
	}
	// Sprig sorts a []string in place; the list may be a value of the
	// Store (datacenters, a service's tags), which must never change.
	sortAlpha := src["sortAlpha"].(func(any) []string)
	m["sprig_sortAlpha"] = func(list any) []string {
		if l, ok := list.([]string); ok {
			list = slices.Clone(l)
		}
		return sortAlpha(list)
	}
	return m
}
