package detect

import "testing"

func TestTrackerMarksStaleReads(t *testing.T) {
	tr := NewTracker()
	if st := tr.Check("k", "web"); !st.Named {
		t.Fatal("a query never read must be read")
	}
	tr.Record("k", "web")
	if st := tr.Check("k", "web"); st.Named || st.Swept {
		t.Fatalf("fresh read reported stale: %+v", st)
	}
	st := tr.Check("k", "web")
	tr.Bump("db")
	select {
	case <-st.NameCh:
		t.Fatal("a change of another service woke the follower")
	default:
	}
	tr.Bump("web")
	<-st.NameCh
	if st := tr.Check("k", "web"); !st.Named || st.Swept {
		t.Fatalf("after Bump(web): %+v, want named", st)
	}
	tr.Record("k", "web")
	tr.BumpAll()
	if st := tr.Check("k", "web"); st.Named || !st.Swept {
		t.Fatalf("after BumpAll: %+v, want swept", st)
	}
}

func TestForgetDropsTheRead(t *testing.T) {
	tr := NewTracker()
	tr.Record("k", "web")
	tr.Record("other", "web")
	tr.Forget("k")
	tr.mu.Lock()
	_, kept := tr.seen["k"]
	n := len(tr.seen)
	tr.mu.Unlock()
	if kept || n != 1 {
		t.Fatalf("after Forget: k kept %v, %d reads known; want only the other", kept, n)
	}
	if st := tr.Check("k", "web"); !st.Named {
		t.Fatalf("a forgotten read: %+v, want Named", st)
	}
	if st := tr.Check("other", "web"); st.Named || st.Swept {
		t.Fatalf("Forget touched another read: %+v", st)
	}
}
