package renderer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantArgs   []string
		wantShell  bool
		wantString string
	}{
		{name: "empty", in: "", wantArgs: nil},
		{name: "blank", in: " \t\n", wantArgs: nil},
		{name: "single word runs directly", in: "reload-nginx", wantArgs: []string{"reload-nginx"},
			wantString: "reload-nginx"},
		{name: "surrounding space trimmed", in: "  /usr/bin/true\n", wantArgs: []string{"/usr/bin/true"},
			wantString: "/usr/bin/true"},
		{name: "space means shell", in: "nginx -s reload", wantArgs: []string{"nginx -s reload"},
			wantShell: true, wantString: "nginx -s reload"},
		{name: "tab means shell", in: "a\tb", wantArgs: []string{"a\tb"}, wantShell: true, wantString: "a\tb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ParseCommand(tc.in)
			if !slices.Equal(c.Args, tc.wantArgs) || c.Shell != tc.wantShell {
				t.Errorf("ParseCommand(%q) = %#v, want Args %q Shell %v", tc.in, c, tc.wantArgs, tc.wantShell)
			}
			if got := c.String(); got != tc.wantString {
				t.Errorf("String() = %q, want %q", got, tc.wantString)
			}
			if c.IsZero() != (tc.wantArgs == nil) {
				t.Errorf("IsZero() = %v", c.IsZero())
			}
		})
	}
}

