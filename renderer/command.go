package renderer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/ctpl/ctpl/supervise"
)

const (
	// DefaultCommandTimeout bounds a command run with a zero timeout.
	DefaultCommandTimeout = 30 * time.Second
	// StagedPlaceholder is the list-form argument WithStaged replaces with a staged file's path.
	StagedPlaceholder = "{{.Staged}}"
	// StagedEnv names the environment variable through which callers give a shell-form check
	// command the staged file's path (WithStaged cannot edit a shell script).
	StagedEnv = "CTPL_STAGED"

	// maxStreamOutput caps how much of each of stdout and stderr a result keeps.
	maxStreamOutput = 64 << 10
	// commandWaitDelay is how long Run keeps reading output after the command exits or is
	// killed before it closes the pipes that a background process may still hold.
	commandWaitDelay = time.Second
)

// ErrCommandTimeout is wrapped by the error of a command killed because it ran past its timeout.
var ErrCommandTimeout = errors.New("timed out")

// Command is a program to run after a render: one string (run through `sh -c` when it contains
// white space, as consul-template does, else executed directly) or an argv list run directly.
//
// In shell form Args holds the script as its only element (further elements become $0, $1, …).
type Command struct {
	Args  []string
	Shell bool
	// Env is the environment the command starts from. Nil is ctpl's own
	// without the Consul token (CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE)
	// and systemd's variables (NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*), as the
	// exec child gets it (supervise.Env); a command needing the token is
	// given an Env that has it (commands_pass_consul_token).
	Env []string
}

// CommandResult is what a finished command left behind.
type CommandResult struct {
	// Output interleaves stdout and stderr, each capped at 64 KiB; a bracketed line at the end
	// notes any truncation.
	Output []byte
	// ExitCode is the exit status, or -1 when the command did not start or was killed by a signal.
	ExitCode int
	// Duration is the wall time from start until Run returned.
	Duration time.Duration
	// TimedOut is set when the command was killed for running past its timeout.
	TimedOut bool
}

// ParseCommand returns the command for the string form s: a shell command when s contains
// white space, else a program run directly. An empty or blank s gives the zero Command.
func ParseCommand(s string) Command {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Command{}
	case strings.ContainsFunc(s, unicode.IsSpace):
		return Command{Args: []string{s}, Shell: true}
	default:
		return Command{Args: []string{s}}
	}
}

// CommandFromList returns the command for the list form: args[0] run directly with the rest as
// its arguments, each kept whole. An empty list gives the zero Command.
func CommandFromList(args []string) Command {
	if len(args) == 0 {
		return Command{}
	}
	return Command{Args: slices.Clone(args)}
}

// String returns the command as a shell would read it: the script itself in shell form, the
// arguments quoted where needed in list form. Two commands with the same String do the same
// thing, so callers run identical commands once.
func (c Command) String() string {
	if c.Shell && len(c.Args) > 0 {
		return strings.Join(append([]string{c.Args[0]}, quoteArgs(c.Args[1:])...), " ")
	}
	return strings.Join(quoteArgs(c.Args), " ")
}

// IsZero reports whether c has nothing to run.
func (c Command) IsZero() bool {
	return len(c.Args) == 0
}

// WithStaged returns a copy of c in which every list-form argument equal to StagedPlaceholder
// is replaced by path. A shell-form command is returned unchanged: the caller passes the path
// to it as the environment variable StagedEnv instead.
func (c Command) WithStaged(path string) Command {
	out := Command{Args: slices.Clone(c.Args), Shell: c.Shell}
	if c.Shell {
		return out
	}
	for i, a := range out.Args {
		if a == StagedPlaceholder {
			out.Args[i] = path
		}
	}
	return out
}

