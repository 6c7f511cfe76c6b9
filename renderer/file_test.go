package renderer

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// keepOwner leaves ownership alone, as most callers do.
var keepOwner = DefaultFileOptions()

func withOpts(f func(*FileOptions)) FileOptions {
	o := keepOwner
	f(&o)
	return o
}

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name        string
		dest        string      // relative to a fresh directory
		oldContent  string      // written first unless oldMode is 0
		oldMode     os.FileMode // 0 = no existing file
		content     string
		opts        FileOptions
		wantChanged bool
		wantErr     error // checked with errors.Is
		wantMode    os.FileMode
		wantBackup  string // "" = no DEST.bak
	}{
		{name: "new file gets 0644", dest: "out.conf", content: "a\n", opts: keepOwner,
			wantChanged: true, wantMode: 0o644},
		{name: "existing mode kept", dest: "out.conf", oldContent: "old\n", oldMode: 0o600,
			content: "new\n", opts: keepOwner, wantChanged: true, wantMode: 0o600},
		{name: "explicit perms applied", dest: "out.conf", oldContent: "old\n", oldMode: 0o600,
			content: "new\n", opts: withOpts(func(o *FileOptions) { o.Perms = 0o640 }),
			wantChanged: true, wantMode: 0o640},
		{name: "explicit perms on new file", dest: "out.conf", content: "a\n",
			opts: withOpts(func(o *FileOptions) { o.Perms = 0o600 }), wantChanged: true, wantMode: 0o600},
		{name: "unchanged content", dest: "out.conf", oldContent: "same\n", oldMode: 0o644,
			content: "same\n", opts: keepOwner, wantChanged: false, wantMode: 0o644},
		{name: "unchanged content, mode corrected", dest: "out.conf", oldContent: "same\n", oldMode: 0o600,
			content: "same\n", opts: withOpts(func(o *FileOptions) { o.Perms = 0o644 }),
			wantChanged: false, wantMode: 0o644},
		{name: "empty content", dest: "out.conf", oldContent: "old\n", oldMode: 0o644,
			content: "", opts: keepOwner, wantChanged: true, wantMode: 0o644},
		{name: "backup written", dest: "out.conf", oldContent: "old\n", oldMode: 0o640,
			content: "new\n", opts: withOpts(func(o *FileOptions) { o.Backup = true }),
			wantChanged: true, wantMode: 0o640, wantBackup: "old\n"},
		{name: "no backup of a new file", dest: "out.conf", content: "new\n",
			opts: withOpts(func(o *FileOptions) { o.Backup = true }), wantChanged: true, wantMode: 0o644},
		{name: "no backup when unchanged", dest: "out.conf", oldContent: "same\n", oldMode: 0o644,
			content: "same\n", opts: withOpts(func(o *FileOptions) { o.Backup = true }),
			wantChanged: false, wantMode: 0o644},
		{name: "create_dest_dirs on", dest: "a/b/out.conf", content: "a\n",
			opts: withOpts(func(o *FileOptions) { o.CreateDestDirs = true }), wantChanged: true, wantMode: 0o644},
		{name: "create_dest_dirs off", dest: "a/b/out.conf", content: "a\n", opts: keepOwner,
			wantErr: fs.ErrNotExist},
		{name: "dest is a directory", dest: "sub", oldMode: os.ModeDir | 0o755, content: "a\n",
			opts: keepOwner, wantErr: syscall.EISDIR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, tc.dest)
			switch {
			case tc.oldMode.IsDir():
				mustMkdir(t, dest)
			case tc.oldMode != 0:
				mustWrite(t, dest, tc.oldContent, tc.oldMode)
			}

			changed, err := WriteFile(dest, []byte(tc.content), tc.opts)

			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("WriteFile error = %v, want %v", err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "write "+dest+": ") {
					t.Errorf("error %q lacks the prefix %q", err, "write "+dest+": ")
				}
				assertNoTemps(t, dir)
				return
			}
			if err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			if changed != tc.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tc.wantChanged)
			}
			assertFile(t, dest, tc.content, tc.wantMode)
			if tc.wantBackup != "" {
				assertFile(t, dest+".bak", tc.wantBackup, tc.oldMode)
			} else if _, err := os.Lstat(dest + ".bak"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("unexpected backup file (stat error %v)", err)
			}
			assertNoTemps(t, filepath.Dir(dest))
		})
	}
}

func TestWriteFileIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	dest := filepath.Join(dir, "x", "y", "out.conf")

	if _, err := WriteFile(dest, []byte("a"), withOpts(func(o *FileOptions) { o.CreateDestDirs = true })); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, "a", 0o644)
	for _, d := range []string{filepath.Join(dir, "x"), filepath.Join(dir, "x", "y")} {
		info, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != dirPerms {
			t.Errorf("%s mode = %v, want %v", d, got, dirPerms)
		}
	}
}

func TestWriteFileUnchangedLeavesFileAlone(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "out.conf")
	mustWrite(t, dest, "same\n", 0o644)
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(dest, past, past); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	called := false
	setAfterTempWrite(t, func(string) { called = true })

	changed, err := WriteFile(dest, []byte("same\n"), keepOwner)

	if err != nil || changed {
		t.Fatalf("WriteFile = %v, %v; want false, nil", changed, err)
	}
	after, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("file was replaced (inode changed)")
	}
	if !after.ModTime().Equal(past) {
		t.Errorf("mtime = %v, want %v", after.ModTime(), past)
	}
	if called {
		t.Error("a temporary file was written")
	}
}

func TestWriteFileStagesDotPrefixedTemp(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "hosts")
	mustWrite(t, dest, "old\n", 0o600)
	var staged string
	setAfterTempWrite(t, func(path string) {
		staged = path
		// While staged, the temp holds the new content and final mode, and dest is untouched.
		assertFile(t, path, "new\n", 0o600)
		assertFile(t, dest, "old\n", 0o600)
	})

	if _, err := WriteFile(dest, []byte("new\n"), keepOwner); err != nil {
		t.Fatal(err)
	}

	if filepath.Dir(staged) != dir {
		t.Errorf("temp %q not in the destination directory %q", staged, dir)
	}
	name := filepath.Base(staged)
	if !strings.HasPrefix(name, TempPrefix) || strings.Contains(name[1:], ".") {
		t.Errorf("temp name %q: want prefix %q and no extension", name, TempPrefix)
	}
	if m, _ := filepath.Match("*.conf", name); m {
		t.Errorf("temp name %q matches *.conf", name)
	}
	assertFile(t, dest, "new\n", 0o600)
	assertNoTemps(t, dir)
}

func TestWriteFileFailureKeepsOldContent(t *testing.T) {
	tests := []struct {
		name     string
		opts     FileOptions
		setup    func(t *testing.T, dir, dest string)
		duringFn func(t *testing.T, dest string) // runs while the temp is staged
		skipRoot bool
	}{
		{
			name: "rename onto a directory",
			opts: keepOwner,
			duringFn: func(t *testing.T, dest string) {
				// Swap the destination for a non-empty directory so the rename must fail.
				mustRename(t, dest, dest+".saved")
				mustMkdir(t, dest)
				mustWrite(t, filepath.Join(dest, "keep"), "", 0o644)
			},
		},
		{
			name: "backup path is a directory",
			opts: withOpts(func(o *FileOptions) { o.Backup = true }),
			setup: func(t *testing.T, _, dest string) {
				mustMkdir(t, dest+".bak")
				mustWrite(t, filepath.Join(dest+".bak", "keep"), "", 0o644)
			},
		},
		{
			name:     "read-only directory",
			opts:     keepOwner,
			skipRoot: true,
			setup: func(t *testing.T, dir, _ string) {
				if err := os.Chmod(dir, 0o555); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Chmod(dir, 0o755) })
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skipRoot && os.Geteuid() == 0 {
				t.Skip("root ignores directory permissions")
			}
			dir := t.TempDir()
			dest := filepath.Join(dir, "out.conf")
			mustWrite(t, dest, "old\n", 0o640)
			if tc.setup != nil {
				tc.setup(t, dir, dest)
			}
			if tc.duringFn != nil {
				setAfterTempWrite(t, func(string) { tc.duringFn(t, dest) })
			}

			changed, err := WriteFile(dest, []byte("new\n"), tc.opts)

			if err == nil || changed {
				t.Fatalf("WriteFile = %v, %v; want false and an error", changed, err)
			}
			if tc.duringFn != nil {
				dest += ".saved"
			}
			assertFile(t, dest, "old\n", 0o640)
			assertNoTemps(t, dir)
		})
	}
}

