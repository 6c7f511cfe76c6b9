package detect

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// TestFollow drives a follower through the tracker's states: a fresh read
// waits out the wait, a named service is read at once, an unattributed
// change is probed, and a probe that gives way (gate.ErrAborted) runs again.
func TestFollow(t *testing.T) {
	type call struct{ probe bool }
	tests := []struct {
		name        string
		bump        func(*Tracker)
		results     []error // what successive rereads return; nil reports a change
		wantCalls   []call
		wantChanged bool
		wantWaited  time.Duration
	}{
		{name: "no change within the wait", wantWaited: time.Minute},
		{name: "named", bump: func(tr *Tracker) { tr.Bump("web") }, results: []error{nil},
			wantCalls: []call{{probe: false}}, wantChanged: true},
		{name: "swept: probed", bump: func(tr *Tracker) { tr.BumpAll() }, results: []error{nil},
			wantCalls: []call{{probe: true}}, wantChanged: true},
		{name: "aborted probe runs again", bump: func(tr *Tracker) { tr.BumpAll() }, results: []error{gate.ErrAborted, nil},
			wantCalls: []call{{probe: true}, {probe: true}}, wantChanged: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := NewTracker()
				tr.Record("k", "web")
				var calls []call
				start := time.Now()
				if tc.bump != nil {
					go func() {
						time.Sleep(time.Second)
						tc.bump(tr)
					}()
				}
				_, changed, err := Follow(context.Background(), tr, "k", "web", time.Minute,
					func(probe bool, _ <-chan struct{}) (int, bool, error) {
						calls = append(calls, call{probe})
						err := tc.results[len(calls)-1]
						if err == nil {
							tr.Record("k", "web")
						}
						return len(calls), err == nil, err
					})
				if err != nil || changed != tc.wantChanged || len(calls) != len(tc.wantCalls) {
					t.Fatalf("changed %v err %v calls %v; want changed %v calls %v", changed, err, calls, tc.wantChanged, tc.wantCalls)
				}
				for i := range calls {
					if calls[i] != tc.wantCalls[i] {
						t.Fatalf("calls %v, want %v", calls, tc.wantCalls)
					}
				}
				if tc.wantWaited != 0 && time.Since(start) != tc.wantWaited {
					t.Fatalf("returned after %v, want %v", time.Since(start), tc.wantWaited)
				}
			})
		})
	}
}
