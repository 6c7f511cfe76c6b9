package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// tool is one program under test.
type tool struct {
	name string
	bin  string
	// config writes the tool's config for the templates into dir and
	// returns the command-line arguments.
	config func(w *workload, dir string) ([]string, error)
	stop   syscall.Signal
}

// template is one template of a workload: its text and destination name.
type template struct {
	name, text string
}

// workload is what both tools render: templates, the Consul endpoint and
// the reload command.
type workload struct {
	templates []template
	outDir    string
	addr      string // host:port, or https://host:port
	caFile    string // with TLS
	token     string // ACL token; "" for none
	reloadLog string
}

func (w *workload) command() string { return "echo r >> " + w.reloadLog }

var ctplTool = tool{name: "ctpl", bin: "bin/ctpl", stop: syscall.SIGINT, config: func(w *workload, dir string) ([]string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "consul:\n  address: %q\n", w.addr)
	if w.token != "" {
		fmt.Fprintf(&b, "  token: %q\n", w.token)
	}
	if w.caFile != "" {
		fmt.Fprintf(&b, "  ssl:\n    enabled: true\n    ca_cert: %q\n", w.caFile)
	}
	b.WriteString("log_level: warn\ntemplates:\n")
	for _, t := range w.templates {
		src := filepath.Join(dir, t.name+".tmpl")
		if err := os.WriteFile(src, []byte(t.text), 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "  - source: %q\n    destination: %q\n    command: %q\n",
			src, filepath.Join(w.outDir, t.name), w.command())
	}
	cfg := filepath.Join(dir, "ctpl.yaml")
	return []string{"-config", cfg}, os.WriteFile(cfg, []byte(b.String()), 0o644)
}}

var consulTemplateTool = tool{name: "consul-template", bin: "bin/consul-template", stop: syscall.SIGINT, config: func(w *workload, dir string) ([]string, error) {
	var b strings.Builder
	addr, extra := w.addr, "" // extra: the consul block's ssl and token
	if w.caFile != "" {
		addr = strings.TrimPrefix(addr, "https://")
		extra = fmt.Sprintf("  ssl {\n    enabled = true\n    verify = true\n    ca_cert = %q\n  }\n", w.caFile)
	}
	if w.token != "" {
		extra += fmt.Sprintf("  token = %q\n", w.token)
	}
	fmt.Fprintf(&b, "log_level = \"warn\"\nconsul {\n  address = %q\n%s}\n", addr, extra)
	for _, t := range w.templates {
		src := filepath.Join(dir, t.name+".tmpl")
		if err := os.WriteFile(src, []byte(t.text), 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "template {\n  source = %q\n  destination = %q\n  command = %q\n}\n",
			src, filepath.Join(w.outDir, t.name), w.command())
	}
	cfg := filepath.Join(dir, "ct.hcl")
	return []string{"-config", cfg}, os.WriteFile(cfg, []byte(b.String()), 0o644)
}}
