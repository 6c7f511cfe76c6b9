package watch_test

import (
	"testing"
	"unicode/utf8"

	"github.com/ctpl/ctpl/watch"
)

func TestUntrusted(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "plain", in: "web-1.example.com", want: false},
		{name: "spaces and punctuation are fine", in: `a b;{}"'`, want: false},
		{name: "unicode", in: "café", want: false},
		{name: "newline", in: "http\nserver evil:80;", want: true},
		{name: "carriage return", in: "a\rb", want: true},
		{name: "nul", in: "a\x00", want: true},
		{name: "escape", in: "\x1b[31m", want: true},
		{name: "tab", in: "a\tb", want: true},
		{name: "delete", in: "a\x7f", want: true},
		{name: "invalid utf-8", in: "a\xffb", want: true},
		{name: "invalid utf-8 after JSON decoding", in: "a\ufffdb", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := watch.Untrusted(tc.in); got != tc.want {
				t.Fatalf("Untrusted(%q) = %v", tc.in, got)
			}
		})
	}
}

func FuzzUntrusted(f *testing.F) {
	for _, s := range []string{"web", "a\nb", "\xff", "tag;", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if watch.Untrusted(s) {
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("%q passed but is not UTF-8", s)
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("%q passed with control character %U", s, r)
			}
		}
	})
}

func FuzzParseService(f *testing.F) {
	for _, s := range []string{"web", "http.web@dc1~_agent", "web?ns=a&peer=b", "a.b.c", "@", "~", "?"} {
		f.Add(s, "any")
	}
	f.Fuzz(func(t *testing.T, query, status string) {
		s, err := watch.ParseService(query, status)
		if err != nil {
			return
		}
		// A parsed spec's canonical form names no control character.
		if watch.Untrusted(s.String()) {
			t.Fatalf("%q parsed into %q", query, s)
		}
	})
}
