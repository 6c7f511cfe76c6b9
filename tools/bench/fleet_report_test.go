package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFleetSection(t *testing.T) {
	sec := func(s string) string { return fleetBegin + "\n" + s + "\n" + fleetEnd + "\n" }
	tests := []struct {
		name, old, want string
	}{
		{name: "no file", old: "", want: sec("new")},
		{name: "appended", old: "# Benchmarks\n\ntable\n", want: "# Benchmarks\n\ntable\n\n" + sec("new")},
		{name: "replaced in place", old: "# B\n\n" + sec("old") + "\nafter\n", want: "# B\n\n" + sec("new") + "\nafter\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "benchmarks.md")
			if tc.old != "" {
				if err := os.WriteFile(path, []byte(tc.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := writeFleetSection(path, sec("new")); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestKeepFleetSection(t *testing.T) {
	section := fleetBegin + "\nfleet table\n" + fleetEnd
	old := "# Benchmarks\n\nold table\n\n" + section + "\n"
	got := keepFleetSection(old, "# Benchmarks\n\nnew table\n")
	if want := "# Benchmarks\n\nnew table\n\n" + section + "\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := keepFleetSection("# no section\n", "new\n"); got != "new\n" {
		t.Errorf("without a section: got %q", got)
	}
	if got := keepFleetSection(old, old); strings.Count(got, fleetBegin) != 1 {
		t.Errorf("a text with its own section got a second one: %q", got)
	}
}
