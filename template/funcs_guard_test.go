package template

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGuardErrors(t *testing.T) {
	runHelperCases(t, []helperCase{
		{name: "nginxQuote newline", text: "{{ nginxQuote \"a\\nb\" }}", wantErr: `nginxQuote "a\nb": unsafe value`},
		{name: "nginxQuote dollar", text: "{{ nginxQuote \"$host\" }}", wantErr: `nginxQuote "$host": unsafe value`},
		{name: "nginxQuote invalid UTF-8", text: "{{ nginxQuote \"\\xff\" }}", wantErr: "unsafe value"},
		{name: "nginxQuote NEL", text: "{{ nginxQuote \"web\u0085admin\" }}", wantErr: "unsafe value"},
		{name: "haproxyQuote line separator", text: "{{ haproxyQuote \"a\u2028b\" }}", wantErr: "unsafe value"},
		{name: "nginxQuote right-to-left override", text: "{{ nginxQuote \"a\u202eb\" }}", wantErr: "unsafe value"},
		{name: "haproxyQuote CR", text: "{{ haproxyQuote \"a\\rb\" }}", wantErr: `haproxyQuote "a\rb": unsafe value`},
		{name: "mustIP", text: `{{ mustIP "10.0.0.1\nserver evil" }}`, wantErr: `mustIP "10.0.0.1\nserver evil": unsafe value: not an IP address`},
		{name: "mustHostname", text: `{{ mustHostname "a b" }}`, wantErr: `mustHostname "a b": unsafe value: not a host name`},
		{name: "mustPort", text: `{{ mustPort 70000 }}`, wantErr: "mustPort 70000 (int): unsafe value: not a port"},
	})
}

// FuzzGuards checks, for any string, that the quoting helpers either fail
// or produce one argument that carries no control character and that the
// target's parser reads back as the original; and that the checks never
// accept a control character.
func FuzzGuards(f *testing.F) {
	for _, s := range []string{"web", "a\nb", `x"y\z`, "it's", "$x", "\xff", "10.0.0.1", "::1", "a.b-c", "80", "\x1b[31m", "a\u0085b", "a\u2029b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if q, err := nginxQuote(s); err == nil {
			if !printable(q) || unquoteNginx(t, q) != s {
				t.Fatalf("nginxQuote(%q) = %q", s, q)
			}
		} else if !errors.Is(err, ErrUnsafeValue) {
			t.Fatalf("nginxQuote(%q): %v", s, err)
		}
		if q, err := haproxyQuote(s); err == nil {
			if !printable(q) || unquoteHAProxy(t, q) != s {
				t.Fatalf("haproxyQuote(%q) = %q", s, q)
			}
		}
		for name, check := range map[string]func(any) bool{"isIP": isIP, "isHostname": isHostname, "isPort": isPort} {
			if check(s) && (!printable(s) || strings.ContainsAny(s, " ;{}#'\"$\\")) {
				t.Fatalf("%s accepted %q", name, s)
			}
		}
	})
}

// unquoteNginx reads one double-quoted nginx argument.
func unquoteNginx(t *testing.T, q string) string {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		t.Fatalf("%q is not double-quoted", q)
	}
	var b strings.Builder
	for i := 1; i < len(q)-1; i++ {
		switch c := q[i]; {
		case c == '\\':
			i++
			b.WriteByte(q[i])
		case c == '"':
			t.Fatalf("%q: unescaped quote inside", q)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unquoteHAProxy reads one HAProxy word made of single-quoted parts and
// backslash-escaped single quotes.
func unquoteHAProxy(t *testing.T, q string) string {
	var b strings.Builder
	for i := 0; i < len(q); {
		switch {
		case q[i] == '\'':
			end := strings.IndexByte(q[i+1:], '\'')
			if end < 0 {
				t.Fatalf("%q: unterminated quote", q)
			}
			b.WriteString(q[i+1 : i+1+end])
			i += end + 2
		case strings.HasPrefix(q[i:], `\'`):
			b.WriteByte('\'')
			i += 2
		default:
			t.Fatalf("%q: %q outside quotes", q, q[i])
		}
	}
	if !utf8.ValidString(b.String()) {
		t.Fatalf("%q: invalid UTF-8", q)
	}
	return b.String()
}
