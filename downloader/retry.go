package downloader

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"crawl/stats"
)

// retryBase is the backoff before the first retry when the server does not
// say how long to wait; each further retry doubles it.
const retryBase = 500 * time.Millisecond

// retryStatuses are the answers worth asking again, as Scrapy's
// RETRY_HTTP_CODES: the server or something in front of it was busy, down,
// or too slow, and may not be next time.
var retryStatuses = map[int]bool{
	http.StatusRequestTimeout:      true, // 408
	http.StatusTooManyRequests:     true, // 429
	http.StatusInternalServerError: true, // 500
	http.StatusBadGateway:          true, // 502
	http.StatusServiceUnavailable:  true, // 503
	http.StatusGatewayTimeout:      true, // 504
	522:                            true, // Cloudflare: connection timed out
	524:                            true, // Cloudflare: a timeout occurred
}

// retry makes a request, and makes it again after a transient failure, up
// to Config.Retries times, waiting before each retry: as long as a
// Retry-After header asks, else an exponential backoff with jitter. POST
// and other methods are retried as GET is, as Scrapy does: a crawler's
// requests are reads, even the ones that use a form. It returns the last
// answer or error. It never waits once ctx is done.
func (d *Downloader) retry(ctx context.Context, client *http.Client, method, rawurl string, header http.Header, body []byte, maxBody int64, publicOnly bool) (*exchange, error) {
	for n := 0; ; n++ {
		x, err := d.attempt(ctx, client, method, rawurl, header, body, maxBody, publicOnly)
		if ctx.Err() != nil {
			if err == nil {
				return x, nil
			}
			return nil, err
		}
		reason := retryReason(x, err)
		if reason == "" {
			return x, err
		}
		if n >= d.cfg.Retries {
			if d.cfg.Retries > 0 {
				d.st.Inc(stats.RetriesExhausted)
				if err != nil {
					word := "retries"
					if n == 1 {
						word = "retry"
					}
					err = fmt.Errorf("%w (gave up after %d %s)", err, n, word)
				}
			}
			return x, err
		}
		wait, ok := d.retryWait(n, x, err)
		if !ok {
			d.st.Inc(stats.RetriesExhausted)
			return x, err
		}
		d.st.Inc(stats.Retries + reason)
		if err := d.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// retryReason says why an attempt is worth retrying, as a status code or an
// error kind, or returns "" when it is not: a success, an answer that will
// not change (404), or an error that will not go away (a bad certificate,
// a refused redirect, a private address refused, a host that does not
// exist).
func retryReason(x *exchange, err error) string {
	if err == nil {
		if retryStatuses[x.status] {
			return strconv.Itoa(x.status)
		}
		return ""
	}
	if errors.Is(err, ErrRobotsDenied) || errors.Is(err, ErrRobotsUnreachable) || errors.Is(err, ErrRedirect) ||
		errors.Is(err, ErrPrivateAddress) || errors.Is(err, context.Canceled) {
		return ""
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if _, ok := errors.AsType[*staleConnError](err); ok {
		return "stale_connection"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return ""
	}
	switch kind := ErrorKind(err); kind {
	case "timeout", "connection_refused", "connection_reset", "dns":
		return kind
	}
	return ""
}

// staleConnError is an error that a request met on a connection kept from
// an earlier request, before any answer came: the server may have closed
// it while it was idle, or an earlier answer longer than its Content-Length
// may have left bytes in it. The request is worth retrying at once on a
// new connection, as browsers do; the server is not at fault, so there is
// no backoff.
type staleConnError struct{ err error }

func (e *staleConnError) Error() string { return e.err.Error() }
func (e *staleConnError) Unwrap() error { return e.err }

// retryWait returns how long to wait before retry n+1 (n counts from 0)
// after the answer x (nil after an error), and false when the server asks
// for a wait longer than Config.MaxRetryWait. Without a Retry-After the wait
// is drawn from [b/2, b), b = retryBase·2ⁿ capped at MaxRetryWait ("equal
// jitter"): long enough to back off, spread out so that requests that
// failed together do not come back together.
func (d *Downloader) retryWait(n int, x *exchange, err error) (time.Duration, bool) {
	if _, ok := errors.AsType[*staleConnError](err); ok {
		return 0, true
	}
	b := min(retryBase<<min(n, 30), d.cfg.MaxRetryWait)
	wait := b/2 + time.Duration(d.jitter()*float64(b/2))
	if x == nil {
		return wait, true
	}
	after, ok := retryAfter(x.header.Get("Retry-After"), d.now())
	if !ok {
		return wait, true
	}
	if after > d.cfg.MaxRetryWait {
		return 0, false
	}
	return max(after, wait), true
}

// retryAfter parses a Retry-After value, delay-seconds or an HTTP-date
// (RFC 9110 section 10.2.3), into a wait from now; a date in the past
// means no wait. It returns false for an absent or unreadable value.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > uint64(1<<62/time.Second) {
			return 1 << 62, true // too many digits: a very long time
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// sleepCtx waits for d, or until ctx is done, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
