package watch_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
)

func TestWatcherSetsTheRequestTimeout(t *testing.T) {
	got := make(chan watch.FetchOptions, 1)
	src := sourceFunc(func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		select {
		case got <- fo:
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
	if fo := <-got; fo.Timeout != 18*time.Second || fo.Wait != 16*time.Second {
		t.Errorf("wait %v timeout %v, want 16s and 18s (wait + wait/16 + grace)", fo.Wait, fo.Timeout)
	}
}

type sourceFunc watch.QueryFunc

func (f sourceFunc) Query(watch.Spec) (watch.Query, error) { return watch.QueryFunc(f), nil }
