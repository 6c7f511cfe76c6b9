package supervise_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
)

// A grandchild that left the child's process group and session (setsid)
// is killed with the child when the supervisor stops.
func TestStopKillsSetsidGrandchildren(t *testing.T) {
	h := start(t, `setsid sleep 1000 & echo $! > "$OUT/grandchild"; wait`, nil)
	path := filepath.Join(h.dir, "grandchild")
	var pid int
	testkit.WaitFor(t, 10*time.Second, "the grandchild", func() bool {
		b, err := os.ReadFile(path)
		if err != nil || !strings.HasSuffix(string(b), "\n") {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && alive(pid)
	})
	t.Cleanup(func() {
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	h.stop()
	testkit.WaitFor(t, 10*time.Second, "the setsid grandchild to be gone", func() bool { return !alive(pid) })
}
