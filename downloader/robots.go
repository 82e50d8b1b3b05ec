package downloader

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"crawl/robots"
	"crawl/stats"
)

// robotsCacheSize is the most origins whose robots.txt is remembered; the
// least recently used is forgotten first, and fetched again if it is needed
// again. A broad crawl meets millions of hosts: the cache must not grow
// with them.
const robotsCacheSize = 4096

// maxRobotsRedirects is how many redirects are followed to a robots.txt, as
// RFC 9309 section 2.3.1.2 asks ("at least five"); a longer chain counts as
// no robots.txt at all.
const maxRobotsRedirects = 5

// errRobotsRedirect stops a robots.txt redirect that is not followed.
var errRobotsRedirect = errors.New("robots.txt redirect not followed")

// robotsEntry is what is known of one origin's robots.txt. Its fields other
// than elem are written once, by the request that fetches it, before ready
// is closed, and only read after.
type robotsEntry struct {
	origin, host string
	ready        chan struct{}
	elem         *list.Element // in robotsCache.lru; guarded by robotsCache.mu

	rules     *robots.Robots
	group     *robots.Group // rules for Config.UserAgent
	delay     time.Duration // the group's Crawl-delay
	denial    error         // why every path is refused (a 5xx answer), or nil
	err       error         // why robots.txt could not be fetched at all, or nil
	expires   time.Time
	abandoned bool  // the fetch was cut short by its caller's context, or refused (refused)
	refused   error // why a fetch made for a PublicOnly request was refused, or nil
}

// robotsCache holds the robots.txt of recently seen origins. At most one
// request fetches an origin's robots.txt; the others for that origin wait
// for it, each as long as its own context allows. It is safe for
// concurrent use.
type robotsCache struct {
	mu      sync.Mutex
	entries map[string]*robotsEntry             // by origin
	lru     *list.List                          // of *robotsEntry, most recent first
	delays  map[string]map[string]time.Duration // host name -> origin -> Crawl-delay
}

func (c *robotsCache) init() {
	c.entries = make(map[string]*robotsEntry)
	c.lru = list.New()
	c.delays = make(map[string]map[string]time.Duration)
}

// remove forgets e, if it is still the entry for its origin. c.mu is held.
func (c *robotsCache) remove(e *robotsEntry) {
	if c.entries[e.origin] != e {
		return
	}
	delete(c.entries, e.origin)
	c.lru.Remove(e.elem)
	if m := c.delays[e.host]; m != nil {
		delete(m, e.origin)
		if len(m) == 0 {
			delete(c.delays, e.host)
		}
	}
}

// add makes e the entry for its origin, forgetting the least recently used
// entry if the cache is full. c.mu is held.
func (c *robotsCache) add(e *robotsEntry) {
	e.elem = c.lru.PushFront(e)
	c.entries[e.origin] = e
	for c.lru.Len() > robotsCacheSize {
		c.remove(c.lru.Back().Value.(*robotsEntry))
	}
}

// CrawlDelay returns the Crawl-delay that the robots.txt of host (a host
// name without port, as the engine groups requests) asks of this crawler,
// or 0 if it asks none or robots.txt is not obeyed. When several origins
// share the host name (http and https, other ports), the longest applies.
func (d *Downloader) CrawlDelay(host string) time.Duration {
	if !d.cfg.ObeyRobots {
		return 0
	}
	c := &d.robots
	c.mu.Lock()
	defer c.mu.Unlock()
	var delay time.Duration
	for _, v := range c.delays[host] {
		delay = max(delay, v)
	}
	return delay
}

// checkRobots returns nil if u may be fetched by userAgent (empty means
// Config.UserAgent), and otherwise an error wrapping ErrRobotsDenied or
// ErrRobotsUnreachable, or ctx's error if ctx ended while robots.txt was
// fetched. publicOnly is the PublicOnly of the request for u: robots.txt is
// fetched under the same limit, and an error wrapping ErrPrivateAddress
// says it could not be.
func (d *Downloader) checkRobots(ctx context.Context, u *url.URL, userAgent string, publicOnly bool) error {
	if !d.cfg.ObeyRobots || (u.Scheme != "http" && u.Scheme != "https") {
		return nil
	}
	e, err := d.robotsFor(ctx, u, publicOnly)
	switch {
	case err != nil:
		return err
	case e.err != nil:
		return fmt.Errorf("%w: %w", ErrRobotsUnreachable, e.err)
	case e.denial != nil:
		return e.denial
	}
	g := e.group
	if userAgent != "" && userAgent != d.cfg.UserAgent {
		g = e.rules.Agent(userAgent)
	}
	if !g.Allowed(u.RequestURI()) {
		return fmt.Errorf("%w (%s/robots.txt)", ErrRobotsDenied, e.origin)
	}
	return nil
}

