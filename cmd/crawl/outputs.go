package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"crawl/engine"
	"crawl/pipeline"
	"crawl/stats"
)

// openOutputs opens and checks every output without changing any (see
// pipeline.Output.Open), so that a run that fails at start, on any output
// or on its --state directory, leaves every file as it was. Start them
// with startOutputs; closeOutputs closes them either way.
func (o *runOptions) openOutputs(stdout io.Writer, fields []string) ([]*pipeline.Opened, error) {
	if err := distinctOutputs(o.outputs); err != nil {
		return nil, err
	}
	var opened []*pipeline.Opened
	for _, out := range o.outputs {
		p, err := out.Open(stdout, fields)
		if err != nil {
			closeOutputs(opened)
			return nil, err
		}
		opened = append(opened, p)
	}
	return opened, nil
}

// distinctOutputs refuses an output given twice: its lock would refuse it
// as if another crawl wrote it, and its items would be written twice.
func distinctOutputs(outs []pipeline.Output) error {
	for i, a := range outs {
		for _, b := range outs[:i] {
			if sameFile(a.Path, b.Path) {
				return fmt.Errorf("output %s is given twice (also as %s)", a.Path, b.Path)
			}
		}
	}
	return nil
}

func sameFile(a, b string) bool {
	if a == "-" || b == "-" {
		return a == b
	}
	if absA, err := filepath.Abs(a); err == nil {
		if absB, err := filepath.Abs(b); err == nil && absA == absB {
			return true
		}
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// startOutputs readies every opened output for items (see
// pipeline.Opened.Start) and returns one Writer for them all.
func startOutputs(opened []*pipeline.Opened) (pipeline.Writer, error) {
	var ws pipeline.Multi
	for _, p := range opened {
		w, err := p.Start()
		if err != nil {
			for _, w := range ws {
				w.Close() // a JSON array reopened gets its "]" back
			}
			return nil, err
		}
		ws = append(ws, w)
	}
	if len(ws) == 1 {
		return ws[0], nil
	}
	return ws, nil
}

// closeOutputs closes every opened output and returns the first error.
func closeOutputs(opened []*pipeline.Opened) error {
	var first error
	for _, p := range opened {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// reasonNothingFetched ends a crawl in which every request failed and not
// one page was fetched.
const reasonNothingFetched engine.Reason = "nothing_fetched"

// fetchBaseline is what the counters held when this run began: a resumed
// crawl's counters include the earlier runs', and whether this run fetched
// anything is judged on its own requests.
type fetchBaseline struct{ pages, errors int64 }

func newFetchBaseline(st *stats.Stats) fetchBaseline {
	return fetchBaseline{st.Get(stats.Pages), st.Sum(stats.Errors)}
}

// nothingFetched returns an error when this run sent requests, every one
// failed, and not one page was fetched (exit status 1): every connection
// refused, every robots.txt unreachable. A run with nothing to do (no start
// URLs, a resumed crawl already finished, every request disallowed by
// robots.txt) did not fail to fetch, and returns nil.
func (b fetchBaseline) nothingFetched(st *stats.Stats) error {
	failed := st.Sum(stats.Errors) - b.errors
	if st.Get(stats.Pages) > b.pages || failed == 0 {
		return nil
	}
	return fmt.Errorf("no page could be fetched: %d requests failed (%s); see the errors above", failed, group(st, stats.Errors))
}
