package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// ciData is a small data file: web has two healthy instances and one
// failing; app/name is a key.
const ciData = `version: 1
nodes:
  - {name: n1, address: 10.0.0.1}
  - {name: n2, address: 10.0.0.2}
services:
  - name: web
    instances:
      - {id: web-1, node: n1, port: 80, tags: [http]}
      - {id: web-2, node: n2, port: 80, tags: [http]}
      - id: web-3
        node: n2
        port: 81
        checks: [{id: web-3-http, status: critical}]
kv:
  app/name: shop
  app/retired: ~
`

// ciTemplate renders web's healthy instances and app/name.
const ciTemplate = `{{ key "app/name" }}:{{ range service "web" }} {{ .Address }}:{{ .Port }}{{ end }}
`

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// garbageServer returns the address of a listener that answers every
// connection with bytes that are neither TLS nor HTTP.
func garbageServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("garbage\r\n\r\n"))
			c.Close()
		}
	}()
	return l.Addr().String()
}

func runCtpl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut syncBuffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestExitCodes runs ctpl -once in each way it can end, with no Consul
// (an address nothing listens on) except where data must never arrive.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "data.yaml"), ciData)
	good := writeFile(t, filepath.Join(dir, "good.tmpl"), ciTemplate)
	failing := writeFile(t, filepath.Join(dir, "failing.tmpl"), `{{ index (service "web") 7 }}`)
	lacking := writeFile(t, filepath.Join(dir, "lacking.tmpl"), `{{ range service "db" }}{{ .ID }}{{ end }}{{ key "app/name" }}`)
	absent := writeFile(t, filepath.Join(dir, "absent.tmpl"), `{{ key "app/name" }}{{ key "app/retired" }}`)
	out := filepath.Join(dir, "out")
	noConsul := closedAddr(t)
	notTLS := garbageServer(t)
	acl := consultest.StartCluster(t, consultest.Servers(1), consultest.Clients(1)).Clients()[0] // ACLs on, default deny
	tests := []struct {
		name     string
		args     []string
		want     int
		inStderr string
		maxTime  time.Duration
		wantOut  string
	}{
		{name: "offline render", args: []string{"-once", "-data", data, "-template", good + ":" + out}, want: exitOK,
			wantOut: "shop: 10.0.0.1:80 10.0.0.2:80\n"},
		{name: "offline template fails", args: []string{"-once", "-data", data, "-template", failing + ":" + out},
			want: exitRunner, inStderr: "index out of range"},
		{name: "offline query the file lacks", args: []string{"-once", "-data", data, "-template", lacking + ":" + out},
			want: exitNoData, inStderr: "health.service(db)"},
		{name: "offline lacking query empty", args: []string{"-once", "-data", data, "-data-missing", "empty",
			"-template", lacking + ":" + out}, want: exitOK},
		{name: "offline key that does not exist", args: []string{"-once", "-data", data, "-template", absent + ":" + out},
			want: exitNoData, inStderr: "kv.get(app/retired): the template waits for it"},
		{name: "bad -data-missing", args: []string{"-once", "-data", data, "-data-missing", "guess",
			"-template", good + ":" + out}, want: exitFlags},
		{name: "-data without -once", args: []string{"-data", data, "-template", good + ":" + out}, want: exitFlags},
		{name: "Consul unreachable", args: []string{"-once", "-consul-addr", noConsul, "-once-connect-timeout", "500ms",
			"-template", good + ":" + out}, want: exitUnreachable, inStderr: "Consul is unreachable", maxTime: 5 * time.Second},
		{name: "TLS handshake fails", args: []string{"-once", "-consul-addr", "https://" + notTLS, "-once-connect-timeout", "300ms",
			"-template", good + ":" + out}, want: exitUnreachable, inStderr: "Consul is unreachable", maxTime: 5 * time.Second},
		{name: "a token Consul does not know", args: []string{"-once", "-consul-addr", acl.Addr(), "-consul-token", "00000000-0000-4000-8000-000000000000", "-once-timeout", "5s",
			"-template", good + ":" + out}, want: exitTokenUnknown, inStderr: "Consul does not know the ACL token", maxTime: 10 * time.Second},
		{name: "unresolvable name", args: []string{"-once", "-consul-addr", "consul.invalid:8500", "-once-connect-timeout", "300ms",
			"-template", good + ":" + out}, want: exitUnreachable, inStderr: "Consul is unreachable", maxTime: 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(out)
			start := time.Now()
			code, _, stderr := runCtpl(t, tc.args...)
			took := time.Since(start)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.want, stderr)
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("stderr does not say %q:\n%s", tc.inStderr, stderr)
			}
			if tc.maxTime > 0 && took > tc.maxTime {
				t.Errorf("took %v, want at most %v", took, tc.maxTime)
			}
			b, err := os.ReadFile(out)
			switch {
			case tc.want == exitOK && err != nil:
				t.Errorf("nothing written: %v", err)
			case tc.want != exitOK && err == nil:
				t.Errorf("wrote %q though it failed", b)
			case tc.wantOut != "" && string(b) != tc.wantOut:
				t.Errorf("wrote %q, want %q", b, tc.wantOut)
			}
		})
	}
}

