package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

func main() {
	d := &demo{}
	code := 0
	if err := d.run(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		code = 1
	}
	d.cleanup()
	os.Exit(code)
}

func (d *demo) run() error {
	step("starting a dev Consul agent on loopback (bin/consul)")
	agent := consultest.Start(d)
	for i, port := range []int{8081, 8082, 8083} {
		id := fmt.Sprintf("web-%d", i+1)
		agent.RegisterService(d, consultest.Service{
			Node: "node-" + id, Address: fmt.Sprintf("10.0.0.%d", i+1), ID: id, Name: "web", Port: port,
			Tags: []string{"http"}, Checks: []consultest.Check{{CheckID: "health-" + id, ServiceID: id}},
		})
	}
	agent.RegisterService(d, consultest.Service{Node: "node-api", Address: "10.0.1.1", Name: "api", Port: 9000, Tags: []string{"http"}})
	step("registered web-1, web-2, web-3 and api, all healthy")

	dir := d.TempDir()
	out := filepath.Join(dir, "upstreams.conf")
	step("running bin/ctpl -consul-addr " + agent.Addr() + " -template examples/nginx/upstreams.tmpl:" + out)
	ctpl := exec.Command("bin/ctpl", "-consul-addr", agent.Addr(),
		"-template", "examples/nginx/upstreams.tmpl:"+out+":echo '   (reload command ran: nginx -s reload would go here)'")
	ctpl.Stdout, ctpl.Stderr = os.Stdout, os.Stderr
	if err := ctpl.Start(); err != nil {
		return fmt.Errorf("start ctpl: %w", err)
	}
	d.Cleanup(func() { _ = ctpl.Process.Signal(syscall.SIGTERM); _ = ctpl.Wait() })

	first, err := waitChange(out, "")
	if err != nil {
		return err
	}
	show(out, first)

	step("web-2 fails its health check")
	began := time.Now()
	agent.SetCheck(d, "node-web-2", "health-web-2", "web-2", "critical")
	second, err := waitChange(out, first)
	if err != nil {
		return err
	}
	step(fmt.Sprintf("ctpl rewrote the file %v after the check failed:", time.Since(began).Round(time.Millisecond)))
	diff(first, second)

	step("web-2 recovers")
	agent.SetCheck(d, "node-web-2", "health-web-2", "web-2", "passing")
	third, err := waitChange(out, second)
	if err != nil {
		return err
	}
	diff(second, third)
	step("done: stopping ctpl and Consul, removing " + dir)
	return nil
}

// waitChange polls path until its content differs from old.
func waitChange(path, old string) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && string(b) != old {
			return string(b), nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "", fmt.Errorf("%s did not change within 10 s", path)
}

func step(msg string) { fmt.Printf("\n==> %s\n", msg) }

func show(path, content string) {
	fmt.Printf("\n--- %s\n%s\n", path, content)
}

// diff prints the lines removed and added between two renders.
func diff(before, after string) {
	in := func(s string, lines []string) bool {
		for _, l := range lines {
			if l == s {
				return true
			}
		}
		return false
	}
	a, b := strings.Split(before, "\n"), strings.Split(after, "\n")
	for _, l := range a {
		if !in(l, b) {
			fmt.Printf("  - %s\n", l)
		}
	}
	for _, l := range b {
		if !in(l, a) {
			fmt.Printf("  + %s\n", l)
		}
	}
}

// demo is a consultest.TB for a program: it keeps temp dirs and cleanups and
// turns a fatal error into an exit.
type demo struct {
	cleanups []func()
	failed   bool
}

func (d *demo) Helper()                  {}
func (d *demo) Context() context.Context { return context.Background() }
func (d *demo) Cleanup(f func())         { d.cleanups = append(d.cleanups, f) }
func (d *demo) Failed() bool             { return d.failed }
func (d *demo) Logf(string, ...any)      {}

func (d *demo) Fatalf(format string, args ...any) {
	d.failed = true
	fmt.Fprintf(os.Stderr, "demo: "+format+"\n", args...)
	d.cleanup()
	os.Exit(1)
}

func (d *demo) Skip(args ...any) { d.Fatalf("%s", fmt.Sprint(args...)) }

func (d *demo) TempDir() string {
	dir, err := os.MkdirTemp("", "ctpl-demo-")
	if err != nil {
		d.Fatalf("%v", err)
	}
	d.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (d *demo) cleanup() {
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		d.cleanups[i]()
	}
	d.cleanups = nil
}
