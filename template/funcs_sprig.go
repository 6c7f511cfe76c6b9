package template

import "github.com/Masterminds/sprig/v3"

// sprigFuncs are Sprig's hermetic functions (those whose output depends only
// on their input: no clock, randomness or environment), each named with the
// prefix "sprig_", as in consul-template: {{ "x" | sprig_upper }}.
func sprigFuncs() map[string]any {
	src := sprig.HermeticTxtFuncMap()
	m := make(map[string]any, len(src))
	for name, fn := range src {
		m["sprig_"+name] = fn
	}
	return m
}
