// Package rendertest helps tests that need a real browser: it finds one,
// and tells whether a browser's processes are still running.
package rendertest

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"crawl/render"
)

// Browser returns the browser the tests use (render.Find("")), or "" when
// there is none and the tests may skip. Under CI (the CI variable set) a
// missing browser is an error: the tests must fail, not skip.
func Browser() (string, error) {
	path, err := render.Find("")
	switch {
	case err == nil:
		return path, nil
	case errors.Is(err, render.ErrNoBrowser) && os.Getenv("CI") == "":
		return "", nil
	default:
		return "", fmt.Errorf("the render tests need a browser (CI is set): %w", err)
	}
}

// Alive reports whether a process of the process group pgid runs: one
// that is not a zombie waiting to be reaped.
func Alive(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if state, pgrp := procStat(e.Name()); state != "" && state != "Z" && pgrp == pgid {
			return true
		}
	}
	return false
}

// Running returns the running processes (not zombies) whose command line
// mentions dir, such as the browsers whose profile is under a test's
// TMPDIR, with whether each leads its process group: a browser's main
// process, which the render package starts in a group of its own.
func Running(dir string) (pids []int, leader []bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, nil
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.Contains(string(cmdline), dir) {
			continue
		}
		state, pgrp := procStat(e.Name())
		if state == "" || state == "Z" {
			continue
		}
		pids = append(pids, pid)
		leader = append(leader, pgrp == pid)
	}
	return pids, leader
}

// procStat returns the state and the process group of a process, or ""
// when it is gone.
func procStat(pid string) (state string, pgrp int) {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", 0
	}
	// pid (comm) state ppid pgrp ...: comm may hold spaces.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return "", 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 3 {
		return "", 0
	}
	pgrp, _ = strconv.Atoi(f[2])
	return f[0], pgrp
}
