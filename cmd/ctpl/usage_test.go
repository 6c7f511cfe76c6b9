package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestUsage checks -h: two examples and every exit code.
func TestUsage(t *testing.T) {
	var stderr syncBuffer
	if code := run(t.Context(), []string{"-h"}, &stderr, &stderr); code != exitOK {
		t.Fatalf("-h = %d", code)
	}
	out := stderr.String()
	if n := strings.Count(out, "\n  ctpl "); n < 2 {
		t.Errorf("-h shows %d examples, want 2:\n%s", n, out)
	}
	for _, e := range exitCodes {
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^  %d +%s$`, e.code, regexp.QuoteMeta(e.meaning))).MatchString(out) {
			t.Errorf("-h lacks exit code %d", e.code)
		}
	}
	// A boolean flag takes no value: -h must not show one (a backquoted
	// word in its usage text would become one).
	fs, _ := newFlagSet(io.Discard)
	addCIFlags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() &&
			regexp.MustCompile(`(?m)^  -`+regexp.QuoteMeta(f.Name)+` \S`).MatchString(out) {
			t.Errorf("-h shows the boolean flag -%s with a value", f.Name)
		}
	})
	// The codes are those docs/operations.md lists by command.
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[int]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \| [^|]+ \| (.*) \|$`).FindAllStringSubmatch(string(b), -1) {
		if !strings.HasPrefix(m[2], "not used") {
			var code int
			fmt.Sscan(m[1], &code)
			documented[code] = true
		}
	}
	listed := map[int]bool{}
	for _, e := range exitCodes {
		listed[e.code] = true
	}
	if fmt.Sprint(listed) != fmt.Sprint(documented) {
		t.Errorf("-h lists exit codes %v, docs/operations.md %v", listed, documented)
	}
}

// TestExitCodeTableInReadme keeps the README's exit-code table the one
// exitCodes holds: the same rows, no others.
func TestExitCodeTableInReadme(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "| code | meaning |")
	if i < 0 {
		t.Fatal("README has no exit-code table")
	}
	var rows []string
	for _, l := range strings.Split(s[i:], "\n")[2:] {
		if !strings.HasPrefix(l, "| ") {
			break
		}
		rows = append(rows, l)
	}
	var want []string
	for _, e := range exitCodes {
		want = append(want, fmt.Sprintf("| %d | %s |", e.code, e.meaning))
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("README's exit codes:\n%s\nwant (cmd/ctpl/usage.go):\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

// TestTemplateErrorPrintedOnce: a template that does not parse is reported
// once, not as a log line and again as a message.
func TestTemplateErrorPrintedOnce(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "bad.tmpl")
	if err := os.WriteFile(tmpl, []byte("line one\n{{ range }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	code := run(t.Context(), []string{"-template", tmpl + ":" + filepath.Join(dir, "out")}, &stderr, &stderr)
	if code != exitConfig {
		t.Fatalf("exit %d, want %d:\n%s", code, exitConfig, stderr.String())
	}
	if n := strings.Count(stderr.String(), "bad.tmpl:2"); n != 1 {
		t.Errorf("the error appears %d times, want once:\n%s", n, stderr.String())
	}
}
