package template

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"dario.cat/mergo"

	"github.com/ctpl/ctpl/watch"
)

// collectionFuncs group, reshape and search lists and maps.
func collectionFuncs() map[string]any {
	return map[string]any{
		"byKey":                byKey,
		"byTag":                byTag,
		"byPort":               byPort,
		"byMeta":               byMeta,
		"explode":              explode,
		"explodeMap":           explodeMap,
		"mergeMap":             mergeMap,
		"mergeMapWithOverride": mergeMapWithOverride,
		"in":                   in,
		"contains":             contains,
		"containsAll":          containsSome("containsAll", allNeedles, present),
		"containsAny":          containsSome("containsAny", anyNeedle, present),
		"containsNone":         containsSome("containsNone", allNeedles, absent),
		"containsNotAll":       containsSome("containsNotAll", anyNeedle, absent),
	}
}

// byKey groups KV pairs by the first segment of their key. Each pair in a
// group is a copy whose Key has that segment removed; pairs with nothing left
// after it (the folder "redis/" or the key "redis") are left out.
func byKey(pairs []*watch.KeyPair) map[string]map[string]*watch.KeyPair {
	m := make(map[string]map[string]*watch.KeyPair)
	for _, p := range pairs {
		top, rest, _ := strings.Cut(p.Key, "/")
		if rest == "" {
			continue
		}
		if m[top] == nil {
			m[top] = make(map[string]*watch.KeyPair)
		}
		cp := *p
		cp.Key = rest
		m[top][rest] = &cp
	}
	return m
}

// byTag groups the result of service or services by tag: an instance with
// several tags is in several groups.
func byTag(list any) (map[string][]any, error) {
	m := make(map[string][]any)
	switch l := list.(type) {
	case nil:
	case []*watch.HealthService:
		for _, s := range l {
			for _, tag := range s.Tags {
				m[tag] = append(m[tag], s)
			}
		}
	case []*watch.CatalogService:
		for _, s := range l {
			for _, tag := range s.Tags {
				m[tag] = append(m[tag], s)
			}
		}
	default:
		return nil, fmt.Errorf("byTag: wrong argument type %T", list)
	}
	return m, nil
}

// byPort groups the result of service by port.
func byPort(list any) (map[int][]any, error) {
	m := make(map[int][]any)
	switch l := list.(type) {
	case nil:
	case []*watch.HealthService:
		for _, s := range l {
			m[s.Port] = append(m[s.Port], s)
		}
	default:
		return nil, fmt.Errorf("byPort: wrong argument type %T", list)
	}
	return m, nil
}

// metaUnsafe matches the characters byMeta replaces in group names.
var metaUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// byMeta groups instances by the values of one or more service meta keys,
// given comma-separated. The group name joins the values with "_". A missing
// or empty value becomes "_no_KEY_". A key with the suffix "|int" is read as
// an integer (missing or empty counts as 0) and zero-padded to five digits,
// so that groups sort numerically; a value that is no integer is an error.
// Characters other than letters, digits, '_' and '-' become '_'.
func byMeta(keys string, services []*watch.HealthService) (map[string][]*watch.HealthService, error) {
	metas := strings.Split(keys, ",")
	groups := make(map[string][]*watch.HealthService)
	parts := make([]string, len(metas))
	for _, s := range services {
		for i, meta := range metas {
			v, err := metaGroupPart(s.ServiceMeta, meta)
			if err != nil {
				return nil, err
			}
			parts[i] = metaUnsafe.ReplaceAllString(v, "_")
		}
		name := strings.Join(parts, "_")
		groups[name] = append(groups[name], s)
	}
	return groups, nil
}

// metaGroupPart returns the part of a byMeta group name that meta, a key
// with an optional "|int" suffix, contributes for an instance with meta data
// m.
func metaGroupPart(m map[string]string, meta string) (string, error) {
	key, isInt := strings.CutSuffix(meta, "|int")
	v := m[key]
	switch {
	case v != "" && !isInt:
		return v, nil
	case v == "" && !isInt:
		return "_no_" + key + "_", nil
	case v == "":
		v = "0"
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return "", fmt.Errorf("byMeta: cannot parse %q as number: %w", v, err)
	}
	return fmt.Sprintf("%05d", n), nil
}