func TestCommandFromListString(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "empty", args: nil, want: ""},
		{name: "plain words", args: []string{"nginx", "-s", "reload"}, want: "nginx -s reload"},
		{name: "space quoted", args: []string{"echo", "a b"}, want: "echo 'a b'"},
		{name: "quote escaped", args: []string{"echo", "it's"}, want: `echo 'it'\''s'`},
		{name: "empty argument", args: []string{"echo", ""}, want: "echo ''"},
		{name: "shell syntax quoted", args: []string{"echo", "$HOME", "*"}, want: "echo '$HOME' '*'"},
		{name: "placeholder", args: []string{"nginx", "-t", "-c", StagedPlaceholder},
			want: "nginx -t -c '{{.Staged}}'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := CommandFromList(tc.args)
			if c.Shell {
				t.Error("list form marked as shell")
			}
			if got := c.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCommandFromListCopiesArgs(t *testing.T) {
	args := []string{"a", "b"}
	c := CommandFromList(args)
	args[0] = "changed"
	if c.Args[0] != "a" {
		t.Errorf("Args aliases the caller's slice: %q", c.Args)
	}
}

// A list's String, run by sh, passes the same argv as running the list directly.
func TestCommandStringRoundTrip(t *testing.T) {
	list := CommandFromList([]string{"printf", "[%s]", "a b", "it's", "", "$HOME", "*"})
	direct, err := list.Run(t.Context(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	viaShell, err := ParseCommand(list.String()).Run(t.Context(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(direct.Output) != "[a b][it's][][$HOME][*]" || !bytes.Equal(direct.Output, viaShell.Output) {
		t.Errorf("direct %q, via sh %q", direct.Output, viaShell.Output)
	}
}

func TestWithStaged(t *testing.T) {
	list := CommandFromList([]string{"nginx", "-t", "-c", StagedPlaceholder, "x" + StagedPlaceholder})
	got := list.WithStaged("/etc/nginx/.ctpl-tmp-1")
	want := []string{"nginx", "-t", "-c", "/etc/nginx/.ctpl-tmp-1", "x" + StagedPlaceholder}
	if !slices.Equal(got.Args, want) || got.Shell {
		t.Errorf("WithStaged = %#v, want Args %q", got, want)
	}
	if list.Args[3] != StagedPlaceholder {
		t.Errorf("WithStaged modified the original: %q", list.Args)
	}

	shell := ParseCommand(`nginx -t -c "$` + StagedEnv + `"`)
	if got := shell.WithStaged("/x"); got.String() != shell.String() || !got.Shell {
		t.Errorf("shell WithStaged = %#v, want unchanged", got)
	}
}

func TestCommandRun(t *testing.T) {
	tests := []struct {
		name     string
		cmd      func(dir string) Command
		env      []string
		wantOut  string // exact, unless wantHas is set
		wantHas  []string
		wantExit int
		wantErr  error  // checked with errors.Is
		exitErr  bool   // the error must wrap *exec.ExitError
		wantMsg  string // exact error message when non-empty
		check    func(t *testing.T, dir string)
	}{
		{
			name: "shell string runs through sh",
			cmd:  func(dir string) Command { return ParseCommand("echo a > " + filepath.Join(dir, "file")) },
			check: func(t *testing.T, dir string) {
				if b, err := os.ReadFile(filepath.Join(dir, "file")); err != nil || string(b) != "a\n" {
					t.Errorf("file = %q, %v; want %q", b, err, "a\n")
				}
			},
		},
		{
			name:    "list runs directly with spaces kept",
			cmd:     func(string) Command { return CommandFromList([]string{"printf", "[%s]", "a b", "c"}) },
			wantOut: "[a b][c]",
		},
		{
			name:    "single word runs directly",
			cmd:     func(string) Command { return ParseCommand("true") },
			wantOut: "",
		},
		{
			name: "env passed",
			cmd: func(string) Command {
				return CommandFromList([]string{"sh", "-c", `printf '%s %s' "$CTPL_TEST_A" "$CTPL_TEST_B"`})
			},
			env:     []string{"CTPL_TEST_A=one", "CTPL_TEST_B=two words"},
			wantOut: "one two words",
		},
		{
			name:    "stdout and stderr captured",
			cmd:     func(string) Command { return ParseCommand("echo out; echo err >&2") },
			wantHas: []string{"out\n", "err\n"},
		},
		{
			name:     "non-zero exit",
			cmd:      func(string) Command { return ParseCommand("echo failing >&2; exit 3") },
			wantOut:  "failing\n",
			wantExit: 3,
			exitErr:  true,
			wantMsg:  `command "echo failing >&2; exit 3": exit status 3`,
		},
		{
			name:     "program not found",
			cmd:      func(string) Command { return ParseCommand("ctpl-test-no-such-program") },
			wantExit: -1,
			wantErr:  exec.ErrNotFound,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			res, err := tc.cmd(dir).Run(t.Context(), 10*time.Second, tc.env)

			var exitErr *exec.ExitError
			switch {
			case tc.wantErr == nil && !tc.exitErr && err != nil:
				t.Fatalf("Run: %v", err)
			case tc.exitErr && !errors.As(err, &exitErr):
				t.Errorf("error %v does not wrap *exec.ExitError", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if tc.wantMsg != "" && (err == nil || err.Error() != tc.wantMsg) {
				t.Errorf("error message %q, want %q", err, tc.wantMsg)
			}
			if res.ExitCode != tc.wantExit || res.TimedOut {
				t.Errorf("ExitCode %d TimedOut %v, want %d false", res.ExitCode, res.TimedOut, tc.wantExit)
			}
			if tc.wantHas == nil && string(res.Output) != tc.wantOut {
				t.Errorf("Output %q, want %q", res.Output, tc.wantOut)
			}
			for _, s := range tc.wantHas {
				if !bytes.Contains(res.Output, []byte(s)) {
					t.Errorf("Output %q lacks %q", res.Output, s)
				}
			}
			if tc.check != nil {
				tc.check(t, dir)
			}
		})
	}
}

func TestCommandRunTimeoutKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	// The shell records its own pid and its background child's, then waits in the foreground.
	cmd := ParseCommand(fmt.Sprintf("sleep 30 & echo $$ $! > %s; sleep 30", pidFile))
	start := time.Now()

	res, err := cmd.Run(t.Context(), 200*time.Millisecond, nil)

	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Run returned after %v, want about 200ms", elapsed)
	}
	if !errors.Is(err, ErrCommandTimeout) || !res.TimedOut {
		t.Fatalf("Run = %+v, %v; want a timeout", res, err)
	}
	if want := fmt.Sprintf("command %q: timed out after 200ms", cmd.String()); err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if res.ExitCode != -1 {
		t.Errorf("ExitCode = %d, want -1 (killed)", res.ExitCode)
	}
	for _, pid := range readPids(t, pidFile) {
		waitGone(t, pid)
	}
}

func TestCommandRunCancelKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	cmd := ParseCommand(fmt.Sprintf("sleep 30 & echo $$ $! > %s; sleep 30", pidFile))
	ctx, cancel := context.WithCancel(t.Context())
	timer := time.AfterFunc(200*time.Millisecond, cancel)
	t.Cleanup(func() { timer.Stop() })
	start := time.Now()

	res, err := cmd.Run(ctx, time.Minute, nil)

	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Run returned after %v, want about 200ms", elapsed)
	}
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrCommandTimeout) || res.TimedOut {
		t.Fatalf("Run = %+v, %v; want a cancellation", res, err)
	}
	for _, pid := range readPids(t, pidFile) {
		waitGone(t, pid)
	}
}

// A process that left the group keeps the pipes open after the kill; Run must not wait for it.
func TestCommandRunTimeoutWithEscapedChild(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid not installed")
	}
	pidFile := filepath.Join(t.TempDir(), "pids")
	cmd := ParseCommand(fmt.Sprintf("setsid sleep 30 & echo $! > %s; sleep 30", pidFile))
	start := time.Now()

	res, err := cmd.Run(t.Context(), 200*time.Millisecond, nil)

	for _, pid := range readPids(t, pidFile) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if elapsed := time.Since(start); elapsed > 200*time.Millisecond+commandWaitDelay+time.Second {
		t.Errorf("Run returned after %v", elapsed)
	}
	if !errors.Is(err, ErrCommandTimeout) || !res.TimedOut {
		t.Errorf("Run = %+v, %v; want a timeout", res, err)
	}
}

