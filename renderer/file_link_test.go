package renderer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A link planted at the destination is never read: the write replaces the
// link by a regular file with the default mode, the link's target keeps its
// content and mode, and the destination counts as new (no previous content
// to restore or back up).
func TestWriteFileReplacesPlantedLinksWithoutReading(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, target, dest string)
	}{
		{name: "symbolic link", plant: func(t *testing.T, target, dest string) {
			if err := os.Symlink(target, dest); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "hard link", plant: func(t *testing.T, target, dest string) {
			if err := os.Link(target, dest); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			secret := filepath.Join(dir, "secret")
			mustWrite(t, secret, "SECRET", 0o600)
			dest := filepath.Join(dir, "out.conf")
			tc.plant(t, secret, dest)
			st, err := Stage(dest, []byte("new"), withOpts(func(o *FileOptions) { o.Backup = true }))
			if err != nil {
				t.Fatal(err)
			}
			if prev, ok := st.Previous(); ok || prev != nil {
				t.Errorf("Previous() = %q, %v: the link's target was read", prev, ok)
			}
			if _, err := st.Commit(); err != nil {
				t.Fatal(err)
			}
			assertFile(t, dest, "new", 0o644)
			assertFile(t, secret, "SECRET", 0o600)
			if _, err := os.Lstat(dest + ".bak"); !os.IsNotExist(err) {
				t.Errorf("a backup of the link's target was made: %v", err)
			}
		})
	}
}

// A symbolic link to a huge (sparse) file is not read whole.
func TestStageDoesNotReadALinkedHugeFile(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(2 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dest := filepath.Join(dir, "out.conf")
	if err := os.Symlink(huge, dest); err != nil {
		t.Fatal(err)
	}
	st, err := Stage(dest, []byte("new"), DefaultFileOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	if prev, ok := st.Previous(); ok || len(prev) != 0 {
		t.Fatalf("Previous() holds %d bytes: the 2 GB target was read", len(prev))
	}
}

// A persistent failure to create the staged file (a read-only file system,
// a missing directory) gives the same error every time, so that it is
// logged once, not on every retry.
func TestStageErrorIsStable(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "missing", "out.conf")
	var msgs []string
	for range 3 {
		_, err := Stage(dest, []byte("x"), withOpts(func(o *FileOptions) { o.CreateDestDirs = false }))
		if err == nil {
			t.Fatal("staged into a missing directory")
		}
		msgs = append(msgs, err.Error())
	}
	if msgs[0] != msgs[1] || msgs[1] != msgs[2] {
		t.Fatalf("errors differ from one try to the next:\n%s", strings.Join(msgs, "\n"))
	}
}
