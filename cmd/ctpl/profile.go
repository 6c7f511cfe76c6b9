package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
)

// profiles are the -cpuprofile and -memprofile debugging aids, read with
// `go tool pprof`.
type profiles struct {
	cpu      *os.File
	heapPath string
	heapOnce sync.Once
	heapErr  error
}

// startProfiles starts a CPU profile into cpuPath when it is set; the heap
// profile goes to heapPath (when set) at writeHeap or stop.
func startProfiles(cpuPath, heapPath string) (*profiles, error) {
	p := &profiles{heapPath: heapPath}
	if cpuPath == "" {
		return p, nil
	}
	f, err := os.Create(cpuPath)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	p.cpu = f
	return p, nil
}

// writeHeap writes the heap profile (live and allocated) once: the daemon
// calls it as it begins to stop, while its watches still hold their data.
func (p *profiles) writeHeap() error {
	p.heapOnce.Do(func() {
		if p.heapPath == "" {
			return
		}
		f, err := os.Create(p.heapPath)
		if err != nil {
			p.heapErr = fmt.Errorf("heap profile: %w", err)
			return
		}
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			p.heapErr = fmt.Errorf("heap profile: %w", err)
			return
		}
		if err := f.Close(); err != nil {
			p.heapErr = fmt.Errorf("heap profile: %w", err)
		}
	})
	return p.heapErr
}

// stop ends the CPU profile and writes the heap profile if it was not yet.
func (p *profiles) stop() error {
	var err error
	if p.cpu != nil {
		pprof.StopCPUProfile()
		if cerr := p.cpu.Close(); cerr != nil {
			err = fmt.Errorf("cpu profile: %w", cerr)
		}
		p.cpu = nil
	}
	return errors.Join(err, p.writeHeap())
}
