package decode

import (
	"slices"

	"github.com/ctpl/ctpl/watch"
)

// ServiceTags decodes the body of /v1/catalog/services, an object of
// service names and their tags, as encoding/json decodes it into
// map[string][]string: a repeated name keeps its last list, null is an
// empty map.
func ServiceTags(body []byte, in *Interner) (map[string][]string, error) {
	l := &lexer{b: body, in: in}
	if l.null() {
		return nil, nil
	}
	if !l.open('{', "catalog services answer") {
		return nil, cmpErr(l.err, "catalog services answer is not an object")
	}
	m := make(map[string][]string, 64)
	for first := true; l.more('}', &first); {
		name := l.in.string(l.key())
		m[name] = l.stringSlice(nil, "service tags")
	}
	if l.err != nil {
		return nil, l.err
	}
	return m, nil
}

// SortedTags returns a sorted copy of tags, never nil.
func SortedTags(tags []string) watch.ServiceTags {
	out := make(watch.ServiceTags, len(tags))
	copy(out, tags)
	slices.Sort(out)
	return out
}
