package watch

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// filterPrefix starts the argument that carries a Consul filter expression.
const filterPrefix = "filter="

// ErrRefused is wrapped by a source's error when the source answered that
// the query itself is wrong (a filter expression it cannot parse, a
// prepared query it does not know): retrying cannot help until the
// template or the source's definitions change. The watcher retries such a
// query with its longest backoff and never makes it the scout.
var ErrRefused = errors.New("query refused")

// MaxFilterBytes bounds a filter expression: Consul parses the expression
// again for every answer, and its time grows with the length (about 0.9 s
// for 500 KB on the 2-core test machine), and a long URL fails at proxies.
const MaxFilterBytes = 4096

// SplitFilter takes a "filter=EXPR" argument out of the arguments of
// `service`, `connect`, `services` or `nodes` and returns the others and
// EXPR, Consul's filter expression (quotes, `!=`, `and`, `contains` … as
// Consul's filtering language has them), passed to Consul as the request's
// filter parameter with its whitespace outside string literals collapsed
// (so that two spellings of one expression are one query). consul-template's
// grammar is untouched: its query strings never start with "filter=", and
// an argument that does is an error there (an invalid status filter or a
// second argument). Two filter arguments, an empty expression, one longer
// than MaxFilterBytes, or one holding invalid UTF-8 or a control character
// other than tab, CR and LF are errors.
func SplitFilter(fn string, args []string) (rest []string, filter string, err error) {
	for _, a := range args {
		expr, ok := strings.CutPrefix(a, filterPrefix)
		if !ok {
			rest = append(rest, a)
			continue
		}
		if filter != "" {
			return nil, "", fmt.Errorf("%w: %s: more than one filter argument", ErrBadQuery, fn)
		}
		if filter, err = checkFilter(expr); err != nil {
			return nil, "", fmt.Errorf("%w: %s: %w", ErrBadQuery, fn, err)
		}
	}
	return rest, filter, nil
}

// checkFilter checks a filter expression and returns its canonical form.
func checkFilter(expr string) (string, error) {
	switch {
	case len(expr) > MaxFilterBytes:
		return "", fmt.Errorf("filter expression of %d bytes: at most %d", len(expr), MaxFilterBytes)
	case !utf8.ValidString(expr):
		return "", errors.New("filter expression is not valid UTF-8")
	}
	for _, r := range expr {
		if (r < ' ' && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return "", fmt.Errorf("filter expression holds control character %q", r)
		}
	}
	canon := canonicalFilter(expr)
	if canon == "" {
		return "", errors.New("empty filter expression")
	}
	return canon, nil
}

// canonicalFilter collapses every run of whitespace outside string
// literals to one space and trims the ends: Consul's filter grammar
// (go-bexpr) reads any run of space, tab, CR and LF between tokens alike. A
// literal runs from a " or ` to the next same character, as in that
// grammar (which has no escaped quote); an unterminated one is kept as
// written to the end, for Consul to refuse.
func canonicalFilter(expr string) string {
	var b strings.Builder
	space := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if c != '"' && c != '`' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(expr[i+1:], c)
		if end < 0 {
			b.WriteString(expr[i:])
			break
		}
		b.WriteString(expr[i : i+end+2])
		i += end + 1
	}
	return b.String()
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
	if !ok || m["name"] == "." || m["name"] == ".." { // a path step, which Consul answers with a redirect
		return Spec{}, fmt.Errorf("%w: query %q: want name[@dc][~near]", ErrBadQuery, query)
	}
	return Spec{Kind: KindPreparedQuery, Name: m["name"], DC: m["dc"], Near: m["near"]}, nil
}
