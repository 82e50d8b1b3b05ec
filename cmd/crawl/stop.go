package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"crawl/engine"
)

// watchSignal stops the crawl gracefully when ctx is cancelled (Ctrl-C or
// SIGTERM). It returns when done is closed.
func watchSignal(ctx context.Context, done <-chan struct{}, eng *engine.Engine, log *slog.Logger) {
	select {
	case <-ctx.Done():
	case <-done:
		return
	}
	log.Warn("interrupted: finishing requests in flight")
	eng.Stop(engine.Interrupted)
}

// watchGrace gives the requests in flight the grace period once the crawl
// is asked to end gracefully, whatever asked (a signal, --max-time,
// --max-pages, --max-items, --max-errors), and aborts them when it runs
// out, setting abandoned: a page that is slow to download or to parse
// never keeps the crawl past its stop. It returns when done is closed.
func watchGrace(done <-chan struct{}, grace time.Duration, eng *engine.Engine, abort func(), abandoned *atomic.Bool, log *slog.Logger) {
	select {
	case <-eng.Stopping():
	case <-done:
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-t.C:
		log.Warn("grace period over: abandoning requests in flight", "reason", eng.StopReason(), "grace", grace)
		abandoned.Store(true)
		abort()
	case <-done:
	}
}
