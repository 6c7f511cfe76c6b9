package consul

import (
	"testing"

	"github.com/ctpl/ctpl/watch"
)

func TestClosedQueryForgetsItsFollowerState(t *testing.T) {
	c, err := New(Options{Address: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := watch.ParseService("web")
	q, _ := c.Query(spec)
	c.track.record(spec.String(), spec.Name)
	q.(interface{ Close() }).Close()
	c.track.mu.Lock()
	defer c.track.mu.Unlock()
	if _, ok := c.track.seen[spec.String()]; ok {
		t.Error("the follower state of a closed query is kept")
	}
}

func TestTrackerMarksStaleReads(t *testing.T) {
	tr := newTracker()
	if st := tr.check("k", "web"); !st.named {
		t.Fatal("a query never read must be read")
	}
	tr.record("k", "web")
	if st := tr.check("k", "web"); st.named || st.swept {
		t.Fatalf("fresh read reported stale: %+v", st)
	}
	st := tr.check("k", "web")
	tr.bump("db")
	select {
	case <-st.nameCh:
		t.Fatal("a change of another service woke the follower")
	default:
	}
	tr.bump("web")
	<-st.nameCh
	if st := tr.check("k", "web"); !st.named || st.swept {
		t.Fatalf("after bump(web): %+v, want named", st)
	}
	tr.record("k", "web")
	tr.bumpAll()
	if st := tr.check("k", "web"); st.named || !st.swept {
		t.Fatalf("after bumpAll: %+v, want swept", st)
	}
}
