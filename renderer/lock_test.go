package renderer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/renderer"
)

// A second agent on a destination directory the first one holds stops at
// once with an error naming the lock, and leaves the first one's staged
// files alone.
func TestSecondAgentOnADirectoryStops(t *testing.T) {
	dir := t.TempDir()
	w1 := newFakeWatcher()
	first := renderer.New([]renderer.Template{newTemplate(t, dir, `a={{ key "a" }}`, "")}, w1, renderer.Options{Logger: quiet})
	start(t, first)
	testkit.WaitFor(t, 5*time.Second, "the first agent to watch its key", func() bool { return w1.isWatching(keyA) })
	staged := filepath.Join(dir, renderer.TempPrefix+"123")
	mustWriteFile(t, staged, "being checked")

	second := renderer.New([]renderer.Template{newTemplate(t, dir, `b={{ key "a" }}`, "")}, newFakeWatcher(), renderer.Options{Logger: quiet})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // a Run that does not stop at once fails
	defer cancel()
	err := second.Run(ctx)
	if !errors.Is(err, renderer.ErrLocked) || !strings.Contains(err.Error(), filepath.Join(dir, renderer.LockName)) ||
		!strings.Contains(err.Error(), "locked by process "+itoa(os.Getpid())) {
		t.Fatalf("second Run: %v; want ErrLocked naming the lock file and the holder", err)
	}
	if _, err := os.Stat(staged); err != nil {
		t.Fatalf("the first agent's staged file: %v", err)
	}
	w1.set(keyA, "1")
	testkit.WaitFor(t, 5*time.Second, "the first agent to write", fileIs(filepath.Join(dir, "out.conf"), "a=1"))
}

// A directory created for a destination (create_dest_dirs) is locked
// before the first write: a second agent then cannot write there.
func TestAgentLocksTheDirectoriesItCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	tpl := newTemplate(t, dir, `a={{ key "a" }}`, "")
	tpl.File.CreateDestDirs = true
	w := newFakeWatcher()
	w.set(keyA, "1")
	start(t, renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet}))
	testkit.WaitFor(t, 5*time.Second, "the write", fileIs(tpl.Dest, "a=1"))
	second := renderer.New([]renderer.Template{newTemplate(t, dir, `b`, "")}, newFakeWatcher(), renderer.Options{Logger: quiet})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := second.Run(ctx); !errors.Is(err, renderer.ErrLocked) {
		t.Fatalf("second Run: %v; want ErrLocked", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
