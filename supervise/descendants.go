package supervise

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// descendants returns the processes below root found in proc (/proc), each
// with its start time, to tell it from a later process given the same PID.
// A process that left root's process group (setsid, setpgid) is still
// root's descendant while the processes between them live; one whose
// parent exited was re-parented to init and is no longer found.
func descendants(proc string, root int) map[int]string {
	parent := map[int]int{}
	start := map[int]string{}
	entries, _ := os.ReadDir(proc)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, st, ok := statOf(proc, pid)
		if ok {
			parent[pid], start[pid] = ppid, st
		}
	}
	out := map[int]string{}
	for pid := range parent {
		for p, hops := parent[pid], 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if p == root {
				out[pid] = start[pid]
				break
			}
		}
	}
	return out
}

// statOf reads the parent and start time of pid from proc/pid/stat.
func statOf(proc string, pid int) (ppid int, start string, ok bool) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(s[i+1:]) // state ppid pgrp session … starttime (field 22: f[19])
	if len(f) < 20 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[19], err == nil
}

// killFound kills each process of found that is still the same process.
func killFound(proc string, found map[int]string) {
	for pid, start := range found {
		if _, st, ok := statOf(proc, pid); ok && st == start {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