// robotsFor returns what is known of the robots.txt of u's origin,
// fetching it if nothing is, or what is known has expired.
func (d *Downloader) robotsFor(ctx context.Context, u *url.URL, publicOnly bool) (*robotsEntry, error) {
	c := &d.robots
	origin := originOf(u)
	for {
		c.mu.Lock()
		e := c.entries[origin]
		if e != nil {
			select {
			case <-e.ready:
				if d.now().Before(e.expires) {
					c.lru.MoveToFront(e.elem)
					c.mu.Unlock()
					return e, nil
				}
				c.remove(e) // expired: fetch it again, below
			default:
				// Another request is fetching it: wait for that.
				c.mu.Unlock()
				select {
				case <-e.ready:
					continue // fetched, or abandoned: look again
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
		}
		e = &robotsEntry{origin: origin, host: strings.ToLower(u.Hostname()), ready: make(chan struct{})}
		c.add(e)
		c.mu.Unlock()

		d.fetchRobots(ctx, e, publicOnly)

		c.mu.Lock()
		if e.abandoned {
			c.remove(e) // waiters then fetch it themselves
		} else if c.entries[origin] == e && e.delay > 0 {
			if c.delays[e.host] == nil {
				c.delays[e.host] = make(map[string]time.Duration)
			}
			c.delays[e.host][origin] = e.delay
		}
		close(e.ready)
		c.mu.Unlock()
		switch {
		case e.refused != nil:
			return nil, e.refused
		case e.abandoned:
			return nil, ctx.Err()
		}
		return e, nil
	}
}

// fetchRobots fetches the robots.txt of e's origin and fills in e, as RFC
// 9309 section 2.3.1 says: a 2xx body is parsed; a 4xx (but 429) means no
// rules; a 429 or 5xx, or no answer at all, means everything is disallowed
// until Config.RobotsErrorTTL has passed. Redirects are followed up to five
// times, to any http(s) URL, and the rules found apply to e's origin.
//
// A fetch refused by Config.DenyPrivate is not an answer about the origin,
// only about the request that asked: it is forgotten (e.abandoned), and
// another request, allowed to reach private addresses, fetches it again.
// When the origin itself is private, as it is when a public page links to
// one, asking again costs nothing on the network: the refusal comes before
// a connection is made.
func (d *Downloader) fetchRobots(ctx context.Context, e *robotsEntry, publicOnly bool) {
	target := e.origin + "/robots.txt"
	header := http.Header{"User-Agent": {d.cfg.UserAgent}, "Accept": {"text/plain,*/*;q=0.8"}}
	// robots.MaxSize+1 bytes, so that Parse can tell a line the limit cut.
	x, err := d.exchange(ctx, d.robotsClient, http.MethodGet, target, header, nil, robots.MaxSize+1, publicOnly)
	now := d.now()
	e.expires = now.Add(d.cfg.RobotsTTL)
	outcome := ""
	switch {
	case ctx.Err() != nil:
		e.abandoned = true
		return
	case errors.Is(err, ErrPrivateAddress):
		e.abandoned, e.refused = true, fmt.Errorf("%s: %w", target, err)
		return
	case errors.Is(err, errRobotsRedirect):
		e.rules, outcome = robots.AllowAll(), "missing"
	case err != nil:
		e.rules, outcome = robots.DisallowAll(), "unreachable"
		e.err = fmt.Errorf("%s: %w", target, err)
		e.expires = now.Add(d.cfg.RobotsErrorTTL)
	case x.status >= 200 && x.status <= 299:
		e.rules, outcome = robots.Parse(x.body), "fetched"
		if x.truncated {
			// Read up to robots.MaxSize, as RFC 9309 allows; the rest
			// is ignored, which the stats must say.
			d.st.Inc(stats.Truncated)
		}
	case x.status == http.StatusTooManyRequests || x.status >= 500:
		e.rules, outcome = robots.DisallowAll(), "unavailable"
		e.denial = fmt.Errorf("%w: %s answered %d, so the whole site is off limits for %s",
			ErrRobotsDenied, target, x.status, d.cfg.RobotsErrorTTL)
		e.expires = now.Add(d.cfg.RobotsErrorTTL)
	default: // 4xx, or a 3xx that could not be followed
		e.rules, outcome = robots.AllowAll(), "missing"
	}
	d.st.Inc(stats.Robots + outcome)
	e.group = e.rules.Agent(d.cfg.UserAgent)
	e.delay, _ = e.group.CrawlDelay()
}

// checkRobotsRedirect is the redirect policy for robots.txt fetches.
func checkRobotsRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRobotsRedirects {
		return fmt.Errorf("%w: more than %d redirects", errRobotsRedirect, maxRobotsRedirects)
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("%w: %s is not http(s)", errRobotsRedirect, req.URL)
	}
	for _, prev := range via {
		if prev.URL.String() == req.URL.String() {
			return fmt.Errorf("%w: loop back to %s", errRobotsRedirect, req.URL)
		}
	}
	return nil
}

// originOf returns the origin of an http(s) URL, the scope of a robots.txt:
// scheme, host and port, lower-cased, without a default port.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
