package supervise

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Reap collects orphaned zombies while ctx lasts when this process is PID 1
// (in a container), and returns at once otherwise.
//
// It must not steal the exit status of a child that Go's os/exec is waiting
// for, so it never calls wait(-1): it scans /proc on SIGCHLD and every
// second, and reaps by PID only a zombie child that was already a zombie at
// the previous scan at least a second earlier. os/exec reaps its own
// children within microseconds; a zombie that lingers is an orphan that the
// kernel re-parented to us.
func Reap(ctx context.Context, log *slog.Logger) {
	if os.Getpid() != 1 {
		return
	}
	reapLoop(ctx, log, "/proc", 1)
}

func reapLoop(ctx context.Context, log *slog.Logger, proc string, self int) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	defer signal.Stop(sigs)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	r := reaper{proc: proc, self: self, seen: map[int]time.Time{}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-sigs:
		case <-tick.C:
		}
		for _, pid := range r.scan(time.Now()) {
			var ws syscall.WaitStatus
			if got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); err == nil && got == pid {
				log.Debug("reaped an orphaned process", "pid", pid)
			}
		}
	}
}

// reaper remembers when each zombie child was first seen.
type reaper struct {
	proc string
	self int
	seen map[int]time.Time
}

// scan returns the zombie children first seen at least a second before now.
func (r *reaper) scan(now time.Time) []int {
	entries, _ := os.ReadDir(r.proc)
	current := map[int]time.Time{}
	var due []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, ppid, ok := procStat(filepath.Join(r.proc, e.Name(), "stat"))
		if !ok || state != "Z" || ppid != r.self {
			continue
		}
		first, known := r.seen[pid]
		if !known {
			first = now
		}
		current[pid] = first
		if now.Sub(first) >= time.Second {
			due = append(due, pid)
		}
	}
	r.seen = current
	return due
}

// procStat reads the state and parent PID from /proc/PID/stat; the command
// name in parentheses may itself hold spaces and parentheses.
func procStat(path string) (state string, ppid int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return "", 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return f[0], ppid, err == nil
}
