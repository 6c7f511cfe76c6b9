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
