package notifytest

import (
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Socket records the notifications sent to it.
type Socket struct {
	conn *net.UnixConn
	done chan struct{}

	mu   sync.Mutex
	msgs []string
	wake chan struct{}
}

// Listen opens a socket in a temp directory and sets NOTIFY_SOCKET to it for
// the rest of the test (so the test must not be parallel).
func Listen(t testing.TB) *Socket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("notifytest: %v", err)
	}
	s := &Socket{conn: conn, done: make(chan struct{}), wake: make(chan struct{})}
	go s.read()
	t.Cleanup(func() { conn.Close(); <-s.done })
	t.Setenv("NOTIFY_SOCKET", path)
	return s
}

func (s *Socket) read() {
	defer close(s.done)
	buf := make([]byte, 64<<10)
	for {
		n, _, err := s.conn.ReadFromUnix(buf)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.msgs = append(s.msgs, string(buf[:n]))
		close(s.wake)
		s.wake = make(chan struct{})
		s.mu.Unlock()
	}
}

// Messages returns every message received so far, in order.
func (s *Socket) Messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Count returns how many messages so far have a line equal to line.
func (s *Socket) Count(line string) int {
	n := 0
	for _, m := range s.Messages() {
		if HasLine(m, line) {
			n++
		}
	}
	return n
}

// WaitFor waits until a message received at or after index from has a line
// equal to line, and returns that message's index. It fails the test after
// timeout.
func (s *Socket) WaitFor(t testing.TB, from int, line string, timeout time.Duration) int {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		for i := from; i < len(s.msgs); i++ {
			if HasLine(s.msgs[i], line) {
				s.mu.Unlock()
				return i
			}
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			t.Fatalf("notifytest: no %q after message %d within %v; got %q", line, from, timeout, s.Messages())
			return -1
		}
	}
}

// HasLine reports whether msg has a line equal to line, or starting with it
// when line ends in "=".
func HasLine(msg, line string) bool {
	for l := range strings.SplitSeq(msg, "\n") {
		if l == line || (strings.HasSuffix(line, "=") && strings.HasPrefix(l, line)) {
			return true
		}
	}
	return false
}
