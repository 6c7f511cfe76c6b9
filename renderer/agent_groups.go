package renderer

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// setJobs makes ts the agent's templates. A template whose destination was
// already rendered keeps what the agent knows of it (last good and bad
// content, instance counts, reload state); templates sharing a command form
// one group, and groups whose command no template uses any more are retired
// once nothing is owed.
func (a *Agent) setJobs(ts []Template) {
	old := map[string]*job{}
	for _, j := range a.jobs {
		old[j.t.Dest] = j
	}
	a.jobs = newJobs(ts)
	a.usedChanged = true
	used := map[string]bool{}
	for _, j := range a.jobs {
		if prev := old[j.t.Dest]; prev != nil {
			j.inherit(prev)
		}
		if j.t.Command.IsZero() {
			continue
		}
		id := j.t.Command.String()
		g := a.groups[id]
		if g == nil || g.done() {
			g = newGroup(j.t.Command, a.opts.MinReloadInterval)
			a.groups[id] = g
			a.startWorker(g)
		}
		g.mu.Lock()
		if !used[id] {
			used[id], g.jobs, g.timeout, g.verify = true, nil, 0, nil
		}
		g.timeout = max(g.timeout, j.t.CommandTimeout)
		g.addVerify(j.t.Verify, j.t.VerifyTimeout)
		g.mu.Unlock()
		g.jobs = append(g.jobs, j)
		j.group = g
	}
	for id, g := range a.groups {
		if !used[id] {
			g.retire()
			delete(a.groups, id)
		}
	}
}

// startWorker starts g's worker when the loop runs (not in once mode).
func (a *Agent) startWorker(g *group) {
	if a.workCtx == nil {
		return
	}
	a.workers.Add(1)
	go func() {
		defer a.workers.Done()
		g.run(a.workCtx, a.flush, a.results)
	}()
}

// settle tells each group whether its templates have settled: none has a
// render pending, except one retrying a failed write.
func (a *Agent) settle() {
	for _, g := range a.groups {
		settled := true
		for _, j := range g.jobs {
			if j.dirty && j.failures == 0 || j.checking {
				settled = false
			}
		}
		g.setSettled(settled)
	}
}

// reloadAll runs every owed command at once, rolling back a failed reload
// (once mode). It returns the reload failures.
func (a *Agent) reloadAll(ctx context.Context) error {
	var errs []error
	for _, g := range a.groups {
		for range 2 { // the reload, then the reload of restored content
			r, ok := g.runNow(ctx)
			if !ok {
				break
			}
			a.reloaded(r)
			if r.err == nil {
				break
			}
			if !g.isOwed() {
				errs = append(errs, r.err)
				break
			}
			errs = append(errs, r.err)
		}
	}
	return errors.Join(errs...)
}

// jobAt returns the job writing dest.
func (a *Agent) jobAt(dest string) *job {
	for _, j := range a.jobs {
		if j.t.Dest == dest {
			return j
		}
	}
	return nil
}

// reloaded takes the result of a reload: on success the content it covered
// becomes the last good content; on failure every destination whose new
// content the run covered gets its last good content back (its new content is
// remembered as bad and never written again), and the command runs again.
func (a *Agent) reloaded(r reloadResult) {
	log := a.log.With("command", r.g.id)
	var sources []string
	for dest := range r.covered {
		if j := a.jobAt(dest); j != nil {
			sources = append(sources, j.t.Source)
		}
	}
	a.obs.Ran(KindReload, joinSorted(sources), r.g.id, r.err, r.res.Duration)
	if len(r.renders) > 0 {
		log = log.With("renders", renderList(r.renders))
	}
	g := r.g
	if r.superseded {
		log.Info("verify failed, but newer content was written meanwhile: its reload verifies again", "error", r.err)
		return
	}
	if r.err == nil {
		if out := joinLines(string(r.res.Output)); out != "" {
			log.Info("command output", "output", out)
		}
		if g.failures > 0 {
			log.Info("reload succeeded again", "failures_before", g.failures)
		}
		g.failures, g.lastErr, g.retryAt = 0, "", time.Time{}
		if r.verified > 0 {
			log = log.With("verify", "ok") // the target runs what was written
		}
		log.Info("command ran", "duration", r.res.Duration)
		a.reloadSucceeded(r)
		return
	}
	g.failures++
	if msg := r.err.Error(); msg != g.lastErr {
		g.lastErr = msg
		log.Error("reload failed", "error", r.err, "duration", r.res.Duration, "output", joinLines(string(r.res.Output)))
	} else {
		log.Debug("reload failed again", "error", r.err, "failures", g.failures, "output", joinLines(string(r.res.Output)))
	}
	restored := false
	for dest, v := range r.covered {
		if j := a.jobAt(dest); j != nil && j.group == g {
			restored = a.rollBack(j, v, r) || restored
		}
	}
	if len(r.covered) == 0 {
		for _, j := range g.jobs {
			a.degrade(j, "reload failed: "+r.err.Error())
		}
	}
	if !restored && !g.isOwed() {
		// Nothing new to take back: the failure lies outside the content
		// (the target down, a transient error). Run again later.
		g.retryAt = time.Now().Add(reloadRetryDelay(g.failures))
	}
}

