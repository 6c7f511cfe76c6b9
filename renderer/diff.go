package renderer

import (
	"bytes"
	"fmt"
	"strings"
)

// Bounds of a logged diff (Template.LogDiff).
const (
	// MaxDiffBytes caps the text of one logged diff.
	MaxDiffBytes = 16 << 10
	// maxDiffCells caps the work of the line matching: above it the
	// differing middle of the two files is shown as removed, then added.
	maxDiffCells = 1 << 22
	diffContext  = 3
)

// edit is one line of an edit script: ' ' kept, '-' removed, '+' added.
type edit struct {
	op   byte
	line string
}

// unifiedDiff returns the unified diff from old to new of the file name,
// cut at limit bytes, or "" when they are equal.
func unifiedDiff(name string, old, new []byte, limit int) string {
	if bytes.Equal(old, new) {
		return ""
	}
	a, b := splitLines(old), splitLines(new)
	edits := lineEdits(a, b)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", name, name)
	for _, h := range hunks(edits) {
		if out.Len() > limit {
			break
		}
		writeHunk(&out, edits, h)
	}
	if out.Len() > limit {
		s := out.String()[:limit]
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			s = s[:i+1]
		}
		return s + fmt.Sprintf("[ctpl: diff cut at %d bytes]\n", limit)
	}
	return out.String()
}

func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.Split(s, "\n")
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

func middleEdits(a, b []string) []edit {
	var edits []edit
	if len(a)*len(b) > maxDiffCells {
		for _, l := range a {
			edits = append(edits, edit{'-', l})
		}
		for _, l := range b {
			edits = append(edits, edit{'+', l})
		}
		return edits
	}
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
		out.WriteByte('\n')
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
