package renderer

import (
	"os"
	"syscall"
	"time"
)

// racyWindow bounds the granularity of file timestamps: a file whose
// status was taken at least this long after its last change gets another
// change time (mtime, ctime) from any later write. Linux stamps files from
// a clock that advances at least every 10 ms.
const racyWindow = 25 * time.Millisecond

// fileMemo is what the agent knows a destination holds: content it wrote or
// read, and the file's status (device, inode, size, change times) then. When
// the status still matches, the file still holds that content, unless
// someone wrote it within the same timestamp tick as the last change ctpl
// saw ("racy", as git calls it). A racy memo is trusted only to decide that
// new, different content must be written, never that the file is up to
// date: that needs a read.
type fileMemo struct {
	known   bool
	dev     uint64
	ino     uint64
	size    int64
	mtime   syscall.Timespec
	ctime   syscall.Timespec
	content []byte // the content; shared with the output it came from, never modified
	trusted bool   // not racy: the status was taken well after the last change
}

// holds returns the content the file with status sys holds when the memo
// knows it.
func (m *fileMemo) holds(sys *syscall.Stat_t) ([]byte, bool) {
	if m == nil || !m.known || sys == nil {
		return nil, false
	}
	same := uint64(sys.Dev) == m.dev && uint64(sys.Ino) == m.ino && sys.Size == m.size &&
		sys.Mtim == m.mtime && sys.Ctim == m.ctime
	return m.content, same
}

// remember records that the file whose status sys was taken at the time at
// holds content.
func (m *fileMemo) remember(sys *syscall.Stat_t, at time.Time, content []byte) {
	if m == nil {
		return
	}
	if sys == nil {
		m.forget()
		return
	}
	*m = fileMemo{
		known: true, dev: uint64(sys.Dev), ino: uint64(sys.Ino), size: sys.Size,
		mtime: sys.Mtim, ctime: sys.Ctim, content: content,
		trusted: settled(sys.Mtim, at) && settled(sys.Ctim, at),
	}
}

// rememberWritten records that dest now holds content ctpl just renamed
// over it.
func (m *fileMemo) rememberWritten(dest string, content []byte) {
	if m == nil {
		return
	}
	at := time.Now()
	info, err := os.Stat(dest)
	if err != nil {
		m.forget()
		return
	}
	sys, _ := info.Sys().(*syscall.Stat_t)
	m.remember(sys, at, content)
}

func (m *fileMemo) forget() {
	if m != nil {
		*m = fileMemo{}
	}
}

// settled reports whether a file timestamp t, seen at the time at, is far
// enough in the past that a later write would change it. A timestamp with no
// fraction below 10 ms comes from a file system with coarse timestamps
// (seconds on some), where that cannot be told: never settled.
func settled(t syscall.Timespec, at time.Time) bool {
	if t.Nsec%int64(10*time.Millisecond) == 0 {
		return false
	}
	return at.Sub(time.Unix(t.Sec, t.Nsec)) >= racyWindow
}
