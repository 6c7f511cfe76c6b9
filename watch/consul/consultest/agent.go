package consultest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	readyTimeout = 30 * time.Second
	// requestTimeout bounds every helper's request; it lets a blocking
	// query wait up to a minute.
	requestTimeout = 70 * time.Second
	pollInterval   = 20 * time.Millisecond
	probeTimeout   = 2 * time.Second
	stopTimeout    = 5 * time.Second
	startAttempts  = 3
	logTailLines   = 60
)

// errPortTaken reports that the agent could not bind one of its ports,
// typically because another process took it after it was found free.
var errPortTaken = errors.New("port already in use")

// nodeSeq makes node names unique within the process.
var nodeSeq atomic.Uint64

// TB is the part of testing.TB the helpers use, so that programs such as
// the demo (tools/demo) can drive an agent outside a test.
type TB interface {
	Helper()
	Context() context.Context
	Cleanup(func())
	Failed() bool
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Skip(args ...any)
	TempDir() string
}

// Option configures an agent started by [Start].
type Option func(*options)

type options struct {
	hcl   []string
	https bool
}

// WithHCL passes extra agent configuration through -hcl, for example
// `limits { http_max_conns_per_client = 20 }`. It may be given several times.
func WithHCL(hcl string) Option {
	return func(o *options) { o.hcl = append(o.hcl, hcl) }
}

// WithHTTPS also serves the HTTP API over TLS on a free port, with a
// self-signed certificate for 127.0.0.1 and localhost; see [Agent.HTTPSURL]
// and [Agent.CAFile].
func WithHTTPS() Option {
	return func(o *options) { o.https = true }
}

// Agent is a Consul agent process owned by one test: a dev agent started by
// [Start], or a server or client agent of a [Cluster].
type Agent struct {
	bin     string
	node    string
	logPath string
	caFile  string // certificate and CA of the HTTPS listener; "" without one
	keyFile string
	opts    options
	member  *member // nil for a dev agent
	ports   ports
	client  *http.Client

	mu   sync.Mutex
	proc *process // nil when stopped
}

// process is one run of the agent binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd.Wait has returned
	err  error         // cmd.Wait's result, set before done is closed
}

type ports struct {
	http, https, dns, serfLAN, serfWAN, server int
}

// Start starts a Consul dev agent for the test and waits, up to 30 s, until
// it has a leader and accepts catalog writes. The agent is stopped when the
// test ends. Start skips the test when no Consul binary is found (see
// [Binary]) unless CTPL_REQUIRE_CONSUL=1.
func Start(t TB, opts ...Option) *Agent {
	t.Helper()
	bin := requireBinary(t)
	if bin == "" {
		return nil // reached only when t's Skip or Fatal does not stop the goroutine
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	a := newAgent(t, bin, fmt.Sprintf("consultest-%d-%d", os.Getpid(), nodeSeq.Add(1)), o, nil)
	// Cleanups run last-registered first: stop the agent, then print its
	// log, then remove its directory.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("consultest: last lines of the agent log %s:\n%s", a.logPath, a.logTail())
		}
	})
	t.Cleanup(a.Stop)
	began := time.Now()
	if err := a.startOnFreePorts(); err != nil {
		t.Fatalf("consultest: start agent %s: %v", a.node, err)
	}
	t.Logf("consultest: agent %s ready at %s in %s", a.node, a.URL(), time.Since(began).Round(time.Millisecond))
	return a
}

// newAgent prepares, without starting it, an agent with its own temporary
// directory (log, TLS files and, for a cluster member, its data directory).
func newAgent(t TB, bin, node string, o options, m *member) *Agent {
	t.Helper()
	a := &Agent{
		bin:    bin,
		node:   node,
		opts:   o,
		member: m,
		client: &http.Client{Timeout: requestTimeout},
	}
	dir := t.TempDir()
	a.logPath = filepath.Join(dir, "consul.log")
	if m != nil {
		m.dataDir = filepath.Join(dir, "data")
	}
	if o.https {
		var err error
		if a.caFile, a.keyFile, err = writeSelfSigned(dir); err != nil {
			t.Fatalf("consultest: %v", err)
		}
	}
	return a
}

// Addr returns the host:port of the agent's HTTP API.
func (a *Agent) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.ports.http))
}

// URL returns the base URL of the agent's HTTP API, without a trailing slash.
func (a *Agent) URL() string { return "http://" + a.Addr() }

// HTTPSURL returns the base URL of the agent's HTTPS API, or "" unless the
// agent was started [WithHTTPS] or in a cluster with [ClusterHTTPS].
func (a *Agent) HTTPSURL() string {
	if !a.opts.https {
		return ""
	}
	return "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(a.ports.https))
}

// CAFile returns the PEM file of the self-signed certificate the HTTPS API
// presents, to trust as a CA, or "" unless the agent serves HTTPS.
func (a *Agent) CAFile() string { return a.caFile }

// Node returns the name of the agent's own node.
func (a *Agent) Node() string { return a.node }

// PID returns the process ID of the agent's running process, or 0 when it
// is stopped. It lets a caller read the process's own accounting, e.g. its
// CPU time in /proc/<pid>/stat; the process is replaced by [Agent.Restart]
// and [Agent.StartAgain].
func (a *Agent) PID() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil {
		return 0
	}
	return a.proc.cmd.Process.Pid
}

// Token returns the ACL token the agent's helpers send as X-Consul-Token:
// the cluster's management token for an agent of a [Cluster], "" for a dev
// agent (which runs without ACLs).
func (a *Agent) Token() string {
	if a.member == nil {
		return ""
	}
	return a.member.token
}

