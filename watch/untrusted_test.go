package watch_test

import (
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ctpl/ctpl/watch"
)

func TestUntrusted(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
		// wantScreen is the answer under FormatCharsScreen, when it
		// differs from want.
		wantScreen *bool
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
		{name: "C1 next line", in: "web\u0085admin: true", want: true},
		{name: "C1 control sequence introducer", in: "a\u009b31mb", want: true},
		{name: "first C1", in: "a\u0080", want: true},
		{name: "no-break space after C1 is fine", in: "a\u00a0b", want: false},
		{name: "line separator", in: "a\u2028b", want: true},
		{name: "paragraph separator", in: "a\u2029b", want: true},
		{name: "right-to-left override", in: "admin\u202egpj.exe", want: false, wantScreen: &yes},
		{name: "zero-width space", in: "we\u200bb", want: false, wantScreen: &yes},
		{name: "byte order mark", in: "\ufeffweb", want: false, wantScreen: &yes},
		{name: "emoji", in: "web 🚀", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := watch.Untrusted(tc.in); got != tc.want {
				t.Fatalf("Untrusted(%q) = %v", tc.in, got)
			}
			if got := watch.UntrustedWith(tc.in, watch.FormatCharsAllow); got != tc.want {
				t.Fatalf("UntrustedWith(%q, allow) = %v", tc.in, got)
			}
			want := tc.want
			if tc.wantScreen != nil {
				want = *tc.wantScreen
			}
			if got := watch.UntrustedWith(tc.in, watch.FormatCharsScreen); got != want {
				t.Fatalf("UntrustedWith(%q, screen) = %v", tc.in, got)
			}
		})
	}
}

var yes = true

func TestParseFormatCharPolicy(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    watch.FormatCharPolicy
		wantErr bool
	}{
		{name: "default", in: "", want: watch.FormatCharsScreen},
		{name: "screen", in: "screen", want: watch.FormatCharsScreen},
		{name: "allow", in: "allow", want: watch.FormatCharsAllow},
		{name: "unknown", in: "drop", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := watch.ParseFormatCharPolicy(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("ParseFormatCharPolicy(%q) = %q, %v", tc.in, got, err)
			}
		})
	}
}

func FuzzUntrusted(f *testing.F) {
	for _, s := range []string{"web", "a\nb", "\xff", "tag;", "", "a\u0085b", "\u202e", "\u2028", "café"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if watch.UntrustedWith(s, watch.FormatCharsScreen) {
			return
		}
		if watch.Untrusted(s) {
			t.Fatalf("%q passed the stricter screen only", s)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("%q passed but is not UTF-8", s)
		}
		for _, r := range s {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
				t.Fatalf("%q passed with %U", s, r)
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
