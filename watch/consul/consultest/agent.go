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

// Environment variables read by [Binary] and [Start].
const (
	// EnvBinary names the Consul binary to run, overriding bin/consul.
	EnvBinary = "CTPL_CONSUL_BIN"
	// EnvRequire, set to "1", makes a missing binary fail the test instead
	// of skipping it.
	EnvRequire = "CTPL_REQUIRE_CONSUL"
)

const (
	modulePath   = "github.com/ctpl/ctpl"
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

// Binary returns the path of the Consul binary tests run: $CTPL_CONSUL_BIN
// when it is set, otherwise bin/consul at the repository root. The error says
// why no binary is available.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%s: %w", EnvBinary, err)
		}
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "bin", "consul")
	if err := checkExecutable(p); err != nil {
		return "", err
	}
	return p, nil
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// repoRoot walks up from the working directory to the directory whose go.mod
// declares this module.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for dir := wd; ; {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && moduleLine(data) == modulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repository root: no go.mod for module %s above %s", modulePath, wd)
		}
		dir = parent
	}
}

// moduleLine returns the module path declared in a go.mod file.
func moduleLine(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// requireBinary returns the Consul binary, or skips the test (fails it when
// EnvRequire is "1") and returns "" when there is none.
func requireBinary(t TB) string {
	t.Helper()
	bin, err := Binary()
	if err == nil {
		return bin
	}
	msg := fmt.Sprintf("consultest: no Consul binary (%v); build it with `make consul` "+
		"at the repository root, or set %s to a Consul binary", err, EnvBinary)
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s [%s=1 makes this a failure]", msg, EnvRequire)
	} else {
		t.Skip(msg)
	}
	return ""
}

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

// Agent is a `consul agent -dev` process owned by one test.
type Agent struct {
	bin     string
	node    string
	logPath string
	caFile  string // certificate and CA of the HTTPS listener; "" without one
	keyFile string
	opts    options
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
	a := &Agent{
		bin:    bin,
		node:   fmt.Sprintf("consultest-%d-%d", os.Getpid(), nodeSeq.Add(1)),
		client: &http.Client{Timeout: requestTimeout},
	}
	for _, opt := range opts {
		opt(&a.opts)
	}
	dir := t.TempDir()
	a.logPath = filepath.Join(dir, "consul.log")
	if a.opts.https {
		var err error
		if a.caFile, a.keyFile, err = writeSelfSigned(dir); err != nil {
			t.Fatalf("consultest: %v", err)
		}
	}
	// Cleanups run last-registered first: stop the agent, then print its
	// log, then remove dir.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("consultest: last lines of the agent log %s:\n%s", a.logPath, a.logTail())
		}
	})
	t.Cleanup(a.Stop)
	began := time.Now()
	err := errPortTaken
	for attempt := 1; attempt <= startAttempts && errors.Is(err, errPortTaken); attempt++ {
		if a.ports, err = pickPorts(); err != nil {
			t.Fatalf("consultest: %v", err)
		}
		err = a.start()
	}
	if err != nil {
		t.Fatalf("consultest: start agent %s: %v", a.node, err)
	}
	t.Logf("consultest: agent %s ready at %s in %s", a.node, a.URL(), time.Since(began).Round(time.Millisecond))
	return a
}

// Addr returns the host:port of the agent's HTTP API.
func (a *Agent) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.ports.http))
}

// URL returns the base URL of the agent's HTTP API, without a trailing slash.
func (a *Agent) URL() string { return "http://" + a.Addr() }

// HTTPSURL returns the base URL of the agent's HTTPS API, or "" unless the
// agent was started [WithHTTPS].
func (a *Agent) HTTPSURL() string {
	if !a.opts.https {
		return ""
	}
	return "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(a.ports.https))
}

// CAFile returns the PEM file of the self-signed certificate the HTTPS API
// presents, to trust as a CA, or "" unless the agent was started [WithHTTPS].
func (a *Agent) CAFile() string { return a.caFile }

// Node returns the name of the agent's own node.
func (a *Agent) Node() string { return a.node }

// Stop stops the agent: SIGINT, then SIGKILL if it has not exited within
// 5 s. It waits for the process to be reaped and does nothing when the agent
// is already stopped.
func (a *Agent) Stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil {
		return
	}
	p := a.proc
	a.proc = nil
	_ = p.cmd.Process.Signal(os.Interrupt)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return
	case <-timer.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Restart stops the agent and starts it again on the same ports and node
// name, waiting until it is ready. A dev agent keeps no data across the
// restart: its catalog and KV store start empty.
func (a *Agent) Restart(t TB) {
	t.Helper()
	a.Stop()
	if err := a.start(); err != nil {
		t.Fatalf("consultest: restart agent %s: %v", a.node, err)
	}
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

// args returns the command line of the agent.
func (a *Agent) args() []string {
	p := a.ports
	args := []string{
		"agent", "-dev",
		"-bind=127.0.0.1", "-client=127.0.0.1",
		"-node=" + a.node,
		"-log-level=warn",
		"-http-port=" + strconv.Itoa(p.http),
		"-dns-port=" + strconv.Itoa(p.dns),
		"-serf-lan-port=" + strconv.Itoa(p.serfLAN),
		"-serf-wan-port=" + strconv.Itoa(p.serfWAN),
		"-server-port=" + strconv.Itoa(p.server),
		// A dev agent listens on gRPC 8502 and gRPC-TLS 8503 by default;
		// both fixed ports would collide between parallel agents.
		"-grpc-port=-1", "-grpc-tls-port=-1",
		"-hcl=disable_update_check = true",
	}
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
