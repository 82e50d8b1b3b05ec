package downloader

import (
	"context"
	"net/netip"
	"time"
)

// Clock replaces a Downloader's time and chance for a test: now for the
// clock, sleep for the waits before retries, jitter for the random part of
// the backoff. Nil leaves one as it is. Call it before the first Fetch.
func SetClock(d *Downloader, now func() time.Time, sleep func(context.Context, time.Duration) error, jitter func() float64) {
	if now != nil {
		d.now = now
	}
	if sleep != nil {
		d.sleep = sleep
	}
	if jitter != nil {
		d.jitter = jitter
	}
}

// SleepCtx is the wait used when a test does not replace it.
var SleepCtx = sleepCtx

// RetryAfter parses a Retry-After value.
var RetryAfter = retryAfter

// IsPrivate reports whether a is in the default private networks.
func IsPrivate(a netip.Addr) bool { return defaultPrivateNets.contains(a) }
