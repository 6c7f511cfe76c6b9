package renderer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	lines := func(n int, mod map[int]string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if s, ok := mod[i]; ok {
				b.WriteString(s)
			} else {
				b.WriteString("line " + itoa(i) + "\n")
			}
		}
		return b.String()
	}
	// upstreams is an nginx file of n upstream blocks of one server each,
	// without the servers of the blocks in drop.
	upstreams := func(n int, drop ...int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString("upstream s" + itoa(i) + " {\n")
			if !slices.Contains(drop, i) {
				b.WriteString("    server " + itoa(i) + ";\n")
			}
			b.WriteString("}\n\n")
		}
		return b.String()
	}
	tests := []struct {
		name     string
		old, new string
		limit    int
		want     string
	}{
		{name: "equal", old: "a\n", new: "a\n", limit: 1000, want: ""},
		{name: "from nothing", old: "", new: "a\nb\n", limit: 1000, want: "--- f\n+++ f\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{name: "two hunks far apart", old: lines(20, nil), new: lines(20, map[int]string{2: "two\n", 18: ""}), limit: 1000,
			want: "--- f\n+++ f\n@@ -1,5 +1,5 @@\n line 1\n-line 2\n+two\n line 3\n line 4\n line 5\n" +
				"@@ -15,6 +15,5 @@\n line 15\n line 16\n line 17\n-line 18\n line 19\n line 20\n"},
		{name: "cut at the limit", old: lines(200, nil), new: lines(200, map[int]string{5: "x\n", 100: "y\n", 195: "z\n"}), limit: 100,
			want: "--- f\n+++ f\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+x\n line 6\n line 7\n line 8\n[ctpl: diff cut at 100 bytes]\n"},
		{name: "two changes far apart in a file too long to match line by line", limit: 1000,
			old: upstreams(3000), new: upstreams(3000, 2, 2997),
			want: "--- f\n+++ f\n@@ -7,7 +7,6 @@\n }\n \n upstream s2 {\n-    server 2;\n }\n \n upstream s3 {\n" +
				"@@ -11987,7 +11986,6 @@\n }\n \n upstream s2997 {\n-    server 2997;\n }\n \n upstream s2998 {\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UnifiedDiff("f", "f", []byte(tc.old), []byte(tc.new), tc.limit); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestLineEditsRebuildBothFiles: whatever way the lines are matched (longest
// common subsequence, anchors, or replaced), the kept and removed lines are
// the old file and the kept and added lines the new one.
func TestLineEditsRebuildBothFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := func(n, alphabet int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "w" + itoa(rng.IntN(alphabet))
		}
		return out
	}
	numbered := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "line " + itoa(i)
		}
		return out
	}
	moved := numbered(6000)
	moved = append(moved[3000:], moved[:3000]...)
	tests := []struct {
		name     string
		old, new []string
	}{
		{name: "repeated lines, no anchors", old: words(3000, 5), new: words(3000, 5)},
		{name: "unique lines with a few repeated ones", old: append(numbered(5000), words(500, 3)...),
			new: append(words(500, 3), numbered(5000)...)},
		{name: "halves swapped", old: numbered(6000), new: moved},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var old, new []string
			for _, e := range lineEdits(tc.old, tc.new) {
				if e.op != '+' {
					old = append(old, e.line)
				}
				if e.op != '-' {
					new = append(new, e.line)
				}
			}
			if !slices.Equal(old, tc.old) || !slices.Equal(new, tc.new) {
				t.Errorf("the edit script does not rebuild the files")
			}
		})
	}
}