// explode turns KV pairs into nested maps, one level per key segment, with
// the values as leaves. A pair below a key that already holds a value is an
// error; a value for a key that holds a map replaces the map.
func explode(pairs []*watch.KeyPair) (map[string]any, error) {
	m := make(map[string]any)
	for _, p := range pairs {
		if err := explodeInto(m, p.Key, p.Value); err != nil {
			return nil, fmt.Errorf("explode: %w", err)
		}
	}
	return m, nil
}

// explodeMap does what explode does to the keys of a flat map, in key order.
func explodeMap(flat map[string]any) (map[string]any, error) {
	m := make(map[string]any)
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := explodeInto(m, k, flat[k]); err != nil {
			return nil, fmt.Errorf("explodeMap: %w", err)
		}
	}
	return m, nil
}

// explodeInto stores v in m under the '/'-separated path key, creating the
// maps on the way. An empty last segment stores nothing.
func explodeInto(m map[string]any, key string, v any) error {
	parent := key // the path at the level above, for the error message
	for {
		top, rest, nested := strings.Cut(key, "/")
		if !nested {
			if key != "" {
				m[key] = v
			}
			return nil
		}
		if _, ok := m[top]; !ok {
			m[top] = make(map[string]any)
		}
		sub, ok := m[top].(map[string]any)
		if !ok {
			return fmt.Errorf("not a map: %q: %q already has value %q", parent, top, m[top])
		}
		m, parent, key = sub, key, rest
	}
}

// mergeMap merges src into dst, modifying and returning dst: keys of src that
// dst lacks (or holds an empty value for) are copied, nested maps are merged
// the same way, and values dst has win. Piped, the argument is dst:
// {{ $overrides | mergeMap $base }} keeps $base's values.
func mergeMap(dst, src map[string]any) (map[string]any, error) {
	if err := mergo.Map(&dst, src); err != nil {
		return nil, fmt.Errorf("mergeMap: %w", err)
	}
	return dst, nil
}

// mergeMapWithOverride is mergeMap where the values of src win.
func mergeMapWithOverride(dst, src map[string]any) (map[string]any, error) {
	if err := mergo.Map(&dst, src, mergo.WithOverride); err != nil {
		return nil, fmt.Errorf("mergeMapWithOverride: %w", err)
	}
	return dst, nil
}

// contains is in with its arguments swapped, for pipes:
// {{ if .Tags | contains "prod" }}.
func contains(v, list any) bool { return in(list, v) }

// in reports whether v is an element of the list or array list, or a
// substring of the string list, with consul-template's rules: integers of
// any signed size match each other, floats match floats, and strings match
// strings of the same type. Unsigned integers, integers against floats,
// nil and anything else never match (for a nil needle consul-template fails
// with a reflect panic as soon as it meets a string).
func in(list, v any) bool {
	lv, vv := reflect.ValueOf(list), reflect.ValueOf(v)
	switch lv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := range lv.Len() {
			e := lv.Index(i)
			if e.Kind() == reflect.Interface {
				e = e.Elem()
			}
			if sameElement(e, vv) {
				return true
			}
		}
	case reflect.String:
		return vv.IsValid() && vv.Type() == lv.Type() && strings.Contains(lv.String(), vv.String())
	}
	return false
}

// sameElement reports whether the list element e matches v for in.
func sameElement(e, v reflect.Value) bool {
	switch e.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return isSigned(v.Kind()) && e.Int() == v.Int()
	case reflect.Float32, reflect.Float64:
		return isFloat(v.Kind()) && e.Float() == v.Float()
	case reflect.String:
		return v.IsValid() && v.Type() == e.Type() && e.String() == v.String()
	}
	return false
}

