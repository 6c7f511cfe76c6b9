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
	c.track.Record(spec.String(), spec.Name)
	if st := c.track.Check(spec.String(), spec.Name); st.Named {
		t.Fatal("a recorded read is reported stale")
	}
	q.(interface{ Close() }).Close()
	// No generation moved: only a forgotten read is reported Named.
	if st := c.track.Check(spec.String(), spec.Name); !st.Named {
		t.Error("the follower state of a closed query is kept")
	}
}
