package decode

import (
	"encoding/json"
	"testing"
)

// TestScanNumberFollowsJSON checks the number grammar against
// encoding/json: a number the lexer accepts whole is valid JSON, and one it
// refuses (or stops short of) is not.
func TestScanNumberFollowsJSON(t *testing.T) {
	for _, in := range []string{
		"0", "-0", "7", "-12", "10", "1.5", "-0.25", "1e5", "1E+5", "2.5e-3", "0.0E0",
		"-", "01", "1.", "1.e5", ".5", "1e", "1e+", "1E-", "--1", "+1", "1.5.2",
	} {
		l := &lexer{b: []byte(in)}
		l.scanNumber()
		accepted := l.err == nil && l.pos == len(in)
		if valid := json.Valid([]byte(in)); accepted != valid {
			t.Errorf("%q: lexer accepts %v (err %v, stopped at %d), encoding/json %v", in, accepted, l.err, l.pos, valid)
		}
	}
}