// needleQuantifier says whether containsSome needs every needle to pass
// (allNeedles) or just one (anyNeedle).
type needleQuantifier bool

// needleTest says whether a needle passes when it is in the list (present)
// or when it is not (absent).
type needleTest bool

const (
	allNeedles needleQuantifier = true
	anyNeedle  needleQuantifier = false
	present    needleTest       = true
	absent     needleTest       = false
)

// containsSome returns the function fn, which reports whether every needle
// (or any needle) is present in (or absent from) a list, compared as in does.
// With no needles, the "every" forms are true and the "any" forms false.
//
// The needles come first, the list last: {{ .Tags | containsAll $wanted }}.
// consul-template takes the needles only as []interface{}; any slice or
// array is accepted here, so []string and watch.ServiceTags work too.
func containsSome(fn string, q needleQuantifier, test needleTest) func(needles, list any) (bool, error) {
	return func(needles, list any) (bool, error) {
		nv := reflect.ValueOf(needles)
		switch nv.Kind() {
		case reflect.Invalid:
			return bool(q), nil
		case reflect.Slice, reflect.Array:
		default:
			return false, fmt.Errorf("%s: want a list of needles, got %T", fn, needles)
		}
		for i := range nv.Len() {
			passes := in(list, nv.Index(i).Interface()) == bool(test)
			if passes != bool(q) {
				// all: one failing needle decides; any: one passing needle does.
				return !bool(q), nil
			}
		}
		return bool(q), nil
	}
}

// loopPrefill is the longest range loop fills in at once; longer ranges are
// fed by a goroutine, as in consul-template.
const loopPrefill = 4096

// loop returns a channel of the integers from 0 up to but not including its
// one argument, or from its first argument up to but not including its
// second. Arguments may be integers of any kind or strings holding base-10
// integers. Ranging over it binds the element to one variable, or the index
// and the element to two.
//
// consul-template feeds the channel from a goroutine, which blocks forever
// when a range stops early ({{ break }} or an error). Up to loopPrefill
// values are instead buffered in a closed channel, so that nothing is left
// running; longer ranges keep the goroutine, which stops when the execution
// ends or its guard stops it (the range then ends early, and the execution
// fails with the guard's error).
func (t *Template) loop(args ...any) (<-chan int64, error) {
	return loopOf(t.run.guard, args...)
}

// loopOf is loop for the execution stopped by g.
func loopOf(g *guard, args ...any) (<-chan int64, error) {
	if err := g.check(); err != nil {
		return nil, err // nested loops that write nothing end here
	}
	var from, to any = 0, nil
	switch len(args) {
	case 1:
		to = args[0]
	case 2:
		from, to = args[0], args[1]
	default:
		return nil, fmt.Errorf("loop: wrong number of arguments, expected 1 or 2, but got %d", len(args))
	}
	start, err := loopBound(from)
	if err != nil {
		return nil, err
	}
	stop, err := loopBound(to)
	if err != nil {
		return nil, err
	}
	if stop <= start || uint64(stop-start) <= loopPrefill { // uint64: no overflow
		ch := make(chan int64, max(stop-start, 0))
		for i := start; i < stop; i++ {
			ch <- i
		}
		close(ch)
		return ch, nil
	}
	ch := make(chan int64)
	g.feeders.Go(func() {
		defer close(ch)
		for i := start; i < stop && !g.stopped.Load(); i++ {
			select {
			case ch <- i:
			case <-g.done:
				return
			}
		}
	})
	return ch, nil
}

// loopBound converts one argument of loop to an integer.
func loopBound(x any) (int64, error) {
	v := reflect.ValueOf(x)
	switch {
	case isSigned(v.Kind()):
		return v.Int(), nil
	case isUnsigned(v.Kind()):
		return int64(v.Uint()), nil
	case v.Kind() == reflect.String:
		n, err := parseInt(v.String())
		if err != nil {
			return 0, fmt.Errorf("loop: %w", err)
		}
		return n, nil
	}
	return 0, fmt.Errorf("loop: bad argument type: %T", x)
}