// Stop stops the agent: SIGINT, then SIGKILL if it has not exited within
// 5 s. It waits for the process to be reaped and does nothing when the agent
// is already stopped. On SIGINT a client agent of a cluster leaves the
// cluster gracefully; a server does not (Consul's defaults).
func (a *Agent) Stop() { a.halt(stopTimeout) }

// Kill stops the agent at once with SIGKILL, as a crash would, and waits
// for the process to be reaped. It does nothing when the agent is already
// stopped.
func (a *Agent) Kill() { a.halt(0) }

// halt interrupts the agent and kills it if it has not exited after grace;
// with no grace it kills it at once.
func (a *Agent) halt(grace time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil {
		return
	}
	p := a.proc
	a.proc = nil
	if grace > 0 {
		_ = p.cmd.Process.Signal(os.Interrupt)
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-p.done:
			return
		case <-timer.C:
		}
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// running reports whether the agent's process is running.
func (a *Agent) running() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil {
		return false
	}
	select {
	case <-a.proc.done:
		return false
	default:
		return true
	}
}

// Restart stops the agent and starts it again on the same ports and node
// name, waiting until it is ready. A dev agent keeps no data across the
// restart: its catalog and KV store start empty. An agent of a cluster keeps
// its data directory, as with [Agent.StartAgain].
func (a *Agent) Restart(t TB) {
	t.Helper()
	a.Stop()
	if err := a.start(); err != nil {
		t.Fatalf("consultest: restart agent %s: %v", a.node, err)
	}
}

// StartAgain starts a stopped agent (see [Agent.Stop] and [Agent.Kill])
// again with the same ports, node name and data directory, and waits until
// it is ready: a server keeps its Raft data and rejoins its cluster. Ready
// includes knowing a leader, so a server that cannot form a quorum with
// the servers already running (say the first of three restarted after all
// were stopped) fails the test after 30 s. It fails the test when the
// agent is running.
func (a *Agent) StartAgain(t TB) {
	t.Helper()
	if err := a.start(); err != nil {
		t.Fatalf("consultest: start agent %s again: %v", a.node, err)
	}
}

// startOnFreePorts starts the agent on a.ports, picked now unless they are
// already set, and on new ports when another process took one of them.
func (a *Agent) startOnFreePorts() error {
	err := errPortTaken
	for attempt := 1; attempt <= startAttempts && errors.Is(err, errPortTaken); attempt++ {
		if attempt > 1 || a.ports == (ports{}) {
			if a.ports, err = pickPorts(); err != nil {
				return err
			}
		}
		err = a.start()
	}
	return err
}

// start runs the agent binary on a.ports and waits until it is ready.
func (a *Agent) start() error {
	p, offset, err := a.launch()
	if err != nil {
		return err
	}
	if err := a.waitReady(p); err != nil {
		a.Stop()
		if logContains(a.logPath, offset, "address already in use") {
			return fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return err
	}
	return nil
}

// launch starts the agent process with its output appended to the log, and
// returns it with the log offset its output starts at.
func (a *Agent) launch() (*process, int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc != nil {
		return nil, 0, errors.New("agent is already running")
	}
	logf, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, fmt.Errorf("open agent log: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	offset, err := logf.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, 0, fmt.Errorf("open agent log: %w", err)
	}
	args := a.args()
	fmt.Fprintf(logf, "=== consultest: %s %s\n", a.bin, strings.Join(args, " "))
	cmd := exec.Command(a.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("run %s: %w", a.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	a.proc = p
	return p, offset, nil
}

// args returns the command line of the agent: `agent -dev` for a dev agent,
// the member's mode, data directory, join addresses and ACLs for an agent
// of a cluster (see [member.args]).
func (a *Agent) args() []string {
	p := a.ports
	args := append([]string{"agent"}, a.member.args()...)
	args = append(args,
		"-bind=127.0.0.1", "-client=127.0.0.1",
		"-node="+a.node,
		"-log-level=warn",
		"-http-port="+strconv.Itoa(p.http),
		"-dns-port="+strconv.Itoa(p.dns),
		"-serf-lan-port="+strconv.Itoa(p.serfLAN),
		"-serf-wan-port="+strconv.Itoa(p.serfWAN),
		"-server-port="+strconv.Itoa(p.server),
		// A dev agent listens on gRPC 8502 and gRPC-TLS 8503 by default;
		// both fixed ports would collide between parallel agents. Client
		// agents stream from servers over the server RPC port, not these.
		"-grpc-port=-1", "-grpc-tls-port=-1",
		"-hcl=disable_update_check = true",
	)
	args = append(args, a.member.hcl()...)
	if a.opts.https {
		args = append(args, "-https-port="+strconv.Itoa(p.https), fmt.Sprintf(
			"-hcl=tls { https { ca_file = %q cert_file = %q key_file = %q } }",
			a.caFile, a.caFile, a.keyFile))
	}
	for _, h := range a.opts.hcl {
		args = append(args, "-hcl="+h)
	}
	return args
}

// waitReady polls the agent until it is ready, it exits or readyTimeout
// passes.
func (a *Agent) waitReady(p *process) error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		err := a.ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("agent exited before it was ready (%v): last probe: %w", p.err, err)
		case <-ctx.Done():
			return fmt.Errorf("agent not ready after %s: %w", readyTimeout, err)
		case <-tick.C:
		}
	}
}

// logTail returns the last lines of the agent log.
func (a *Agent) logTail() string {
	data, err := os.ReadFile(a.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read agent log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return strings.Join(lines, "\n")
}

// logContains reports whether the log, from offset on, contains s.
func logContains(path string, offset int64, s string) bool {
	data, err := os.ReadFile(path)
	if err != nil || offset > int64(len(data)) {
		return false
	}
	return bytes.Contains(data[offset:], []byte(s))
}