// A reload that starts a background process holding stdout still succeeds, after WaitDelay.
func TestCommandRunSuccessWithBackgroundChild(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	cmd := ParseCommand(fmt.Sprintf("sleep 30 & echo $! > %s; echo started", pidFile))
	start := time.Now()

	res, err := cmd.Run(t.Context(), 10*time.Second, nil)

	for _, pid := range readPids(t, pidFile) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if elapsed := time.Since(start); elapsed > commandWaitDelay+time.Second {
		t.Errorf("Run returned after %v", elapsed)
	}
	if err != nil || res.ExitCode != 0 || res.TimedOut {
		t.Fatalf("Run = %+v, %v; want success", res, err)
	}
	if !bytes.HasPrefix(res.Output, []byte("started\n")) || !bytes.Contains(res.Output, []byte("background process")) {
		t.Errorf("Output %q: want the command's output and a note", res.Output)
	}
}

func TestCommandRunOutputCapped(t *testing.T) {
	tests := []struct {
		name      string
		cmd       Command
		wantZeros int
		wantNotes []string
	}{
		{
			name:      "under the cap",
			cmd:       CommandFromList([]string{"head", "-c", "1000", "/dev/zero"}),
			wantZeros: 1000,
		},
		{
			name:      "stdout over the cap",
			cmd:       CommandFromList([]string{"head", "-c", "100000", "/dev/zero"}),
			wantZeros: maxStreamOutput,
			wantNotes: []string{"[ctpl: stdout truncated after 65536 bytes, 34464 more dropped]\n"},
		},
		{
			name:      "each stream capped",
			cmd:       ParseCommand("head -c 70000 /dev/zero; head -c 80000 /dev/zero >&2"),
			wantZeros: 2 * maxStreamOutput,
			wantNotes: []string{
				"[ctpl: stdout truncated after 65536 bytes, 4464 more dropped]\n",
				"[ctpl: stderr truncated after 65536 bytes, 14464 more dropped]\n",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.cmd.Run(t.Context(), 10*time.Second, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Count(res.Output, []byte{0}); got != tc.wantZeros {
				t.Errorf("kept %d bytes of output, want %d", got, tc.wantZeros)
			}
			// Notes start on a line of their own.
			notes := string(bytes.TrimLeft(res.Output, "\x00"))
			want := strings.Join(tc.wantNotes, "")
			if want != "" {
				want = "\n" + want
			}
			if notes != want {
				t.Errorf("notes %q, want %q", notes, want)
			}
		})
	}
}

func TestCommandRunZero(t *testing.T) {
	res, err := Command{}.Run(t.Context(), 0, nil)
	if err == nil || res.ExitCode != -1 {
		t.Errorf("Run = %+v, %v; want an error", res, err)
	}
}

// readPids reads the white-space separated pids a test command wrote.
func readPids(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading pids: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("pid %q: %v", f, err)
		}
		pids = append(pids, pid)
	}
	if len(pids) == 0 {
		t.Fatal("no pids written")
	}
	return pids
}

// waitGone fails the test unless pid has exited within a few seconds.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !processGone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d still running", pid)
			return
		}
		<-tick.C
	}
}

// processGone reports whether pid no longer runs. A killed orphan may linger as a zombie
// when the container's init does not reap, which counts as gone.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	// The state letter follows the parenthesised command name: "pid (comm) S ...".
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