func TestOfflineRenderValues(t *testing.T) {
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "data.yaml"), ciData)
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), ciTemplate)
	code, stdout, stderr := runCtpl(t, "-once", "-dry", "-data", data, "-template", tmpl+":"+filepath.Join(dir, "out"))
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if want := "shop: 10.0.0.1:80 10.0.0.2:80\n"; !strings.Contains(stdout, want) {
		t.Errorf("-dry printed %q, want it to hold %q", stdout, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("-dry wrote the destination")
	}
}

// TestCheck: every error at once, each located; JSON for annotations;
// -parse-only as its alias.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.tmpl"), ciTemplate)
	badSyntax := writeFile(t, filepath.Join(dir, "syntax.tmpl"), "ok\n{{ range service \"web\" }}\n")
	badQuery := writeFile(t, filepath.Join(dir, "query.tmpl"), "line one\n  {{ service \"web|sick\" }}\n")
	unknown := writeFile(t, filepath.Join(dir, "unknown.tmpl"), "{{ vault \"secret/x\" }}")
	denied := writeFile(t, filepath.Join(dir, "denied.tmpl"), `{{ plugin "touch" "/tmp/x" }}`)
	args := []string{"-template", good + ":" + filepath.Join(dir, "a"), "-template", badSyntax + ":" + filepath.Join(dir, "b"),
		"-template", badQuery + ":" + filepath.Join(dir, "c"), "-template", unknown + ":" + filepath.Join(dir, "d"),
		"-template", denied + ":" + filepath.Join(dir, "e")}

	code, stdout, _ := runCtpl(t, append([]string{"check", "-format", "json"}, args...)...)
	if code != exitConfig {
		t.Fatalf("check exited %d, want %d:\n%s", code, exitConfig, stdout)
	}
	var rep checkReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("-format json: %v\n%s", err, stdout)
	}
	wantFiles := map[string]bool{badSyntax: false, badQuery: false, unknown: false, denied: false}
	for _, e := range rep.Errors {
		if _, ok := wantFiles[e.File]; ok && e.Line > 0 {
			wantFiles[e.File] = true
		}
		if e.File == badQuery && (e.Line != 2 || e.Col == 0 || !strings.Contains(e.Message, "sick")) {
			t.Errorf("the query error is not at 2:col naming the status: %+v", e)
		}
	}
	for f, seen := range wantFiles {
		if !seen {
			t.Errorf("no located error for %s in %+v", f, rep.Errors)
		}
	}
	code, stdout, _ = runCtpl(t, append([]string{"-parse-only"}, args...)...)
	if code != exitConfig || !strings.Contains(stdout, badQuery+":2:") {
		t.Errorf("-parse-only exited %d, want %d with the same report:\n%s", code, exitConfig, stdout)
	}
	code, stdout, _ = runCtpl(t, "check", "-template", good+":"+filepath.Join(dir, "a"))
	if code != exitOK || !strings.Contains(stdout, "ok") {
		t.Errorf("check of a good template exited %d:\n%s", code, stdout)
	}
}

// TestCheckData renders offline and estimates the cost.
func TestCheckData(t *testing.T) {
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "data.yaml"), ciData)
	nested := writeFile(t, filepath.Join(dir, "nested.tmpl"), `{{ range services }}{{ range service .Name }}{{ .ID }}{{ end }}{{ end }}{{ key "app/name" }}`)
	code, stdout, _ := runCtpl(t, "check", "-format", "json", "-data", data, "-template", nested+":"+filepath.Join(dir, "out"))
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
	var rep checkReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	wantQueries := []string{"catalog.services()", "health.service(web)", "kv.get(app/name)"}
	if !slices.Equal(rep.Queries, wantQueries) {
		t.Errorf("queries %v, want %v", rep.Queries, wantQueries)
	}
	if rep.Cost == nil || rep.Cost.Queries != 3 || rep.Cost.ByKind["health.service"] != 1 || rep.Cost.Detectors {
		t.Errorf("cost %+v", rep.Cost)
	}
}

// TestCheckBadData: a data file's problems are check errors located at the
// data file's lines, every one of them.
func TestCheckBadData(t *testing.T) {
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "data.yaml"), `version: 1
services:
  - name: web
    instances:
      - {id: web-1, node: n1, port: 80}
      - {id: web-1, node: n1, port: 81}
  - name: web
nodes:
  - {name: n1, checks: [{id: c, status: sick}]}
`)
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), ciTemplate)
	code, stdout, _ := runCtpl(t, "check", "-format", "json", "-data", data, "-template", tmpl+":"+filepath.Join(dir, "out"))
	if code != exitConfig {
		t.Fatalf("exit %d, want %d:\n%s", code, exitConfig, stdout)
	}
	var rep checkReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rep.Errors {
		got = append(got, fmt.Sprintf("%s:%d", filepath.Base(e.File), e.Line))
	}
	if want := []string{"data.yaml:6", "data.yaml:7", "data.yaml:9"}; !slices.Equal(got, want) {
		t.Errorf("errors at %v, want %v:\n%s", got, want, stdout)
	}
}
