// Package notify speaks systemd's service notification protocol for a
// Type=notify unit: READY=1 once the service is useful, RELOADING=1 … READY=1
// around a configuration reload, STOPPING=1 on shutdown, STATUS= lines and
// WATCHDOG=1 keep-alive pings.
//
// Messages go to the datagram socket named by NOTIFY_SOCKET through
// github.com/coreos/go-systemd/v22/daemon; without that variable every call
// is a no-op, so the same binary runs under systemd and outside it.
//
// The watchdog proves liveness of the agent loop, not of the process: the
// loop calls [Notifier.Tick] (cheap, never blocks) and [Notifier.RunWatchdog]
// sends WATCHDOG=1 only while ticks keep arriving, so a stuck loop stops the
// pings and systemd restarts the service.
//
// Concurrency: every method is safe from any goroutine. RunWatchdog is a
// long-lived loop owned by its caller; it returns when its context ends.
package notify
