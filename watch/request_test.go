package watch_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
)

func TestRequestContext(t *testing.T) {
	got := make(chan [2]any, 1)
	src := sourceFunc(func(ctx context.Context, _ watch.FetchOptions) (watch.Result, error) {
		query, timeout, ok := watch.RequestContext(ctx)
		_, hasDeadline := query.Deadline()
		select {
		case got <- [2]any{timeout, ok && !hasDeadline}:
		default:
		}
		<-ctx.Done()
		return watch.Result{}, ctx.Err()
	})
	w := watch.New(t.Context(), src, watch.Options{Wait: 16 * time.Second, Grace: time.Second})
	defer w.Close()
	if err := w.Watch(watch.Spec{Kind: watch.KindKVGet, Name: "k"}); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r[0] != 18*time.Second || r[1] != true {
		t.Errorf("timeout %v, query context without deadline %v; want 18s, true", r[0], r[1])
	}
	if _, _, ok := watch.RequestContext(t.Context()); ok {
		t.Error("RequestContext reported a request for a plain context")
	}
}

type sourceFunc watch.QueryFunc

func (f sourceFunc) Query(watch.Spec) (watch.Query, error) { return watch.QueryFunc(f), nil }
