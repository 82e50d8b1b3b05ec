package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"crawl/item"
	"crawl/stats"
)

// Check inspects an item and returns nil to keep it or an error to drop it;
// a *Drop names the reason it is counted under, any other error counts as
// "invalid".
type Check func(*item.Item) error

// Filter is a stage: it starts a goroutine that passes every item from in
// through check and sends the kept ones on the channel it returns. Dropped
// items are counted in st under stats.ItemsDropped+reason and logged at debug
// level. The goroutine closes the returned channel and exits when in is
// closed or ctx is done.
func Filter(ctx context.Context, in <-chan *item.Item, check Check, st *stats.Stats, log *slog.Logger) <-chan *item.Item {
	out := make(chan *item.Item, cap(in))
	go func() {
		defer close(out)
		for {
			it, ok := receive(ctx, in)
			if !ok {
				return
			}
			if it.IsMark() {
				// Passed on as it is: see item.NewMark.
			} else if err := check(it); err != nil {
				reason := "invalid"
				var d *Drop
				if errors.As(err, &d) {
					reason = d.Reason
				}
				st.Inc(stats.ItemsDropped + reason)
				log.Debug("item dropped", "url", it.URL, "reason", err)
				continue
			}
			select {
			case out <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// Writer writes items to an output. Write may buffer; Flush pushes what is
// buffered to the operating system; Close writes what ends the format (the
// "]" of a JSON array) and flushes, but does not close the underlying
// file. A Writer is used by one goroutine.
type Writer interface {
	Write(*item.Item) error
	Flush() error
	Close() error
}

// Write is the last stage: it writes every item from in to w until in is
// closed. A reader of the output sees each item soon after it exists: Write
// flushes when no further item is waiting, but at most once every
// FlushInterval, so that items that come one at a time (one per page, as
// pages are parsed) do not each cost a write to the operating system. The
// first item is flushed at once, and none waits longer than FlushInterval.
// Items are counted in st under stats.ItemsWritten when they have reached
// the operating system whole, so the count never includes items lost in a
// failed write: this package's writers say exactly which items a failed
// write delivered (Written), and for other writers a flush counts only
// when it succeeds. Items taken from in that did not reach the output are
// counted under stats.ItemsDropped+"write_failed". It returns the first
// write error, after which it stops reading in; the caller must then stop
// the producers (cancel their context). A mark (item.NewMark) makes it
// flush at once and then call the mark's done function.
func Write(in <-chan *item.Item, w Writer, st *stats.Stats) error {
	return write(in, w, st, FlushInterval)
}

// FlushInterval is the longest Write keeps an item buffered while it waits
// for more.
const FlushInterval = 10 * time.Millisecond

// counter is a Writer that knows how many items reached its output whole,
// even after a failed write.
type counter interface{ Written() int64 }

// write is Write with a given flush interval.
func write(in <-chan *item.Item, w Writer, st *stats.Stats, every time.Duration) error {
	var (
		taken     int64     // items given to w.Write
		counted   int64     // items counted as written
		lastFlush time.Time // zero: the first item is flushed at once
		timer     *time.Timer
		due       <-chan time.Time // fires when pending items have waited long enough
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	wc, exact := w.(counter)
	// count brings stats.ItemsWritten up to what reached the output; after
	// a failure it counts the rest as dropped.
	count := func(err error) error {
		switch {
		case exact:
			n := wc.Written()
			st.Add(stats.ItemsWritten, n-counted)
			counted = n
		case err == nil:
			st.Add(stats.ItemsWritten, taken-counted)
			counted = taken
		}
		if err != nil && taken > counted {
			st.Add(stats.ItemsDropped+"write_failed", taken-counted)
		}
		return err
	}
	flush := func() error {
		due = nil
		if err := w.Flush(); err != nil {
			return count(fmt.Errorf("flush output: %w", err))
		}
		lastFlush = time.Now()
		return count(nil)
	}
	for {
		select {
		case it, ok := <-in:
			if !ok {
				return flush()
			}
			if it.IsMark() {
				if err := flush(); err != nil {
					return err
				}
				it.Reached()
				continue
			}
			taken++
			if err := w.Write(it); err != nil {
				return count(fmt.Errorf("write item from %s: %w", it.URL, err))
			}
			if len(in) > 0 || due != nil {
				continue // more to come, or a flush is already due
			}
			wait := every - time.Since(lastFlush)
			if wait <= 0 {
				if err := flush(); err != nil {
					return err
				}
				continue
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			due = timer.C
		case <-due:
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// Limit is a stage that passes the first n items from in and then calls
// onLimit once (to stop the crawl); items after the nth are counted under
// stats.ItemsDropped+"over_limit" and not passed on, nor are the marks
// after them, since their pages were not written whole. Like Filter, it closes
// the returned channel when in is closed or ctx is done.
func Limit(ctx context.Context, in <-chan *item.Item, n int64, onLimit func(), st *stats.Stats) <-chan *item.Item {
	out := make(chan *item.Item, cap(in))
	go func() {
		defer close(out)
		var passed int64
		for {
			it, ok := receive(ctx, in)
			if !ok {
				return
			}
			if passed == n {
				if !it.IsMark() {
					st.Inc(stats.ItemsDropped + "over_limit")
				}
				continue
			}
			select {
			case out <- it:
			case <-ctx.Done():
				return
			}
			if it.IsMark() {
				continue
			}
			if passed++; passed == n {
				onLimit()
			}
		}
	}()
	return out
}

// receive takes the next item from in; false when in is closed or ctx is
// done, so that a stage ends on either.
func receive(ctx context.Context, in <-chan *item.Item) (*item.Item, bool) {
	select {
	case it, ok := <-in:
		return it, ok
	case <-ctx.Done():
		return nil, false
	}
}