// reloadRetryDelay is the delay before re-running a reload that failed with
// nothing to roll back: doubling from 1s up to 2 minutes, less up to a fifth
// of it as jitter.
func reloadRetryDelay(failures int) time.Duration {
	d := min(time.Second<<min(failures-1, 7), 2*time.Minute)
	return d - rand.N(d/5)
}

// retryReloads makes owed the commands whose retry is due, and returns when
// the next retry is due (zero when none is).
func (a *Agent) retryReloads(now time.Time) time.Time {
	var next time.Time
	for _, g := range a.groups {
		switch {
		case g.retryAt.IsZero():
		case !now.Before(g.retryAt):
			g.retryAt = time.Time{}
			g.markOwed()
		case next.IsZero() || g.retryAt.Before(next):
			next = g.retryAt
		}
	}
	return next
}

func (a *Agent) reloadSucceeded(r reloadResult) {
	for dest, v := range r.covered {
		j := a.jobAt(dest)
		if j == nil {
			continue
		}
		j.good, j.hasGood, j.lastReload = content{data: v.content, exists: v.exists}, true, r.at
		if !v.restored && j.degraded != "" {
			j.degraded, j.bad = "", nil
			a.log.Info("reload succeeded; the template is no longer degraded", "template", j.t.Source, "dest", dest)
		}
	}
	if len(r.covered) == 0 {
		for _, j := range r.g.jobs {
			j.lastReload = r.at
		}
	}
	if !r.g.isOwed() {
		a.owed.clear(r.g.id)
	}
}

// rollBack handles a failed reload that covered version v of j's
// destination. It reports whether it restored the last good content.
func (a *Agent) rollBack(j *job, v version, r reloadResult) bool {
	if v.restored {
		a.degrade(j, "reload fails even with the last good content: "+r.err.Error())
		return false
	}
	if j.hasGood && j.good.equal(v) {
		a.degrade(j, "reload failed: "+r.err.Error()) // this template's content was not new
		return false
	}
	j.bad = fingerprintOf(v.content)
	if !j.hasGood || !j.good.exists {
		// Removing a first render would not help: the target may include it.
		a.degrade(j, "reload failed and there is no earlier content to restore: "+r.err.Error())
		return false
	}
	a.degrade(j, "reload failed; restored the last good content: "+r.err.Error())
	if r.g.liveGen(j.t.Dest) != v.gen {
		return false // newer content is already active and owes its own reload
	}
	if err := a.restore(j); err != nil {
		a.degrade(j, "reload failed and the last good content cannot be restored: "+err.Error())
		return false
	}
	return true
}

// restore puts j's last good content back at its destination through its
// group, so the command runs again.
func (a *Agent) restore(j *job) error {
	a.log.Warn("restoring the last good content", "template", j.t.Source, "dest", j.t.Dest)
	a.owed.mark(j.group)
	st, err := stageKnown(j.t.Dest, j.good.data, j.t.File, &j.file)
	if err != nil {
		return err
	}
	_, err = j.group.activate(j.t.Dest, j.good.data, true, true, 0, st.Commit)
	if err == nil {
		j.lastWrite = time.Now()
	}
	return err
}
