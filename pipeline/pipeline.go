package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

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
		for it := range in {
			if err := check(it); err != nil {
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
// buffered to the operating system. A Writer is used by one goroutine.
type Writer interface {
	Write(*item.Item) error
	Flush() error
}

// Write is the last stage: it writes every item from in to w until in is
// closed, and counts them in st under stats.ItemsWritten. It flushes whenever
// no further item is waiting, so that a reader of the output sees each item
// as soon as it exists while a fast stream of items is still written in
// large batches. It returns the first write error, after which it stops
// reading in; the caller must then stop the producers (cancel their context).
func Write(in <-chan *item.Item, w Writer, st *stats.Stats) error {
	for it := range in {
		if err := w.Write(it); err != nil {
			return fmt.Errorf("write item from %s: %w", it.URL, err)
		}
		st.Inc(stats.ItemsWritten)
		if len(in) == 0 {
			if err := w.Flush(); err != nil {
				return fmt.Errorf("flush output: %w", err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("flush output: %w", err)
	}
	return nil
}