// Run runs the command with a timeout (0 → DefaultCommandTimeout) and env added to its
// environment (c.Env, by default ctpl's without the Consul token). The process gets its own process group; on timeout or ctx
// cancellation the whole group is killed with SIGKILL and Run returns promptly, even if a
// process that escaped the group holds the output pipes. A command that exits successfully
// while a background child keeps its pipes open succeeds once the pipes are closed after a
// short delay.
//
// The error wraps *exec.ExitError for a non-zero exit, ErrCommandTimeout for a timeout, and
// ctx's error for a cancellation. The result is filled in either way.
func (c Command) Run(ctx context.Context, timeout time.Duration, env []string) (CommandResult, error) {
	if c.IsZero() {
		return CommandResult{ExitCode: -1}, errors.New("command: nothing to run")
	}
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	runCtx, cancel := context.WithTimeoutCause(ctx, timeout, ErrCommandTimeout)
	defer cancel()

	cmd := c.newCmd(runCtx, env)
	out := &commandOutput{}
	cmd.Stdout = out.stream("stdout")
	cmd.Stderr = out.stream("stderr")

	start := time.Now()
	err := cmd.Run()
	res := CommandResult{Duration: time.Since(start), ExitCode: -1}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}

	switch {
	case err == nil:
	case errors.Is(context.Cause(runCtx), ErrCommandTimeout):
		res.TimedOut = true
		err = fmt.Errorf("command %q: %w after %s", c.String(), ErrCommandTimeout, timeout)
	case ctx.Err() != nil:
		err = fmt.Errorf("command %q: %w", c.String(), ctx.Err())
	case errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success():
		out.note(fmt.Sprintf("output pipes still held by a background process; stopped reading after %s", commandWaitDelay))
		err = nil
	default:
		err = fmt.Errorf("command %q: %w", c.String(), err)
	}
	res.Output = out.bytes()
	return res, err
}

// newCmd prepares the process: own process group, group-wide SIGKILL on cancellation.
func (c Command) newCmd(ctx context.Context, env []string) *exec.Cmd {
	var cmd *exec.Cmd
	if c.Shell {
		cmd = exec.CommandContext(ctx, "sh", append([]string{"-c"}, c.Args...)...)
	} else {
		cmd = exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	}
	base := c.Env
	if base == nil {
		base = supervise.Env(supervise.EnvOptions{}, os.Environ())
	}
	cmd.Env = append(slices.Clip(base), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The child leads its group, so its pid is the group id.
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
	cmd.WaitDelay = commandWaitDelay
	return cmd
}

// commandOutput collects both output streams in arrival order.
type commandOutput struct {
	mu      sync.Mutex
	buf     []byte
	streams []*outputStream
	notes   []string
}

// stream returns a writer for the named stream that appends to o.
func (o *commandOutput) stream(name string) *outputStream {
	s := &outputStream{out: o, name: name}
	o.streams = append(o.streams, s)
	return s
}

// note adds a line to print after the output.
func (o *commandOutput) note(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.notes = append(o.notes, s)
}

// bytes returns the output followed by one bracketed line per truncated stream and per note.
func (o *commandOutput) bytes() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	var notes []string
	for _, s := range o.streams {
		if s.dropped > 0 {
			notes = append(notes, fmt.Sprintf("%s truncated after %d bytes, %d more dropped", s.name, s.kept, s.dropped))
		}
	}
	out := slices.Clone(o.buf)
	for _, n := range append(notes, o.notes...) {
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, "[ctpl: "+n+"]\n"...)
	}
	return out
}

// outputStream is one of stdout and stderr: it keeps the first maxStreamOutput bytes and
// discards (while still accepting) the rest, so the command never blocks on a full pipe.
type outputStream struct {
	out     *commandOutput
	name    string
	kept    int
	dropped int
}

// Write appends what fits under the cap and reports all of p as written.
func (s *outputStream) Write(p []byte) (int, error) {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	keep := min(len(p), maxStreamOutput-s.kept)
	s.out.buf = append(s.out.buf, p[:keep]...)
	s.kept += keep
	s.dropped += len(p) - keep
	return len(p), nil
}

// quoteArgs quotes each argument for sh where it would otherwise not stay one literal word.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return out
}

// shellQuote returns a unchanged when it is a plain word, else single-quoted.
func shellQuote(a string) string {
	plain := a != "" && !strings.ContainsFunc(a, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("_@%+=:,./-", r))
	})
	if plain {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}
