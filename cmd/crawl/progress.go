package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"crawl/stats"
)

// ttyRedraw is how often the live line on a terminal is redrawn.
const ttyRedraw = 250 * time.Millisecond

// progress reports how a crawl is going, on standard error: on a terminal
// as one line redrawn in place, otherwise as a log line every interval.
type progress struct {
	st    *stats.Stats
	load  func() (queued, inflight int64)
	start time.Time
	// total is the number of requests the crawl will make, when it is known
	// (start requests counted in advance and no links followed), else 0.
	total int64
	// Exactly one of these is set.
	status *statusWriter // a terminal: the live line
	log    *slog.Logger  // not a terminal: a log line
}

// run reports until done is closed, then clears the live line. It is
// started and waited for by run's caller.
func (p *progress) run(done <-chan struct{}, interval time.Duration) {
	if p.status != nil {
		interval = ttyRedraw
		defer p.status.setStatus("")
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			p.report(now)
		}
	}
}

func (p *progress) report(now time.Time) {
	elapsed := now.Sub(p.start)
	pages := p.st.Get(stats.Pages)
	rate := float64(pages) / max(elapsed.Seconds(), 1e-9)
	items := p.st.Get(stats.ItemsWritten)
	errs := p.st.Sum(stats.Errors)
	queued, inflight := p.load()
	eta := p.eta(elapsed)
	if p.status != nil {
		line := fmt.Sprintf("%s  %s  %.1f pages/s  %d queued  %d in flight  %s  %s",
			plural(int(pages), "page", "pages"), plural(int(items), "item", "items"), rate, queued, inflight,
			plural(int(errs), "error", "errors"), elapsed.Round(time.Second))
		if eta >= 0 {
			line += fmt.Sprintf("  ETA %s", eta)
		}
		p.status.setStatus(line)
		return
	}
	attrs := []any{"pages", pages, "items", items, "pages_per_second", fmt.Sprintf("%.1f", rate),
		"queued", queued, "in_flight", inflight, "errors", errs, "elapsed", elapsed.Round(time.Second).String()}
	if eta >= 0 {
		attrs = append(attrs, "eta", eta.String())
	}
	p.log.Info("progress", attrs...)
}

// eta estimates the time left from the requests made so far, or returns -1
// when the total is unknown or nothing has been done yet.
func (p *progress) eta(elapsed time.Duration) time.Duration {
	done := p.st.Get(stats.Requests)
	if p.total <= 0 || done == 0 {
		return -1
	}
	left := max(p.total-done, 0)
	return (time.Duration(float64(elapsed) * float64(left) / float64(done))).Round(time.Second)
}

// statusWriter is a terminal's standard error with a status line kept at
// the bottom: everything written through it (log lines) appears above the
// status line, which is redrawn after each write. It is safe for concurrent
// use.
type statusWriter struct {
	mu     sync.Mutex
	w      io.Writer
	status string
	// midLine is set while the items written through writeAbove end
	// mid-line (a buffer cut an item): the live line waits for the rest.
	midLine bool
}

const clearLine = "\r\x1b[K"

func (s *statusWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeTo(s.w, p)
}

// writeAbove writes p to w, another writer on the same terminal (items on
// stdout), with the live line cleared first and redrawn after, so that
// what p holds starts at the beginning of a clean line.
func (s *statusWriter) writeAbove(w io.Writer, p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeTo(w, p)
}

func (s *statusWriter) writeTo(w io.Writer, p []byte) (int, error) {
	drawn := s.status != "" && !s.midLine
	if drawn {
		io.WriteString(s.w, clearLine)
	}
	n, err := w.Write(p)
	if len(p) > 0 {
		s.midLine = p[len(p)-1] != '\n'
	}
	if s.status != "" && !s.midLine {
		io.WriteString(s.w, s.status)
	}
	return n, err
}

// setStatus replaces the status line; "" removes it.
func (s *statusWriter) setStatus(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A line wider than the terminal would wrap and no longer be redrawn in
	// place; 120 columns is the common width to stay within.
	if len(line) > 120 {
		line = line[:117] + "..."
	}
	s.status = line
	if s.midLine {
		return // drawn when the item under way ends its line
	}
	var b strings.Builder
	b.WriteString(clearLine)
	b.WriteString(line)
	io.WriteString(s.w, b.String())
}
