package testkit

import (
	"testing"
	"time"
)

// pollEvery is how often WaitFor re-checks its condition.
const pollEvery = 2 * time.Millisecond

// WaitFor checks cond every few milliseconds until it holds and returns how
// long that took, failing the test when it still does not hold after within.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	began := time.Now()
	for !cond() {
		if time.Since(began) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(pollEvery)
	}
	return time.Since(began)
}
