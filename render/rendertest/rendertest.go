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
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}
