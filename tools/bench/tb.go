package main

import (
	"context"
	"fmt"
	"os"
)

// fatal is the panic value of tb.Fatalf.
type fatal struct{ msg string }

// tb lets consultest run outside a test: Fatalf panics with fatal, which
// the scenario runner recovers; cleanups run when the scenario ends.
type tb struct {
	ctx      context.Context
	cleanups []func()
	dirs     []string
	failed   bool
	verbose  bool
}

func (t *tb) Helper()                  {}
func (t *tb) Context() context.Context { return t.ctx }
func (t *tb) Cleanup(f func())         { t.cleanups = append(t.cleanups, f) }
func (t *tb) Failed() bool             { return t.failed }
func (t *tb) Skip(args ...any)         { t.Fatalf("%s", fmt.Sprint(args...)) }

func (t *tb) Logf(format string, args ...any) {
	if t.verbose {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

func (t *tb) Fatalf(format string, args ...any) {
	t.failed = true
	panic(fatal{fmt.Sprintf(format, args...)})
}

func (t *tb) TempDir() string {
	d, err := os.MkdirTemp("", "ctpl-bench-")
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.dirs = append(t.dirs, d)
	return d
}

// close runs the cleanups, last first, and removes the temp dirs.
func (t *tb) close() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	if os.Getenv("CTPL_BENCH_KEEP") != "" {
		return
	}
	for _, d := range t.dirs {
		os.RemoveAll(d)
	}
}
