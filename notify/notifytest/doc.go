// Package notifytest is a systemd stand-in for tests: a unix datagram socket,
// set as NOTIFY_SOCKET, that records every message a service sends.
//
// Concurrency: a Socket's reader goroutine is owned by the Socket and ends in
// the test's cleanup; its methods are safe from any goroutine.
package notifytest
