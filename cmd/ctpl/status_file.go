package main

import (
	"encoding/json"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/telemetry"
)

// statusFileName is the report ctpl keeps in the state directory for
// `ctpl status -state-dir`.
const statusFileName = "status.json"

// statusFile writes the status report into the state directory when it
// changes, and at least every refresh so its ages stay meaningful.
type statusFile struct {
	path    string
	log     *slog.Logger
	last    string
	written time.Time
	failing bool
}

const statusRefresh = 30 * time.Second

func newStatusFile(dir string, log *slog.Logger) *statusFile {
	if dir == "" {
		return &statusFile{}
	}
	return &statusFile{path: filepath.Join(dir, statusFileName), log: log}
}

func (s *statusFile) maybeWrite(r telemetry.Report) {
	if s.path == "" {
		return
	}
	key := reportKey(r)
	if key == s.last && time.Since(s.written) < statusRefresh {
		return
	}
	s.write(r, key)
}

// writeStopped writes the agent's last report, marked stopped: what
// `ctpl status -state-dir` shows once ctpl has exited.
func (s *statusFile) writeStopped(r telemetry.Report) {
	if s.path == "" {
		return
	}
	r.Stopped, r.Ready = true, false
	s.write(r, "")
}

func (s *statusFile) write(r telemetry.Report, key string) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err == nil {
		opts := renderer.DefaultFileOptions()
		opts.Perms = 0o644
		_, err = renderer.WriteFile(s.path, append(b, '\n'), opts)
	}
	if err != nil {
		if !s.failing {
			s.log.Warn("cannot write the status file", "file", s.path, "error", err)
		}
		s.failing = true
		return
	}
	s.failing = false
	s.last, s.written = key, time.Now()
}

// reportKey is the report without what changes with the clock alone.
func reportKey(r telemetry.Report) string {
	r.At, r.Reasons = time.Time{}, nil
	qs := make([]telemetry.QueryReport, len(r.Queries))
	for i, q := range r.Queries {
		q.AgeSeconds = 0
		qs[i] = q
	}
	r.Queries = qs
	b, _ := json.Marshal(r)
	return string(b)
}

// stateDir is where the status file goes: safe apply's state_dir (empty:
// no file).
func stateDir(cfg config.Config) string { return cfg.StateDir }
