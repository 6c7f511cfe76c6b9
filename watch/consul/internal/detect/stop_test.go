package detect

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// blockingSource answers the services detector's baseline and blocks every
// other read until its context ends, reporting when a node read started.
type blockingSource struct{ nodeRead chan struct{} }

func (s blockingSource) HealthState(ctx context.Context, _ string, _ uint64, _ time.Duration, _ func(uint64, []byte) error) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s blockingSource) Services(ctx context.Context, index uint64, _ time.Duration) (map[string][]string, uint64, error) {
	if index == 0 {
		return map[string][]string{"web": nil}, 5, nil
	}
	<-ctx.Done()
	return nil, 0, ctx.Err()
}

func (s blockingSource) Nodes(ctx context.Context, _ uint64, _ time.Duration) ([]Node, uint64, error) {
	<-ctx.Done()
	return nil, 0, ctx.Err()
}

func (s blockingSource) NodeNames(context.Context) ([]string, error) { return []string{"n1"}, nil }

func (s blockingSource) NodeServiceNames(ctx context.Context, _ string) ([]string, bool, error) {
	<-ctx.Done()
	return nil, false, ctx.Err()
}

func (s blockingSource) NodeInstances(ctx context.Context, _ string) (NodeInstances, uint64, error) {
	close(s.nodeRead)
	<-ctx.Done()
	return NodeInstances{}, 0, ctx.Err()
}

func (s blockingSource) NodeIndex(ctx context.Context, _ string) (uint64, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

// TestStoppingLogsNoWarning stops the detectors while the services
// detector reads its node baselines (as a -once run ends): nothing failed,
// so nothing is logged at WARN.
func TestStoppingLogsNoWarning(t *testing.T) {
	var logs testkit.Buffer
	src := blockingSource{nodeRead: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, Config{Source: src, Tracker: NewTracker(), Reads: gate.New(4), Count: &Counters{},
			Followable: func() int64 { return 10 }, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	}()
	<-src.nodeRead
	cancel()
	<-done
	if l := logs.String(); l != "" {
		t.Errorf("stopping logged:\n%s", l)
	}
}
