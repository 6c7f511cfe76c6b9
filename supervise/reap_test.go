package supervise

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestReaperFindsOnlyLingeringZombies makes a real zombie (a child nobody
// waits for) and checks the scan reports it only once it has lingered.
func TestReaperFindsOnlyLingeringZombies(t *testing.T) {
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	r := reaper{proc: "/proc", self: os.Getpid(), seen: map[int]time.Time{}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		state, _, ok := procStat("/proc/" + itoa(pid) + "/stat")
		if ok && state == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d never became a zombie (state %q)", pid, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
	now := time.Now()
	if due := r.scan(now); slices.Contains(due, pid) {
		t.Fatalf("zombie %d due at first sight", pid)
	}
	if due := r.scan(now.Add(500 * time.Millisecond)); slices.Contains(due, pid) {
		t.Fatalf("zombie %d due after 500ms", pid)
	}
	due := r.scan(now.Add(1100 * time.Millisecond))
	if !slices.Contains(due, pid) {
		t.Fatalf("lingering zombie %d not due: %v", pid, due)
	}
	var ws syscall.WaitStatus
	if got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); err != nil || got != pid {
		t.Fatalf("wait4(%d) = %d, %v", pid, got, err)
	}
	if due := r.scan(now.Add(2 * time.Second)); slices.Contains(due, pid) {
		t.Errorf("reaped pid %d still due", pid)
	}
}

func TestProcStatNameWithParens(t *testing.T) {
	f := t.TempDir() + "/stat"
	if err := os.WriteFile(f, []byte("42 (a) b (c) Z 1 42 42 0 -1"), 0o644); err != nil {
		t.Fatal(err)
	}
	state, ppid, ok := procStat(f)
	if !ok || state != "Z" || ppid != 1 {
		t.Errorf("procStat = %q, %d, %v", state, ppid, ok)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
