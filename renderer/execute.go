package renderer

import (
	"time"

	"github.com/ctpl/ctpl/template"
)

// execute runs j's template against the store, bounded by its limits
// (template.Options.MaxOutput and MaxRenderTime) and by the agent's
// context: a render over a limit is abandoned from within (see
// template.ErrLimit).
//
// The execution runs on a goroutine of its own while the loop waits for
// it. The loop still owns the Store and the templates: it applies nothing
// and starts nothing until the execution has returned. What it keeps doing
// is calling Observer.Tick, the systemd watchdog's proof of life, as long
// as the render is within its time limit: a long render is not a stuck
// loop, but a render still running past its limit (text/template code that
// neither writes nor calls a function, which nothing can interrupt) is, and
// the watchdog then sees it.
func (a *Agent) execute(j *job) (*template.Result, error) {
	type outcome struct {
		res *template.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := j.t.Tmpl.ExecuteContext(a.ctx, a.store)
		done <- outcome{res, err}
	}()
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	alive := time.Now().Add(j.t.Tmpl.MaxRenderTime() + tickInterval)
	for {
		select {
		case o := <-done:
			return o.res, o.err
		case now := <-tick.C:
			if now.Before(alive) {
				a.obs.Tick()
			}
		}
	}
}
