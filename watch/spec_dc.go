package watch

import (
	"fmt"
	"regexp"
	"strings"
)

// filterPrefix starts the argument that carries a Consul filter expression.
const filterPrefix = "filter="

// SplitFilter takes a "filter=EXPR" argument out of the arguments of
// `service`, `connect`, `services` or `nodes` and returns the others and
// EXPR, Consul's filter expression (quotes, `!=`, `and`, `contains` … as
// Consul's filtering language has them), passed to Consul unchanged as the
// request's filter parameter. consul-template's grammar is untouched: its
// query strings never start with "filter=", and an argument that does is
// an error there (an invalid status filter or a second argument). Two
// filter arguments, or an empty expression, are errors.
func SplitFilter(fn string, args []string) (rest []string, filter string, err error) {
	for _, a := range args {
		expr, ok := strings.CutPrefix(a, filterPrefix)
		switch {
		case !ok:
			rest = append(rest, a)
		case strings.TrimSpace(expr) == "":
			return nil, "", fmt.Errorf("%w: %s: empty filter expression", ErrBadQuery, fn)
		case filter != "":
			return nil, "", fmt.Errorf("%w: %s: more than one filter argument", ErrBadQuery, fn)
		case strings.ContainsRune(expr, 0):
			return nil, "", fmt.Errorf("%w: %s: filter expression holds a NUL", ErrBadQuery, fn)
		default:
			filter = expr
		}
	}
	return rest, filter, nil
}

// preparedRe is the grammar of `query`: a prepared query's name or ID, then
// the datacenter to execute it in and the node to sort by round-trip time
// from, as for `service`.
var preparedRe = regexp.MustCompile(`\A` +
	`(?P<name>[[:word:]\-.]+)` +
	`(?:@(?P<dc>[[:word:].\-]+))?` +
	`(?:~(?P<near>[[:word:].\-]+))?` +
	`\z`)

// ParsePreparedQuery parses the argument of `query`: `name[@dc][~near]`,
// where name is a prepared query's name or ID, dc the datacenter to execute
// it in (Consul's ?dc=) and near a node name or "_agent" (Consul's ?near=).
func ParsePreparedQuery(query string) (Spec, error) {
	m, ok := match(preparedRe, query)
	if !ok {
		return Spec{}, fmt.Errorf("%w: query %q: want name[@dc][~near]", ErrBadQuery, query)
	}
	return Spec{Kind: KindPreparedQuery, Name: m["name"], DC: m["dc"], Near: m["near"]}, nil
}
