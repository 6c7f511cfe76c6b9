package decode

import (
	"fmt"
	"testing"
)

// TestMemoDecodesEveryChange feeds a memo a sequence of bodies, changed
// ones of the same length and repeated ones, and checks each value against
// a fresh decode: a body other than the last one decoded without error is
// decoded, the same one is not, and a failed decode is not remembered.
func TestMemoDecodesEveryChange(t *testing.T) {
	bodies := []string{"aaaa", "aaaa", "aaab", "baaa", "baaa", "fail", "baaa", "aaaa", "", ""}
	var (
		m     Memo[string]
		count Counters
		calls int
	)
	decode := func(b []byte) (string, error) {
		calls++
		if string(b) == "fail" {
			return "", fmt.Errorf("bad body")
		}
		return "v:" + string(b), nil
	}
	wantDecoded, last := 0, "none"
	for i, body := range bodies {
		if body != last {
			wantDecoded++
		}
		if body != "fail" {
			last = body
		}
		got, err := m.Decode([]byte(body), &count, decode)
		switch {
		case body == "fail" && err == nil:
			t.Fatalf("body %d: no error", i)
		case body != "fail" && (err != nil || got != "v:"+body):
			t.Fatalf("body %d (%q): got %q, %v", i, body, got, err)
		}
		if calls != wantDecoded {
			t.Fatalf("body %d (%q): %d decodes, want %d", i, body, calls, wantDecoded)
		}
	}
	decoded, skipped := count.Load()
	if decoded != int64(wantDecoded) || skipped != int64(len(bodies)-wantDecoded) {
		t.Fatalf("counters %d decoded, %d skipped; want %d, %d", decoded, skipped, wantDecoded, len(bodies)-wantDecoded)
	}
}
