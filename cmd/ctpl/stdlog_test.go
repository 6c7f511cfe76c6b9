package main

import (
	"log"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestStdLogGoesThroughTheLogger: a line Go's standard library prints (as
// net/http does when Consul refuses a pooled connection) is a structured
// record of the daemon's log, in its format, not a bare line.
func TestStdLogGoesThroughTheLogger(t *testing.T) {
	agent := consultest.Start(t)
	agent.PutKV(t, "v", "1")
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), `v={{ key "v" }}`)
	out := filepath.Join(dir, "out")
	d := startDaemon(t, "-consul-addr", agent.Addr(), "-log-format", "json", "-template", tmpl+":"+out)
	testkit.WaitFor(t, 10*time.Second, "the render", contains(out, "v=1"))
	for range 3 { // one per refused connection: one is enough
		log.Print("Unsolicited response received on idle HTTP channel starting with \"HTTP/1.1 429\"")
	}
	want := `"level":"WARN","msg":"message from a Go library","message":"Unsolicited response received on idle HTTP channel starting with \"HTTP/1.1 429\""}`
	if n := strings.Count(d.stderr.String(), want); n != 1 {
		t.Errorf("the line is %d records of the log at WARN, want 1; log:\n%s", n, d.stderr)
	}
	d.running(t)
}