func TestWriteFileOwner(t *testing.T) {
	uid, gid := os.Getuid(), os.Getgid()
	if os.Geteuid() == 0 {
		uid, gid = 65534, 65534 // nobody: only root may give files away
	}
	dest := filepath.Join(t.TempDir(), "out.conf")

	if _, err := WriteFile(dest, []byte("a"), FileOptions{UID: uid, GID: gid}); err != nil {
		t.Fatal(err)
	}
	assertOwner(t, dest, uid, gid)

	// Keeping the owner (-1) on a rewrite preserves it.
	if _, err := WriteFile(dest, []byte("b"), keepOwner); err != nil {
		t.Fatal(err)
	}
	assertOwner(t, dest, uid, gid)
}

func TestWriteFileChownFailureReported(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may chown to anyone")
	}
	dest := filepath.Join(t.TempDir(), "out.conf")
	_, err := WriteFile(dest, []byte("a"), FileOptions{UID: 0, GID: 0})
	if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("WriteFile error = %v, want EPERM", err)
	}
	if _, err := os.Lstat(dest); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dest exists after a failed write (stat error %v)", err)
	}
	assertNoTemps(t, filepath.Dir(dest))
}

func TestRemoveStaleTemps(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{TempPrefix + "123", TempPrefix + "456", "out.conf", ".hidden", "x" + TempPrefix} {
		mustWrite(t, filepath.Join(dir, name), "x", 0o644)
	}
	mustMkdir(t, filepath.Join(dir, TempPrefix+"dir"))

	removed, err := RemoveStaleTemps(dir)

	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, TempPrefix+"123"), filepath.Join(dir, TempPrefix+"456")}
	slices.Sort(removed)
	if !slices.Equal(removed, want) {
		t.Errorf("removed = %q, want %q", removed, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	wantLeft := []string{TempPrefix + "dir", ".hidden", "out.conf", "x" + TempPrefix}
	if !slices.Equal(left, wantLeft) {
		t.Errorf("left = %q, want %q", left, wantLeft)
	}

	removed, err = RemoveStaleTemps(filepath.Join(dir, "missing"))
	if err != nil || removed != nil {
		t.Errorf("RemoveStaleTemps(missing) = %q, %v; want nil, nil", removed, err)
	}
}

func setAfterTempWrite(t *testing.T, f func(path string)) {
	t.Helper()
	afterTempWrite = f
	t.Cleanup(func() { afterTempWrite = nil })
}

func mustWrite(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // undo the umask
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func assertFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return
	}
	if string(got) != content {
		t.Errorf("%s content = %q, want %q", path, got, content)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if info.Mode() != mode {
		t.Errorf("%s mode = %v, want %v", path, info.Mode(), mode)
	}
}

func assertOwner(t *testing.T, path string, uid, gid int) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("%s owner = %d:%d, want %d:%d", path, st.Uid, st.Gid, uid, gid)
	}
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Error(err)
		}
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), TempPrefix) {
			t.Errorf("temporary file left behind: %s", filepath.Join(dir, e.Name()))
		}
	}
}
