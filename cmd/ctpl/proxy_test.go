package main

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy modes.
const (
	proxyPass      = "pass"      // forward both ways
	proxyStall     = "stall"     // hold every byte until the mode changes
	proxyReset     = "reset"     // reset open connections and every new one
	proxyBlackhole = "blackhole" // accept and read, forward nothing, answer nothing
)

// faultProxy is a TCP proxy between ctpl and Consul that injects network
// faults into live and new connections.
type faultProxy struct {
	l      net.Listener
	target string

	mu    sync.Mutex
	cond  *sync.Cond
	mode  string
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startProxy forwards a local port to target until the test ends.
func startProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{l: l, target: target, mode: proxyPass, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *faultProxy) Addr() string { return p.l.Addr().String() }

// set switches the mode; reset resets every open connection at once.
func (p *faultProxy) set(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	if mode == proxyReset {
		for c := range p.conns {
			resetConn(c)
		}
	}
	p.cond.Broadcast()
}

func (p *faultProxy) close() {
	p.l.Close()
	p.set(proxyReset)
	p.wg.Wait()
}

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.mu.Unlock()
		if mode == proxyReset {
			resetConn(c)
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve pipes c to the target through the fault gate.
func (p *faultProxy) serve(c net.Conn) {
	defer p.wg.Done()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		resetConn(c)
		return
	}
	if !p.track(c, up) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(up, c) }()
	go func() { defer wg.Done(); p.pipe(c, up) }()
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// track registers a connection pair, or resets it when the proxy resets.
func (p *faultProxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == proxyReset {
		resetConn(c)
		resetConn(up)
		return false
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	return true
}

// pipe copies src to dst chunk by chunk, asking the gate about each.
func (p *faultProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			switch p.gate() {
			case proxyReset:
				return
			case proxyBlackhole:
				continue // swallowed
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				resetConn(dst)
			}
			return
		}
	}
}

// gate waits while the proxy stalls and returns the mode that applies.
func (p *faultProxy) gate() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.mode == proxyStall {
		p.cond.Wait()
	}
	return p.mode
}

// resetConn closes c with an RST instead of a FIN.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
