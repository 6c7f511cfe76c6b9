package template

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// textFuncs transform strings. Like consul-template's, they take the string
// they work on as their last argument, so that it can be piped in:
// {{ .Name | replaceAll ":" "_" }}.
func textFuncs() map[string]any {
	return map[string]any{
		"join":            join,
		"split":           split,
		"splitToMap":      splitToMap,
		"trim":            trim,
		"trimPrefix":      trimPrefix,
		"trimSuffix":      trimSuffix,
		"trimSpace":       strings.TrimSpace,
		"indent":          indent,
		"replaceAll":      replaceAll,
		"regexMatch":      regexMatch,
		"regexReplaceAll": regexReplaceAll,
		"toLower":         strings.ToLower,
		"toUpper":         strings.ToUpper,
		"toTitle":         toTitle,
	}
}

// join joins a list of strings with sep.
//
// consul-template's join takes a []string: text/template passes it .Tags (a
// named []string type is assignable) but rejects any other list type. We
// deliberately accept any slice or array whose element kind is string, such
// as watch.ServiceTags or a []MyString; other lists, []interface{} included,
// are still an error. A nil list joins to "".
func join(sep string, list any) (string, error) {
	if list == nil {
		return "", nil
	}
	v := reflect.ValueOf(list)
	if (v.Kind() != reflect.Slice && v.Kind() != reflect.Array) || v.Type().Elem().Kind() != reflect.String {
		return "", fmt.Errorf("join: want a list of strings, got %T", list)
	}
	parts := make([]string, v.Len())
	for i := range parts {
		parts[i] = v.Index(i).String()
	}
	return strings.Join(parts, sep), nil
}

// split splits s, trimmed of surrounding white space, on sep; an empty or
// blank s gives an empty list, not a list of one empty string.
func split(sep, s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{}
	}
	return strings.Split(s, sep)
}

// splitToMap splits s, trimmed of surrounding white space, on sep1 and each
// item on the first sep2 into a key and a value. Items without sep2 are
// skipped; a later duplicate key wins.
func splitToMap(sep1, sep2, s string) map[string]string {
	s = strings.TrimSpace(s)
	if s == "" {
		return map[string]string{}
	}
	items := strings.Split(s, sep1)
	m := make(map[string]string, len(items))
	for _, item := range items {
		if k, v, ok := strings.Cut(item, sep2); ok {
			m[k] = v
		}
	}
	return m
}

// trim removes the leading and trailing characters in cutset from s.
func trim(cutset, s string) string { return strings.Trim(s, cutset) }

// trimPrefix removes prefix from the start of s, if it is there.
func trimPrefix(prefix, s string) string { return strings.TrimPrefix(s, prefix) }

// trimSuffix removes suffix from the end of s, if it is there.
func trimSuffix(suffix, s string) string { return strings.TrimSuffix(s, suffix) }

// indent prefixes every line of s that is not empty with spaces spaces.
// "\r\n" line ends keep their "\r"; a line is empty only when it is "".
func indent(spaces int, s string) (string, error) {
	if spaces < 0 {
		return "", fmt.Errorf("indent: indent value must be a positive integer, got %d", spaces)
	}
	prefix := strings.Repeat(" ", spaces)
	var b strings.Builder
	b.Grow(len(s) + spaces*(strings.Count(s, "\n")+1))
	lineStart := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if lineStart && c != '\n' {
			b.WriteString(prefix)
		}
		b.WriteByte(c)
		lineStart = c == '\n'
	}
	return b.String(), nil
}

// replaceAll replaces every occurrence of from in s with to.
func replaceAll(from, to, s string) string { return strings.ReplaceAll(s, from, to) }

// regexMatch reports whether s contains a match of the regular expression
// re.
func regexMatch(re, s string) (bool, error) {
	compiled, err := regexp.Compile(re)
	if err != nil {
		return false, fmt.Errorf("regexMatch: %w", err)
	}
	return compiled.MatchString(s), nil
}

// regexReplaceAll replaces every match of the regular expression re in s
// with repl, in which $1 or ${name} stand for submatches.
func regexReplaceAll(re, repl, s string) (string, error) {
	compiled, err := regexp.Compile(re)
	if err != nil {
		return "", fmt.Errorf("regexReplaceAll: %w", err)
	}
	return compiled.ReplaceAllString(s, repl), nil
}

// toTitle upper-cases the first letter of every word, leaving the other
// letters alone, with Unicode word breaking (so "don't" stays "Don't", unlike
// the deprecated strings.Title).
func toTitle(s string) string {
	// A Caser keeps state; one per call keeps concurrent executions apart.
	return cases.Title(language.Und, cases.NoLower).String(s)
}
