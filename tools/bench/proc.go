package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one run of a tool, sampled for connections while it runs.
type proc struct {
	cmd     *exec.Cmd
	logPath string
	started time.Time
	done    chan struct{}
	ports   []int // Consul ports whose connections are counted

	mu       sync.Mutex
	maxConns int
	stop     chan struct{}
	wg       sync.WaitGroup
}

// startProc runs bin with args, its output in logPath.
func startProc(bin string, args []string, logPath string, ports []int) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &proc{cmd: cmd, logPath: logPath, done: make(chan struct{}), stop: make(chan struct{}), ports: ports}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	p.wg.Go(p.sample)
	return p, nil
}

// sample records the most connections to p.ports at once; without ports
// (the fleet samples all its processes together) it does nothing.
func (p *proc) sample() {
	if len(p.ports) == 0 {
		return
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.done:
			return
		case <-t.C:
			n := tcpConns(p.cmd.Process.Pid, p.ports)
			p.mu.Lock()
			p.maxConns = max(p.maxConns, n)
			p.mu.Unlock()
		}
	}
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// finish stops the tool with sig (SIGKILL after 10 s) and the sampler.
func (p *proc) finish(sig syscall.Signal) {
	close(p.stop)
	p.wg.Wait()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // reload commands left behind
}

func (p *proc) peakConns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxConns
}

// cpu returns the tool's user+system CPU time so far.
func (p *proc) cpu() time.Duration { return pidCPU(p.cmd.Process.Pid) }

// pidCPU returns a process's user+system CPU time so far, 0 when it cannot
// be read (the process is gone).
func pidCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// peakRSS returns the tool's peak resident set size in bytes.
func (p *proc) peakRSS() int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// count429 counts the log lines that mention a 429 answer.
func (p *proc) count429() int {
	b, _ := os.ReadFile(p.logPath)
	n := 0
	for line := range bytes.Lines(b) {
		if bytes.Contains(line, []byte("Too Many Requests")) || bytes.Contains(line, []byte("code: 429")) ||
			bytes.Contains(line, []byte("too many concurrent connections")) {
			n++
		}
	}
	return n
}

// tcpConns counts the established TCP connections of pid to any of ports.
func tcpConns(pid int, ports []int) int {
	want := map[int]bool{}
	for _, p := range ports {
		want[p] = true
	}
	inodes := socketInodes(pid)
	n := 0
	for _, c := range establishedTCP() {
		if want[c.rport] && inodes[c.inode] {
			n++
		}
	}
	return n
}

// socketInodes returns the inodes of pid's open sockets.
func socketInodes(pid int) map[string]bool {
	inodes := map[string]bool{}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	return inodes
}

// tcpConn is one established TCP connection: its remote port and its
// socket's inode.
type tcpConn struct {
	rport int
	inode string
}

// establishedTCP lists the machine's established TCP connections.
func establishedTCP() []tcpConn {
	var out []tcpConn
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "01" {
				continue
			}
			_, rport, _ := strings.Cut(f[2], ":")
			if port, err := strconv.ParseInt(rport, 16, 32); err == nil {
				out = append(out, tcpConn{int(port), f[9]})
			}
		}
	}
	return out
}

// tail returns the last n bytes of the tool's log.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	return string(b[max(0, len(b)-n):])
}
