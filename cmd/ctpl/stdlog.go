package main

import (
	"log"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// routeStdLog sends what Go's standard library prints through the log
// package to l, so the log keeps one format (text or JSON). net/http prints
// there, for one, "Unsolicited response received on idle HTTP channel" for
// each pooled connection Consul refuses with a 429 (which ctpl itself
// reports once). A message is logged at WARN; the same message again within
// stdLogRepeat, at DEBUG. It returns a function that restores the previous
// output.
func routeStdLog(l *slog.Logger) (restore func()) {
	out, flags, prefix := log.Writer(), log.Flags(), log.Prefix()
	log.SetFlags(0)
	log.SetPrefix("")
	log.SetOutput(&stdLogWriter{log: l, seen: map[string]time.Time{}})
	return func() {
		log.SetOutput(out)
		log.SetFlags(flags)
		log.SetPrefix(prefix)
	}
}

// stdLogRepeat is how long a message of the standard logger logged at WARN
// makes the same message DEBUG.
const stdLogRepeat = time.Minute

// stdLogKey is how much of a message decides that it is the same message:
// net/http's differ after "… starting with".
const stdLogKey = 64

// stdLogWriter turns each line of the standard logger into a log record.
type stdLogWriter struct {
	log  *slog.Logger
	mu   sync.Mutex
	seen map[string]time.Time // by message key: when it was last logged at WARN
}

func (w *stdLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for line := range strings.Lines(string(p)) {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		key := line[:min(len(line), stdLogKey)]
		if at, ok := w.seen[key]; ok && now.Sub(at) < stdLogRepeat {
			w.log.Debug("message from a Go library", "message", line)
			continue
		}
		if len(w.seen) > 64 { // bounded: forget the old messages
			clear(w.seen)
		}
		w.seen[key] = now
		w.log.Warn("message from a Go library", "message", line)
	}
	return len(p), nil
}
