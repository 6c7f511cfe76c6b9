package renderer

import (
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := unifiedDiff("f", []byte(tc.old), []byte(tc.new), tc.limit); got != tc.want {
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
