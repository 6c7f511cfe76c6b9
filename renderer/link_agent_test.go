package renderer_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/renderer"
)

// A destination planted as a symbolic link to a secret: after a failed
// reload, "restoring the last good content" must not copy the secret into
// the destination (it was never read: there is no earlier content).
func TestAgentNeverRestoresContentReadThroughALink(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	mustWriteFile(t, secret, "SECRET")
	if err := os.Chmod(secret, 0o600); err != nil {
		t.Fatal(err)
	}
	tpl := newTemplate(t, dir, `a={{ key "a" }}`, "exit 1")
	if err := os.Symlink(secret, tpl.Dest); err != nil {
		t.Fatal(err)
	}
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet, MinReloadInterval: -1})
	w.set(keyA, "1")
	start(t, a)
	testkit.WaitFor(t, 5*time.Second, "the reload to fail", func() bool { return a.Status().Templates[0].State == renderer.StateDegraded })
	b, err := os.ReadFile(tpl.Dest)
	if err != nil || string(b) == "SECRET" {
		t.Fatalf("destination holds %q (%v): the secret was copied out", b, err)
	}
	if info, err := os.Lstat(tpl.Dest); err != nil || !info.Mode().IsRegular() {
		t.Fatalf("destination: %v, %v; want a regular file", info, err)
	}
	if b, _ := os.ReadFile(secret); string(b) != "SECRET" {
		t.Fatalf("the link's target was changed: %q", b)
	}
}
