package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ctpl/ctpl/notify"
	"github.com/ctpl/ctpl/notify/notifytest"
)

func TestProtocolMessages(t *testing.T) {
	sock := notifytest.Listen(t)
	n := notify.New(notify.Options{})
	n.Ready("2 templates")
	n.Status("2 templates") // unchanged: not sent again
	n.Status("2 templates, 1 held")
	n.Reloading()
	n.Ready("2 templates")
	n.Stopping()

	i := sock.WaitFor(t, 0, "STOPPING=1", 5*time.Second)
	got := sock.Messages()[:i+1]
	want := []string{"READY=1", "STATUS=2 templates, 1 held", "RELOADING=1", "READY=1", "STOPPING=1"}
	if len(got) != len(want) {
		t.Fatalf("got %d messages %q, want %d", len(got), got, len(want))
	}
	for k, line := range want {
		if !notifytest.HasLine(got[k], line) {
			t.Errorf("message %d = %q, want a line %q", k, got[k], line)
		}
	}
	if !notifytest.HasLine(got[2], "MONOTONIC_USEC=") {
		t.Errorf("RELOADING message %q lacks MONOTONIC_USEC", got[2])
	}
}

func TestNoSocketIsANoOp(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := notify.New(notify.Options{})
	n.Ready("x")
	n.Stopping()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n.RunWatchdog(ctx) // returns at once: no WATCHDOG_USEC
}

// TestWatchdogStopsWhenTicksStop drives the watchdog with ticks, stops them
// as a stuck loop would, and checks the pings stop, then resume.
func TestWatchdogStopsWhenTicksStop(t *testing.T) {
	sock := notifytest.Listen(t)
	t.Setenv("WATCHDOG_USEC", "80000") // 80ms: pings every 20ms
	t.Setenv("WATCHDOG_PID", "")
	n := notify.New(notify.Options{TickGrace: 100 * time.Millisecond})

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { n.RunWatchdog(ctx) })
	defer func() { cancel(); wg.Wait() }()

	tickCtx, stopTicks := context.WithCancel(ctx)
	var tg sync.WaitGroup
	tg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-tickCtx.Done():
				return
			case <-t.C:
				n.Tick()
			}
		}
	})
	first := sock.WaitFor(t, 0, "WATCHDOG=1", 5*time.Second)
	sock.WaitFor(t, first+1, "WATCHDOG=1", 5*time.Second)
	stopTicks() // the loop is stuck from here
	tg.Wait()

	// Pings end within the grace plus one period; then none for a while.
	deadline := time.Now().Add(5 * time.Second)
	var quietFrom int
	for {
		before := sock.Count("WATCHDOG=1")
		quiet := waitQuiet(sock, before, 300*time.Millisecond)
		if quiet {
			quietFrom = before
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("watchdog pings did not stop after the ticks stopped")
		}
	}
	n.Tick()
	n.Tick()
	sock.WaitFor(t, len(sock.Messages()), "WATCHDOG=1", 5*time.Second)
	if got := sock.Count("WATCHDOG=1"); got <= quietFrom {
		t.Errorf("pings did not resume after a tick: %d", got)
	}
}

// waitQuiet reports whether no WATCHDOG=1 beyond count arrives within d.
func waitQuiet(sock *notifytest.Socket, count int, d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if sock.Count("WATCHDOG=1") > count {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func TestHasLine(t *testing.T) {
	tests := []struct {
		name, msg, line string
		want            bool
	}{
		{name: "exact", msg: "READY=1\nSTATUS=x", line: "READY=1", want: true},
		{name: "prefix", msg: "READY=1\nSTATUS=x", line: "STATUS=", want: true},
		{name: "absent", msg: "WATCHDOG=1", line: "READY=1", want: false},
		{name: "not a prefix without =", msg: "READY=10", line: "READY=1", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := notifytest.HasLine(tc.msg, tc.line); got != tc.want {
				t.Errorf("HasLine(%q, %q) = %v", tc.msg, tc.line, got)
			}
		})
	}
}
