package renderer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
)

// owedFile is the name of the file in Options.StateDir listing the reload
// commands owed: content was activated, the command has not yet succeeded.
const owedFile = "owed-reloads.json"

// owedCommand is one entry of the owed file.
type owedCommand struct {
	Args  []string `json:"args"`
	Shell bool     `json:"shell,omitempty"`
}

// owedState keeps the owed reloads on disk so that a restart runs them. Only
// the agent loop uses it.
type owedState struct {
	path string // "" when not kept
	log  *slog.Logger
	owed map[string]owedCommand
}

func newOwedState(dir string, log *slog.Logger) *owedState {
	s := &owedState{log: log, owed: map[string]owedCommand{}}
	if dir != "" {
		s.path = filepath.Join(dir, owedFile)
	}
	return s
}

// load reads the owed commands left by an earlier run.
func (s *owedState) load() error {
	if s.path == "" {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	var list []owedCommand
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("state %s: %w", s.path, err)
	}
	for _, c := range list {
		cmd := Command{Args: c.Args, Shell: c.Shell}
		s.owed[cmd.String()] = c
	}
	return nil
}

// mark records that g's command is owed, writing the file before returning.
func (s *owedState) mark(g *group) {
	if s.path == "" {
		return
	}
	if _, ok := s.owed[g.id]; ok {
		return
	}
	s.owed[g.id] = owedCommand{Args: g.cmd.Args, Shell: g.cmd.Shell} // never its environment
	s.save()
}

// clear records that the command id is no longer owed.
func (s *owedState) clear(id string) {
	if _, ok := s.owed[id]; !ok || s.path == "" {
		return
	}
	delete(s.owed, id)
	s.save()
}

func (s *owedState) save() {
	ids := make([]string, 0, len(s.owed))
	for id := range s.owed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	list := make([]owedCommand, 0, len(ids))
	for _, id := range ids {
		list = append(list, s.owed[id])
	}
	b, _ := json.Marshal(list)
	opts := FileOptions{Perms: 0o600, UID: -1, GID: -1, CreateDestDirs: true}
	if _, err := WriteFile(s.path, append(b, '\n'), opts); err != nil {
		s.log.Error("cannot record the owed reloads", "error", err)
	}
}

// loadOwed makes the commands an earlier run owed owed again; those no
// template uses any more are dropped.
func (a *Agent) loadOwed() {
	if a.opts.Dry {
		return
	}
	if err := a.owed.load(); err != nil {
		a.log.Error("cannot read the owed reloads", "error", err)
		return
	}
	for id := range a.owed.owed {
		if g := a.groups[id]; g != nil {
			a.log.Info("a reload was owed when ctpl last stopped; it will run", "command", id)
			g.markOwed()
			continue
		}
		a.log.Warn("dropping an owed reload no template uses any more", "command", id)
		a.owed.clear(id)
	}
}

// countsFile is the name of the file in Options.StateDir keeping, per
// destination, the instances of each health service query at its last
// accepted render, so that on_empty and max_shrink hold across restarts.
const countsFile = "instance-counts.json"

// loadCounts gives each job the counts its destination had when an earlier
// run stopped.
func (a *Agent) loadCounts() {
	if a.opts.StateDir == "" || a.opts.Dry {
		return
	}
	b, err := os.ReadFile(filepath.Join(a.opts.StateDir, countsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var saved map[string]map[string]int
	if err == nil {
		err = json.Unmarshal(b, &saved)
	}
	if err != nil {
		a.log.Error("cannot read the instance counts", "error", err)
		return
	}
	for _, j := range a.jobs {
		if j.counts == nil {
			j.counts = saved[j.t.Dest]
			j.inst.invalidate()
		}
	}
}

// saveCounts writes the jobs' counts when they changed since the last save.
// The loop calls it on its tick and when it stops.
func (a *Agent) saveCounts() {
	if a.opts.StateDir == "" || !a.countsChanged {
		return
	}
	saved := map[string]map[string]int{}
	for _, j := range a.jobs {
		if len(j.counts) > 0 {
			saved[j.t.Dest] = j.counts
		}
	}
	b, _ := json.Marshal(saved)
	opts := FileOptions{Perms: 0o600, UID: -1, GID: -1, CreateDestDirs: true}
	if _, err := WriteFile(filepath.Join(a.opts.StateDir, countsFile), append(b, '\n'), opts); err != nil {
		a.log.Error("cannot record the instance counts", "error", err)
		return
	}
	a.countsChanged = false
}
