package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"time"
)

// registrations registers extra instances of random services and removes
// them again, timing each from the write's return to the file.
func (m *measure) registrations() {
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range m.o.regs {
		e := extra{k: k + 1, svc: rng.IntN(m.sc.n)}
		file := m.sc.fileOf(m.reg, instance{svc: e.svc})
		for _, del := range []bool{false, true} {
			if err := m.reg.register(m.ctx, e, del); err != nil {
				m.r.missed++
				continue
			}
			wrote := time.Now()
			line := m.reg.extraLine(e)
			at, ok := m.obs.waitFor(file, func(b []byte) bool { return hasLine(b, line) != del }, wrote.Add(10*time.Second))
			if !ok {
				m.r.missed++
				continue
			}
			m.r.reg = append(m.r.reg, max(at.Sub(wrote), 0))
		}
	}
}

// churnRun flips random instances at the configured rate for the configured
// time, then checks that the files settle on Consul's final state, and
// counts reloads and CPU. It restores every instance to passing after.
func (m *measure) churnRun() {
	if m.o.churn <= 0 {
		return
	}
	rng := rand.New(rand.NewPCG(5, 6))
	pool := make([]instance, 0, 100)
	for range cap(pool) {
		pool = append(pool, instance{rng.IntN(m.sc.n), rng.IntN(m.sc.m)})
	}
	down := map[instance]bool{}
	reloads0, cpu0 := m.reloads(), m.p.cpu()
	tick := time.NewTicker(time.Second / time.Duration(m.o.rate))
	end := time.Now().Add(m.o.churn)
	for time.Now().Before(end) {
		<-tick.C
		i := pool[rng.IntN(len(pool))]
		down[i] = !down[i]
		if m.reg.setHealth(m.ctx, i, !down[i]) == nil {
			m.r.churnChanges++
		}
	}
	tick.Stop()
	m.r.lost = m.settle(down, time.Now().Add(15*time.Second))
	time.Sleep(3 * time.Second) // let a trailing reload run
	if m.r.churnChanges > 0 {
		m.r.cpuPer1k = (m.p.cpu() - cpu0).Seconds() / float64(m.r.churnChanges) * 1000
	}
	m.r.reloads = m.reloads() - reloads0
	for i, d := range down {
		if d {
			_ = m.reg.setHealth(m.ctx, i, true)
			down[i] = false
		}
	}
	m.settle(down, time.Now().Add(15*time.Second))
}

// settle waits until every instance in want is rendered as wanted (true:
// down, absent) and returns how many are not at the deadline.
func (m *measure) settle(down map[instance]bool, deadline time.Time) int {
	lost := 0
	for i, d := range down {
		line := m.reg.line(i)
		if _, ok := m.obs.waitFor(m.sc.fileOf(m.reg, i), func(b []byte) bool { return hasLine(b, line) != d }, deadline); !ok {
			lost++
		}
	}
	return lost
}

func (m *measure) reloads() int {
	b, _ := os.ReadFile(m.w.reloadLog)
	return bytes.Count(b, []byte("\n"))
}
