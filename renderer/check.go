package renderer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// pendingWrite is staged output on its way to the destination.
type pendingWrite struct {
	j          *job
	st         *Staged
	out        []byte
	now, start time.Time // when the render was due and began
	err        error     // the check's failure
}

// checkAsync runs j's check against the staged file on a goroutine the agent
// owns, so a slow check delays no other template; the loop takes the result
// from a.checks. The job renders no more until then.
func (a *Agent) checkAsync(p *pendingWrite) {
	p.j.checking = true
	a.workers.Add(1)
	go func() {
		defer a.workers.Done()
		p.err = a.check(a.ctx, p.j, p.st.Path()) // cancelled when the agent stops
		select {
		case a.checks <- p:
		case <-a.workCtx.Done():
			p.st.Discard()
		}
	}()
}

// checkDone takes the result of a background check.
func (a *Agent) checkDone(p *pendingWrite) {
	p.j.checking = false
	if !slices.Contains(a.jobs, p.j) { // replaced by a config reload meanwhile
		p.st.Discard()
		return
	}
	a.obs.Rendered(p.j.t.Source, a.checked(p), time.Since(p.start))
}

// checked commits p when its check passed; otherwise it discards it and
// holds the template until its data changes. It returns the Observer result.
func (a *Agent) checked(p *pendingWrite) string {
	if p.err == nil {
		return a.commit(p)
	}
	p.st.Discard()
	if a.opts.Once {
		p.j.err = p.err
	}
	a.problem(p.j, StateHeld, "check failed; the destination keeps its content", p.err)
	return ResultHeld
}

// check runs j's check command against the staged file at path.
func (a *Agent) check(ctx context.Context, j *job, path string) error {
	cmd := j.t.Check.WithStaged(path)
	res, err := cmd.Run(ctx, j.t.CheckTimeout, []string{StagedEnv + "=" + path})
	a.obs.Ran(KindCheck, j.t.Source, j.t.Check.String(), err, res.Duration)
	if err != nil {
		if out := flatten(string(res.Output)); out != "" {
			return fmt.Errorf("%w: %s", err, out)
		}
		return err
	}
	return nil
}

// flatten makes command output one line (joinLines), at most 2,000 bytes.
func flatten(s string) string {
	s = joinLines(s)
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}

// joinLines makes command output one line: its non-blank lines trimmed and
// joined by " | ".
func joinLines(s string) string {
	var lines []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " | ")
}
