package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// BenchmarkReloadChurn flips the health of 10 instances 50 times a second
// for 30 s (CTPL_CHURN sets another duration) with min_reload_interval 1s and
// reports the reloads run; it fails unless the final file and the last
// reload match Consul's final state. Run it with
//
//	go test ./cmd/ctpl -run '^$' -bench ReloadChurn -benchtime 1x
func BenchmarkReloadChurn(b *testing.B) {
	churn := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("CTPL_CHURN")); err == nil {
		churn = d
	}
	for range b.N {
		reloads, flips := reloadChurn(b, churn)
		b.ReportMetric(float64(reloads), "reloads")
		b.ReportMetric(float64(flips), "flips")
	}
}

func reloadChurn(b *testing.B, churn time.Duration) (reloads, flips int) {
	agent := consultest.Start(b)
	dir := b.TempDir()
	out, log := filepath.Join(dir, "web.conf"), filepath.Join(dir, "reloads")
	for i := range 10 {
		agent.RegisterService(b, webInstance(fmt.Sprintf("web%d", i), 8000+i, "passing"))
	}
	tmpl := filepath.Join(dir, "web.tmpl")
	os.WriteFile(tmpl, []byte(faultTmpl), 0o644)
	cfg := filepath.Join(dir, "ctpl.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`min_reload_interval: 1s
templates:
  - source: %s
    destination: %s
    command: "cat %s >> %s; echo ---- >> %s"
`, tmpl, out, out, log, log)), 0o644)
	d := startDaemonTB(b, "-consul-addr", agent.Addr(), "-config", cfg)
	deadline := time.Now().Add(10 * time.Second)
	for runs(log) < 1 {
		if time.Now().After(deadline) {
			b.Fatalf("no first reload; log:\n%s", d.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ResetTimer()
	state := make([]string, 10)
	for i := range state {
		state[i] = "passing"
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for end := time.Now().Add(churn); time.Now().Before(end); flips++ {
		<-tick.C
		i := 1 + flips%9 // web0 always passes: no render is held
		state[i] = map[string]string{"passing": "critical", "critical": "passing"}[state[i]]
		agent.SetCheck(b, fmt.Sprintf("node-web%d", i), fmt.Sprintf("check-web%d", i), fmt.Sprintf("web%d", i), state[i])
	}
	want := passingServers(b, agent.URL())
	deadline = time.Now().Add(10 * time.Second)
	for {
		got, _ := os.ReadFile(out)
		history := readString(log)
		if servers(string(got)) == want && strings.HasSuffix(history, string(got)+"----\n") {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("final file %q or last reload differs from Consul's %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // any reload still owed shows
	b.StopTimer()
	return runs(log) - 1, flips
}

// passingServers returns the address:port of every passing web instance in
// Consul, sorted and joined.
func passingServers(b *testing.B, url string) string {
	resp, err := http.Get(url + "/v1/health/service/web?passing=1")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var entries []struct {
		Node    struct{ Address string }
		Service struct{ Port int }
	}
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil {
		b.Fatal(err)
	}
	var s []string
	for _, e := range entries {
		s = append(s, fmt.Sprintf("%s:%d", e.Node.Address, e.Service.Port))
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

// servers returns the sorted address:port list of a rendered upstream.
func servers(file string) string {
	var s []string
	for _, line := range strings.Split(file, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "server "); ok {
			s = append(s, strings.TrimSuffix(v, ";"))
		}
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

// startDaemonTB runs ctpl in-process until the benchmark ends.
func startDaemonTB(tb testing.TB, args ...string) *daemon {
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{stderr: &syncBuffer{}, done: make(chan int, 1), cancel: cancel}
	go func() { d.done <- run(ctx, args, &syncBuffer{}, d.stderr) }()
	tb.Cleanup(func() {
		cancel()
		if code := <-d.done; code != 0 {
			tb.Errorf("ctpl exited %d", code)
		}
	})
	return d
}
