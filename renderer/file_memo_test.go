package renderer

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// writeKnown stages and commits content at dest through memo.
func writeKnown(t *testing.T, dest, content string, opts FileOptions, memo *fileMemo) *Staged {
	t.Helper()
	st, err := stageKnown(dest, []byte(content), opts, memo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStageKnownRewritesExternalChanges(t *testing.T) {
	tests := []struct {
		name    string
		trusted bool // the memo is not racy when the change happens
		change  func(t *testing.T, dest string)
	}{
		{name: "rewritten in place, same size, within the racy window", change: func(t *testing.T, dest string) {
			overwrite(t, dest, "a=2\n")
		}},
		{name: "rewritten in place, same size, later", trusted: true, change: func(t *testing.T, dest string) {
			overwrite(t, dest, "a=2\n")
			past := time.Now().Add(-time.Hour)
			if err := os.Chtimes(dest, past, past); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "replaced by a rename", trusted: true, change: func(t *testing.T, dest string) {
			tmp := dest + ".new"
			mustWrite(t, tmp, "a=2\n", 0o644)
			mustRename(t, tmp, dest)
		}},
		{name: "removed", trusted: true, change: func(t *testing.T, dest string) {
			if err := os.Remove(dest); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "out.conf")
			var memo fileMemo
			writeKnown(t, dest, "a=1\n", keepOwner, &memo)
			if !memo.known {
				t.Fatal("the memo does not know what was written")
			}
			memo.trusted = tc.trusted
			tc.change(t, dest)

			st, err := stageKnown(dest, []byte("a=1\n"), keepOwner, &memo)
			if err != nil {
				t.Fatal(err)
			}
			if st.Path() == "" || !st.Changed() {
				t.Fatalf("staged %q, changed %v: the external change went unnoticed", st.Path(), st.Changed())
			}
			if _, err := st.Commit(); err != nil {
				t.Fatal(err)
			}
			assertFile(t, dest, "a=1\n", 0o644)
		})
	}
}

func overwrite(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStageKnownReadsOnlyWhenNeeded(t *testing.T) {
	tests := []struct {
		name     string
		trusted  bool
		content  string
		opts     FileOptions
		wantRead bool
		wantPath bool // something to commit
	}{
		{name: "same content, racy memo: read to be sure", content: "a=1\n", opts: keepOwner,
			wantRead: true},
		{name: "same content, trusted memo", trusted: true, content: "a=1\n", opts: keepOwner},
		{name: "new content, racy memo", content: "a=2\n", opts: keepOwner, wantPath: true},
		{name: "new content, racy memo, backup wants the old content", content: "a=2\n",
			opts: withOpts(func(o *FileOptions) { o.Backup = true }), wantRead: true, wantPath: true},
		{name: "new content, trusted memo, backup", trusted: true, content: "a=2\n",
			opts: withOpts(func(o *FileOptions) { o.Backup = true }), wantPath: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "out.conf")
			var memo fileMemo
			writeKnown(t, dest, "a=1\n", tc.opts, &memo)
			memo.trusted = tc.trusted
			written := memo.content

			st, err := stageKnown(dest, []byte(tc.content), tc.opts, &memo)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Discard()
			prev, ok := st.Previous()
			if !ok || string(prev) != "a=1\n" {
				t.Fatalf("Previous() = %q, %v", prev, ok)
			}
			if read := &prev[0] != &written[0]; read != tc.wantRead {
				t.Errorf("read the destination: %v, want %v", read, tc.wantRead)
			}
			if got := st.Path() != ""; got != tc.wantPath {
				t.Errorf("something to commit: %v, want %v", got, tc.wantPath)
			}
		})
	}
}

func TestStageKnownDistrustsAFreshChange(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "out.conf")
	mustWrite(t, dest, "a=1\n", 0o644)
	info, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	ctime := info.Sys().(*syscall.Stat_t).Ctim
	var memo fileMemo
	if _, err := stageKnown(dest, []byte("a=1\n"), keepOwner, &memo); err != nil {
		t.Fatal(err)
	}
	want := settled(ctime, time.Now()) // false unless the test ran slowly
	if !memo.known || memo.trusted && !want {
		t.Errorf("memo known %v, trusted %v right after a change", memo.known, memo.trusted)
	}
}

func TestSettled(t *testing.T) {
	now := time.Now()
	ts := func(tm time.Time) syscall.Timespec { return syscall.NsecToTimespec(tm.UnixNano()) }
	old := now.Add(-time.Second).Truncate(time.Millisecond).Add(123456 * time.Nanosecond)
	tests := []struct {
		name string
		t    syscall.Timespec
		want bool
	}{
		{name: "a second ago", t: ts(old), want: true},
		{name: "just now", t: ts(now.Add(-time.Millisecond).Truncate(time.Millisecond).Add(7)), want: false},
		{name: "a coarse timestamp", t: ts(now.Add(-time.Hour).Truncate(time.Second)), want: false},
		{name: "a 10 ms timestamp", t: ts(now.Add(-time.Hour).Truncate(10 * time.Millisecond)), want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := settled(tc.t, now); got != tc.want {
				t.Errorf("settled = %v, want %v", got, tc.want)
			}
		})
	}
}
