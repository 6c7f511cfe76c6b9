package template

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	"github.com/ctpl/ctpl/watch"
)

// guardFuncs are ctpl's own output helpers, which let a template refuse
// registry strings that would change the meaning of the config it writes.
// None of their names exists in consul-template or Sprig.
//
// The is* forms return a bool for {{ if }}; the must* forms return the value
// unchanged, or fail the execution so the destination keeps its content.
func guardFuncs() map[string]any {
	return map[string]any{
		"nginxQuote":   nginxQuote,
		"haproxyQuote": haproxyQuote,
		"isIP":         isIP,
		"isHostname":   isHostname,
		"isPort":       isPort,
		"mustIP":       mustIP,
		"mustHostname": mustHostname,
		"mustPort":     mustPort,
	}
}

// ErrUnsafeValue is wrapped by every error of the guard helpers.
var ErrUnsafeValue = errors.New("unsafe value")

// printable reports whether s is valid UTF-8 without a control character
// (C0, DEL, C1 such as NEL U+0085), a line or paragraph separator or a
// format character (such as U+202E): the registry screen's rules, at their
// strictest (watch.UntrustedWith).
func printable(s string) bool {
	return !watch.UntrustedWith(s, watch.FormatCharsScreen)
}

// nginxQuote returns s as one double-quoted nginx string argument: `\` and
// `"` are escaped. nginx has no escape for `$`, which would start a variable,
// so s holding `$`, a control character or invalid UTF-8 is an error.
func nginxQuote(s string) (string, error) {
	if !printable(s) || strings.ContainsRune(s, '$') {
		return "", fmt.Errorf("nginxQuote %q: %w: control characters, invalid UTF-8 and $ cannot be quoted for nginx", s, ErrUnsafeValue)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String(), nil
}

// haproxyQuote returns s as one HAProxy argument in single quotes, inside
// which HAProxy interprets nothing (no escapes, no environment variables).
// Each single quote in s closes the quoted part, is written escaped with a
// backslash, and reopens it; HAProxy concatenates the parts into one word.
// Control characters and invalid UTF-8 are an error.
func haproxyQuote(s string) (string, error) {
	if !printable(s) {
		return "", fmt.Errorf("haproxyQuote %q: %w: control characters and invalid UTF-8 cannot be quoted for HAProxy", s, ErrUnsafeValue)
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// isIP reports whether v is an IPv4 or IPv6 address without a zone.
func isIP(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == ""
}

// isHostname reports whether v is a host name by RFC 1123: dot-separated
// labels of 1 to 63 letters, digits and hyphens, not starting or ending
// with a hyphen, at most 253 characters, with an optional final dot.
func isHostname(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !hostLabel(label) {
			return false
		}
	}
	return true
}

func hostLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isPort reports whether v, an integer or a string of decimal digits, is a
// TCP/UDP port from 1 to 65535.
func isPort(v any) bool {
	_, ok := portNumber(v)
	return ok
}

func portNumber(v any) (int64, bool) {
	var n int64
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n = rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if rv.Uint() > 65535 {
			return 0, false
		}
		n = int64(rv.Uint())
	case reflect.String:
		s := rv.String()
		if s == "" || len(s) > 5 || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, _ = strconv.ParseInt(s, 10, 64)
	default:
		return 0, false
	}
	return n, n >= 1 && n <= 65535
}

// mustIP returns v when isIP accepts it, else fails.
func mustIP(v any) (any, error) {
	if !isIP(v) {
		return nil, fmt.Errorf("mustIP %s: %w: not an IP address", describe(v), ErrUnsafeValue)
	}
	return v, nil
}

// mustHostname returns v when isHostname accepts it, else fails.
func mustHostname(v any) (any, error) {
	if !isHostname(v) {
		return nil, fmt.Errorf("mustHostname %s: %w: not a host name", describe(v), ErrUnsafeValue)
	}
	return v, nil
}

// mustPort returns v when isPort accepts it, else fails.
func mustPort(v any) (any, error) {
	if !isPort(v) {
		return nil, fmt.Errorf("mustPort %s: %w: not a port from 1 to 65535", describe(v), ErrUnsafeValue)
	}
	return v, nil
}

// describe quotes strings (so control characters show escaped) and prints
// other values with %v.
func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%v (%T)", v, v)
}
