package watch_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// specSource answers each spec with its own function.
type specSource map[string]watch.QueryFunc

func (s specSource) Query(spec watch.Spec) (watch.Query, error) { return s[spec.String()], nil }

// TestDatacenterBackRereadsItsQueries: a query of dc2 that recovers cuts
// short the blocking request of another dc2 query, which reads afresh and
// sends its unchanged answer marked Reread; a query of the local
// datacenter is left alone.
func TestDatacenterBackRereadsItsQueries(t *testing.T) {
	flaky, _ := watch.ParseService("web@dc2")
	blocked := watch.Spec{Kind: watch.KindKVGet, Name: "region", DC: "dc2"}
	local := watch.Spec{Kind: watch.KindKVGet, Name: "region"}
	var failing atomic.Bool
	failing.Store(true)
	var localReads atomic.Int32
	// block answers index 5 at once to a plain read and holds a blocking
	// request until it is cut short.
	block := func(count *atomic.Int32) watch.QueryFunc {
		return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
			if count != nil {
				count.Add(1)
			}
			if fo.Index > 0 {
				<-ctx.Done()
				return watch.Result{}, ctx.Err()
			}
			return watch.Result{Value: watch.KVValue{Value: "eu", Exists: true}, Index: 5}, nil
		}
	}
	src := specSource{
		flaky.String(): func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
			if failing.Load() {
				return watch.Result{}, errors.New("no path to datacenter")
			}
			if fo.Index > 0 {
				<-ctx.Done()
				return watch.Result{}, ctx.Err()
			}
			return watch.Result{Value: []*watch.HealthService{}, Index: 3}, nil
		},
		blocked.String(): block(nil),
		local.String():   block(&localReads),
	}
	w := watch.New(t.Context(), src, watch.Options{BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	defer w.Close()
	for _, s := range []watch.Spec{flaky, blocked, local} {
		if err := w.Watch(s); err != nil {
			t.Fatal(err)
		}
	}
	next := func() watch.Update {
		t.Helper()
		select {
		case u := <-w.Updates():
			return u
		case <-time.After(5 * time.Second):
			t.Fatal("no update within 5s")
		}
		return watch.Update{}
	}
	seen := map[string]watch.Update{}
	for len(seen) < 3 { // the first answers, and web@dc2's error
		u := next()
		seen[u.Key] = u
		if u.Reread {
			t.Errorf("first answer of %s marked Reread", u.Key)
		}
	}
	failing.Store(false)
	got := map[string]watch.Update{}
	for len(got) < 2 {
		u := next()
		got[u.Key] = u
	}
	if u := got[flaky.String()]; !u.Reread || u.Err != nil {
		t.Errorf("the recovered query's answer: %+v, want a value marked Reread", u)
	}
	if u := got[blocked.String()]; !u.Reread || u.Value != (watch.KVValue{Value: "eu", Exists: true}) {
		t.Errorf("the other dc2 query: %+v, want its unchanged value, marked Reread", u)
	}
	if _, ok := got[local.String()]; ok || localReads.Load() > 2 {
		t.Errorf("the local query was read again (%d reads)", localReads.Load())
	}
}

// TestDatacenterAnswerWhileAnotherFails: dc2's servers go away and come
// back rebuilt; a query blocked meanwhile never fails (Consul retried it on
// the new servers) and answers their data with a higher index. That answer
// is a sign that dc2 is back, as another dc2 query has started failing:
// it is marked Reread, and the failing query, far into its backoff, reads
// afresh at once and sends its answer marked Reread.
func TestDatacenterAnswerWhileAnotherFails(t *testing.T) {
	web, _ := watch.ParseService("web@dc2")
	region := watch.Spec{Kind: watch.KindKVGet, Name: "region", DC: "dc2"}
	killed, rebuilt := make(chan struct{}), make(chan struct{})
	var down atomic.Bool
	src := specSource{
		web.String(): func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
			switch {
			case down.Load():
				return watch.Result{}, errors.New("no path to datacenter")
			case fo.Index == 0:
				return watch.Result{Value: []*watch.HealthService{}, Index: 3}, nil
			}
			select {
			case <-killed:
				return watch.Result{}, errors.New("rpc error: EOF")
			case <-ctx.Done():
				return watch.Result{}, ctx.Err()
			}
		},
		region.String(): func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
			if fo.Index == 0 {
				return watch.Result{Value: watch.KVValue{Value: "eu", Exists: true}, Index: 5}, nil
			}
			select {
			case <-rebuilt:
				if fo.Index < 9 {
					return watch.Result{Value: watch.KVValue{Value: "us", Exists: true}, Index: 9}, nil
				}
			case <-ctx.Done():
				return watch.Result{}, ctx.Err()
			}
			<-ctx.Done()
			return watch.Result{}, ctx.Err()
		},
	}
	// A backoff far longer than the test: only the sign ends it.
	w := watch.New(t.Context(), src, watch.Options{BackoffMin: time.Minute, BackoffMax: time.Minute, Logger: slog.New(slog.DiscardHandler)})
	defer w.Close()
	for _, s := range []watch.Spec{web, region} {
		if err := w.Watch(s); err != nil {
			t.Fatal(err)
		}
	}
	next := func(what string) watch.Update {
		t.Helper()
		select {
		case u := <-w.Updates():
			return u
		case <-time.After(5 * time.Second):
			t.Fatalf("no update within 5s: %s", what)
		}
		return watch.Update{}
	}
	for range 2 {
		if u := next("first answers"); u.Reread || u.Err != nil {
			t.Fatalf("first answer %+v", u)
		}
	}
	down.Store(true)
	close(killed)
	if u := next("web@dc2's error"); u.Key != web.String() || u.Err == nil {
		t.Fatalf("got %+v, want web@dc2's error", u)
	}
	down.Store(false)
	close(rebuilt)
	got := map[string]watch.Update{}
	for len(got) < 2 {
		u := next("dc2's answers once rebuilt")
		got[u.Key] = u
	}
	if u := got[region.String()]; !u.Reread || u.Value != (watch.KVValue{Value: "us", Exists: true}) {
		t.Errorf("the rebuilt datacenter's answer: %+v, want it marked Reread", u)
	}
	if u := got[web.String()]; !u.Reread || u.Err != nil {
		t.Errorf("the failing query: %+v, want it read afresh at once, marked Reread", u)
	}
}
