package shared

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrLost is in the error of every call once the crawl's state in Redis
// is gone (Redis restarted without persistence, or the keys were flushed
// or evicted) or went back in time (Redis restarted from an older
// snapshot). Work recorded there may be lost, so the crawl must not go on,
// and above all must not end as finished.
var ErrLost = errors.New("shared crawl state lost")

// ErrUnreachable is in the error of every call once Redis has not answered
// for Options.Patience.
var ErrUnreachable = errors.New("no answer from Redis")

// call runs one command of the script at now (see run). While Redis does
// not answer, or answers that it is loading its data, it tries again for
// up to Options.Patience, so that a Redis restarted with its data only
// pauses the crawl. An error that means the crawl cannot go on, ErrLost or
// ErrUnreachable, is kept: every later call returns it at once.
func (f *Frontier) call(ctx context.Context, now time.Time, cmd string, args ...any) (any, error) {
	if err := f.Err(); err != nil {
		return nil, err
	}
	var since time.Time
	backoff := 20 * time.Millisecond
	for {
		v, err := f.run(ctx, now, cmd, args...).Result()
		if err == nil {
			f.acked.Add(1)
			if !since.IsZero() && f.waiting.CompareAndSwap(true, false) {
				f.log.Warn("Redis answers again: the crawl goes on", "redis", f.where, "after", time.Since(since).Round(time.Millisecond))
			}
			return v, nil
		}
		if lost := f.lostError(err); lost != nil {
			return nil, f.fail(lost)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !transient(err) {
			return nil, err
		}
		if since.IsZero() {
			since = time.Now()
			if f.waiting.CompareAndSwap(false, true) {
				f.log.Warn("Redis does not answer: the crawl waits for it", "redis", f.where, "up_to", f.opts.Patience, "error", err)
			}
		} else if time.Since(since) >= f.opts.Patience {
			return nil, f.fail(fmt.Errorf("%w at %s for %s (%v): this process stopped; its crawl is kept in Redis: run the same command again once Redis is back", ErrUnreachable, f.where, f.opts.Patience, err))
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		backoff = min(2*backoff, time.Second)
	}
}

// lostError returns the error for a reply of the script saying that the
// crawl's state is lost, or nil for any other error.
func (f *Frontier) lostError(err error) error {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return nil
	}
	const again = "run the same command again to start the crawl over (items already written are written again: use new outputs, or -O)"
	msg := rerr.Error()
	switch {
	case strings.HasPrefix(msg, "LOST "):
		return fmt.Errorf("%w: the crawl %q is gone from Redis at %s (restarted without persistence, or its keys flushed or evicted): %s", ErrLost, f.name, f.where, again)
	case strings.HasPrefix(msg, "REPLACED "):
		return fmt.Errorf("%w: the crawl %q in Redis at %s vanished and was started again by another process: %s", ErrLost, f.name, f.where, again)
	case strings.HasPrefix(msg, "ROLLEDBACK "):
		return fmt.Errorf("%w: Redis at %s went back in time (restarted from an older snapshot) and forgot work of this process: run the same command again to go on from what Redis kept (pages done since are fetched again)", ErrLost, f.where)
	}
	return nil
}

// transient says whether err may go away by itself: the connection failed
// or timed out, or Redis is loading its data, busy, or changing roles.
func transient(err error) bool {
	if errors.Is(err, redis.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return true
	}
	for _, p := range []string{"LOADING ", "BUSY ", "TRYAGAIN ", "MASTERDOWN ", "CLUSTERDOWN ", "READONLY "} {
		if strings.HasPrefix(rerr.Error(), p) {
			return true
		}
	}
	return false
}

// fail keeps err as the frontier's error unless it has one, and returns
// the one it keeps.
func (f *Frontier) fail(err error) error {
	f.failed.CompareAndSwap(nil, &err)
	return *f.failed.Load()
}

// Err returns the error that ended this process's part in the crawl:
// ErrLost or ErrUnreachable, or nil while it may go on. It is safe for
// concurrent use.
func (f *Frontier) Err() error {
	if p := f.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// checkEviction refuses a Redis that may evict any key when its memory is
// full: a crawl whose queue loses a key loses work without a trace. Keys
// with an expiry, which a volatile policy may evict, are ones the crawl
// can do without. A server that hides its configuration is trusted.
func checkEviction(ctx context.Context, rdb *redis.Client) error {
	cfg, err := rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		return nil
	}
	if p := cfg["maxmemory-policy"]; strings.HasPrefix(p, "allkeys-") {
		return fmt.Errorf("its maxmemory-policy %s evicts keys when memory is full, which would lose the crawl's work: set maxmemory-policy noeviction (or a volatile-* policy)", p)
	}
	return nil
}

// callSlice is call for a reply of n or more values.
func (f *Frontier) callSlice(ctx context.Context, now time.Time, n int, cmd string, args ...any) ([]any, error) {
	v, err := f.call(ctx, now, cmd, args...)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok || len(list) < n {
		return nil, fmt.Errorf("unexpected reply to %s: %v", cmd, v)
	}
	return list, nil
}

// callInts is call for a reply of integers.
func (f *Frontier) callInts(ctx context.Context, now time.Time, cmd string, args ...any) ([]int64, error) {
	list, err := f.callSlice(ctx, now, 1, cmd, args...)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(list))
	for i, x := range list {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("unexpected reply to %s: %v", cmd, list)
		}
		out[i] = n
	}
	return out, nil
}

// callInt is call for a reply of one integer.
func (f *Frontier) callInt(ctx context.Context, now time.Time, cmd string, args ...any) (int64, error) {
	v, err := f.call(ctx, now, cmd, args...)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("unexpected reply to %s: %v", cmd, v)
	}
	return n, nil
}
