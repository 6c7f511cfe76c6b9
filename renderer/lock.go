package renderer

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockName is the file ctpl keeps locked (flock) in every destination
// directory it writes to, while it runs. The leading dot keeps it out of
// globs and of directories read wholesale, as for TempPrefix.
const LockName = ".ctpl.lock"

// ErrLocked is wrapped by the error of a destination directory another
// ctpl holds: two instances writing one directory would delete each other's
// staged files and race on the destinations.
var ErrLocked = errors.New("another ctpl writes to this directory")

// dirLocks are the destination directories the agent holds, each by an
// open file with an exclusive flock, released when the agent's Run ends
// (or the process exits). Only the agent loop touches it.
type dirLocks struct {
	held map[string]*os.File
}

// hold locks dir unless it is held already. It reports whether the lock is
// new: then no other ctpl runs there, and temporary files found in dir are
// leftovers of an earlier run.
func (l *dirLocks) hold(dir string) (bool, error) {
	if _, ok := l.held[dir]; ok {
		return false, nil
	}
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			b, _ := io.ReadAll(io.LimitReader(f, 32))
			return false, fmt.Errorf("%w: %s is locked by process %s; run one ctpl per destination directory",
				ErrLocked, path, cmp.Or(strings.TrimSpace(string(b)), "?"))
		}
		return false, fmt.Errorf("lock %s: %w", path, err)
	}
	// The lock file says who holds it, unless it has other names (written
	// through, that would change another file).
	if info, err := f.Stat(); err == nil {
		if sys, ok := info.Sys().(*syscall.Stat_t); ok && sys.Nlink == 1 {
			pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
			if _, err := f.WriteAt(pid, 0); err == nil {
				f.Truncate(int64(len(pid))) // written first: a reader never sees it empty
			}
		}
	}
	if l.held == nil {
		l.held = make(map[string]*os.File)
	}
	l.held[dir] = f
	return true, nil
}

// release unlocks every directory held.
func (l *dirLocks) release() {
	for dir, f := range l.held {
		f.Close()
		delete(l.held, dir)
	}
}

// lockDirs locks the directory of every destination that exists (one that
// does not is locked when it is created, before the first write) and
// removes the temporary files an earlier run left there. A directory
// another ctpl holds is an error naming it.
func (a *Agent) lockDirs() error {
	if a.opts.Dry {
		return nil
	}
	var errs []error
	seen := map[string]bool{}
	for _, j := range a.jobs {
		dir := dirOf(j.t.Dest)
		if seen[dir] {
			continue
		}
		seen[dir] = true
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			continue
		}
		errs = append(errs, a.holdDir(dir))
	}
	return errors.Join(errs...)
}

// holdDest locks the directory of j's destination, creating it first when
// j may, before the first write there.
func (a *Agent) holdDest(j *job) error {
	dir := dirOf(j.t.Dest)
	if _, ok := a.locks.held[dir]; ok {
		return nil
	}
	if j.t.File.CreateDestDirs {
		if err := mkdirAll(dir); err != nil {
			return fmt.Errorf("write %s: %w", j.t.Dest, err)
		}
	}
	return a.holdDir(dir)
}

// holdDir locks dir; when the lock is new it removes the temporary files
// an earlier run left there (no other ctpl can be staging them).
func (a *Agent) holdDir(dir string) error {
	fresh, err := a.locks.hold(dir)
	if err != nil || !fresh {
		return err
	}
	removed, err := RemoveStaleTemps(dir)
	if err != nil {
		a.log.Debug("cannot clean temp files", "dir", dir, "error", err)
	}
	for _, f := range removed {
		a.log.Info("removed a temp file left by an earlier run", "file", f)
	}
	return nil
}
