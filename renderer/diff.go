package renderer

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// Bounds of a logged diff (Template.LogDiff).
const (
	// MaxDiffBytes caps the text of one logged diff.
	MaxDiffBytes = 16 << 10
	// maxDiffCells caps the work of matching two runs of lines by longest
	// common subsequence; longer runs are first cut at anchor lines.
	maxDiffCells = 1 << 22
	// maxAnchorLines caps the lines whose anchors are looked for, and
	// maxAnchorDepth how often a run is cut again: past either, a run is
	// shown as removed, then added.
	maxAnchorLines = 1 << 18
	maxAnchorDepth = 4
	diffContext    = 3
)

// edit is one line of an edit script: ' ' kept, '-' removed, '+' added.
type edit struct {
	op   byte
	line string
}

// UnifiedDiff returns the unified diff from old (named from) to new (named
// to), or "" when they are equal. A run of changed lines reads as the lines
// removed, then the lines added; a last line without a newline is marked
// as diff(1) marks it. With limit > 0 the text is cut at about limit bytes.
func UnifiedDiff(from, to string, old, new []byte, limit int) string {
	if bytes.Equal(old, new) {
		return ""
	}
	a, b := splitLines(old), splitLines(new)
	edits := lineEdits(a, b)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", from, to)
	for _, h := range hunks(edits) {
		if limit > 0 && out.Len() > limit {
			break
		}
		writeHunk(&out, edits, h)
	}
	if limit > 0 && out.Len() > limit {
		s := out.String()[:limit]
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			s = s[:i+1]
		}
		return s + fmt.Sprintf("[ctpl: diff cut at %d bytes]\n", limit)
	}
	return out.String()
}

// splitLines splits b into lines that keep their newline, so a last line
// without one differs from the same line with it.
func splitLines(b []byte) []string {
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lineEdits returns an edit script from a to b: the common prefix and
// suffix kept, the middle matched by longest common subsequence when it is
// small enough.
func lineEdits(a, b []string) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var edits []edit
	for _, l := range a[:pre] {
		edits = append(edits, edit{' ', l})
	}
	edits = append(edits, middleEdits(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, l := range a[len(a)-suf:] {
		edits = append(edits, edit{' ', l})
	}
	return edits
}

func middleEdits(a, b []string) []edit { return matchEdits(a, b, maxAnchorDepth) }

// matchEdits matches a and b by longest common subsequence when that is
// cheap enough. Otherwise, as patience diff does, it keeps the anchors
// (lines found once in a and once in b, the most of them in the same order
// in both) and matches the runs between them again, so that two changes far
// apart in a long file are two small hunks, not the whole file replaced.
func matchEdits(a, b []string, depth int) []edit {
	if len(a)*len(b) <= maxDiffCells {
		return lcsEdits(a, b)
	}
	var anchors []linePair
	if depth > 0 && len(a)+len(b) <= maxAnchorLines {
		anchors = uniqueAnchors(a, b)
	}
	if len(anchors) == 0 {
		return replaceEdits(a, b)
	}
	var edits []edit
	i0, j0 := 0, 0
	for _, p := range anchors {
		edits = append(edits, matchEdits(a[i0:p.i], b[j0:p.j], depth-1)...)
		edits = append(edits, edit{' ', a[p.i]})
		i0, j0 = p.i+1, p.j+1
	}
	return append(edits, matchEdits(a[i0:], b[j0:], depth-1)...)
}

// replaceEdits shows a removed, then b added.
func replaceEdits(a, b []string) []edit {
	edits := make([]edit, 0, len(a)+len(b))
	for _, l := range a {
		edits = append(edits, edit{'-', l})
	}
	for _, l := range b {
		edits = append(edits, edit{'+', l})
	}
	return edits
}

// linePair is line i of a matched with line j of b.
type linePair struct{ i, j int }

// uniqueAnchors returns the lines found exactly once in a and once in b,
// the longest sequence of them in the same order in both.
func uniqueAnchors(a, b []string) []linePair {
	type seen struct{ na, nb, j int }
	count := make(map[string]seen, len(a))
	for _, l := range a {
		s := count[l]
		s.na++
		count[l] = s
	}
	for j, l := range b {
		if s, ok := count[l]; ok {
			s.nb, s.j = s.nb+1, j
			count[l] = s
		}
	}
	var pairs []linePair // in the order of a
	for i, l := range a {
		if s := count[l]; s.na == 1 && s.nb == 1 {
			pairs = append(pairs, linePair{i, s.j})
		}
	}
	return longestIncreasing(pairs)
}

// longestIncreasing returns the longest subsequence of pairs (ordered by i)
// whose j increase too, by patience sorting.
func longestIncreasing(pairs []linePair) []linePair {
	var tails []int // tails[n]: the pair ending the best run of n+1 with the least j
	prev := make([]int, len(pairs))
	for k, p := range pairs {
		n := sort.Search(len(tails), func(x int) bool { return pairs[tails[x]].j >= p.j })
		prev[k] = -1
		if n > 0 {
			prev[k] = tails[n-1]
		}
		if n == len(tails) {
			tails = append(tails, k)
		} else {
			tails[n] = k
		}
	}
	if len(tails) == 0 {
		return nil
	}
	out := make([]linePair, len(tails))
	for k, x := len(tails)-1, tails[len(tails)-1]; k >= 0; k, x = k-1, prev[x] {
		out[k] = pairs[x]
	}
	return out
}

// lcsEdits matches a and b by longest common subsequence.
func lcsEdits(a, b []string) []edit {
	var edits []edit
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:], in one row-major slice.
	w := len(b) + 1
	lcs := make([]int32, (len(a)+1)*w)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			edits = append(edits, edit{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[(i+1)*w+j] >= lcs[i*w+j+1]):
			edits = append(edits, edit{'-', a[i]})
			i++
		default:
			edits = append(edits, edit{'+', b[j]})
			j++
		}
	}
	return edits
}

// hunk is a range [from, to) of an edit script.
type hunk struct{ from, to int }

// hunks groups the changed lines with diffContext lines around them,
// merging groups whose context would overlap.
func hunks(edits []edit) []hunk {
	var hs []hunk
	for i, e := range edits {
		if e.op == ' ' {
			continue
		}
		from, to := max(i-diffContext, 0), min(i+1+diffContext, len(edits))
		if n := len(hs); n > 0 && from <= hs[n-1].to {
			hs[n-1].to = to
			continue
		}
		hs = append(hs, hunk{from, to})
	}
	return hs
}

func writeHunk(out *strings.Builder, edits []edit, h hunk) {
	aLine, bLine := 1, 1
	for _, e := range edits[:h.from] {
		if e.op != '+' {
			aLine++
		}
		if e.op != '-' {
			bLine++
		}
	}
	aN, bN := 0, 0
	for _, e := range edits[h.from:h.to] {
		if e.op != '+' {
			aN++
		}
		if e.op != '-' {
			bN++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aLine, aN), hunkRange(bLine, bN))
	for _, e := range edits[h.from:h.to] {
		out.WriteByte(e.op)
		out.WriteString(e.line)
		if !strings.HasSuffix(e.line, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange is a unified diff's "start,count" (the start is the line before
// an empty range).
func hunkRange(start, n int) string {
	if n == 0 {
		start--
	}
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}
