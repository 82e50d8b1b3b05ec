package render

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"crawl/downloader"
)

// Page is a document to render: fetched already, it is served to the
// browser as it is, at its URL.
type Page struct {
	// Request is the request that fetched the page; its Render says how
	// to render it, and its Depth and PublicOnly carry over to the
	// page's own requests and captured responses.
	Request *downloader.Request
	// URL, Status, Header and Body are the document as fetched: Body is
	// UTF-8.
	URL    string
	Status int
	Header http.Header
	Body   []byte
	// PublicOnly is set on the page's own requests: see
	// downloader.Config.DenyPrivate. A page answered from a public address
	// may lead the browser only to public addresses.
	PublicOnly bool
	// Fetch answers the page's own requests: scripts, styles, images, XHR
	// and fetch calls. Nil fails them all. It must be safe for concurrent
	// use.
	Fetch func(ctx context.Context, req *downloader.Request) (*downloader.Response, error)
}

// Result is a rendered page.
type Result struct {
	// HTML is the DOM once the page settled, serialised.
	HTML []byte
	// Captured are the page's XHR and fetch responses that
	// Render.Capture matched, in the order they were answered.
	Captured []*downloader.Response
}

// maxAttempts is how many browsers a page is tried in: it is tried again
// when the browser dies under it, and fails when the next one dies too.
const maxAttempts = 3

// Render renders pg in a tab of the pool and returns its DOM. It waits for
// a free tab, starting the browser if it is not running; a page whose
// browser dies while it renders is rendered again in a new browser. The
// error wraps ErrTimeout when the page did not settle within its timeout.
func (p *Pool) Render(ctx context.Context, pg *Page) (*Result, error) {
	for attempt := 1; ; attempt++ {
		t, err := p.acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", pg.URL, err)
		}
		res, err := p.renderIn(ctx, t, pg)
		lost := err != nil && t.b.gone() && ctx.Err() == nil
		p.release(t, err == nil)
		if lost && attempt < maxAttempts {
			continue
		}
		if err != nil {
			p.cfg.Stats.Inc(StatErrors)
			if errors.Is(err, ErrTimeout) {
				p.cfg.Stats.Inc(StatTimeout)
			}
			return nil, fmt.Errorf("render %s: %w", pg.URL, err)
		}
		p.cfg.Stats.Inc(StatPages)
		return res, nil
	}
}

// session is the rendering of one page in one tab.
type session struct {
	p        *Pool
	pg       *Page
	opts     *downloader.Render
	ctx      context.Context // the tab's, with the page's deadline
	main     cdp.FrameID     // the tab's top frame
	served   atomic.Bool     // the document was served to the top frame
	inflight atomic.Int64    // requests paused and not yet answered
	capture  *regexp.Regexp

	mu       sync.Mutex
	captured []*downloader.Response
}

func (p *Pool) renderIn(ctx context.Context, t *tab, pg *Page) (*Result, error) {
	opts := pg.Request.Render
	if opts == nil {
		opts = &downloader.Render{}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = p.cfg.Timeout
	}
	rctx, cancel := context.WithTimeout(t.ctx, timeout)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	s := &session{p: p, pg: pg, opts: opts, ctx: rctx}
	if c := chromedp.FromContext(t.ctx); c != nil && c.Target != nil {
		s.main = cdp.FrameID(c.Target.TargetID)
	}
	if opts.Capture != "" {
		re, err := regexp.Compile(opts.Capture)
		if err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		s.capture = re
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // before the wait: ends the interceptor and its answers
	s.intercept(&wg)
	html, err := s.run()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if rctx.Err() != nil && !t.b.gone() && t.ctx.Err() == nil {
			return nil, fmt.Errorf("%w (after %v): %w", ErrTimeout, timeout, err)
		}
		return nil, err
	}
	// Leave the tab blank for the next page: its timers, sockets and
	// requests stop with the document, which is gone once the blank page
	// commits.
	if _, err := chromedp.Run(rctx, navigate("about:blank")); err != nil {
		return nil, fmt.Errorf("reset the tab: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Result{HTML: html, Captured: s.captured}, nil
}

// run navigates to the page, lets it settle, runs its actions and scrolls,
// and returns its DOM.
func (s *session) run() ([]byte, error) {
	ctx, o := s.ctx, s.opts
	var err error
	if o.Wait == downloader.WaitDOMContentLoaded {
		_, err = chromedp.Run(ctx, chromedp.WaitEvent(page.DomContentEventFired, nil, navigate(s.pg.URL)))
	} else {
		_, err = chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, navigate(s.pg.URL)))
	}
	if err != nil {
		return nil, fmt.Errorf("load the page: %w", err)
	}
	switch o.Wait {
	case downloader.WaitNetworkIdle:
		if err := s.settle(networkIdle); err != nil {
			return nil, fmt.Errorf("wait for the network to be idle: %w", err)
		}
	case downloader.WaitDelay:
		if err := sleep(ctx, o.Delay); err != nil {
			return nil, fmt.Errorf("wait %v: %w", o.Delay, err)
		}
	}
	if o.WaitFor != "" {
		if err := s.waitFor(o.WaitFor); err != nil {
			return nil, err
		}
	}
	for i, a := range o.Actions {
		if err := s.action(a); err != nil {
			return nil, fmt.Errorf("actions[%d]: %w", i, err)
		}
	}
	if err := s.scroll(o.Scroll); err != nil {
		return nil, err
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		return nil, fmt.Errorf("read the DOM: %w", err)
	}
	return []byte("<!DOCTYPE html>\n" + html), nil
}

// navigate sends Page.navigate without waiting for the load: the caller
// waits for the event the page's Render asks for.
func navigate(url string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, page.Navigate, page.NavigateParams{URL: url})
		if err == nil && res.ErrorText != "" {
			err = errors.New(res.ErrorText)
		}
		return err
	})
}

// Quiet times: how long no request may be in flight for the network to
// count as idle, for Wait networkidle and after each action.
const (
	networkIdle = 500 * time.Millisecond
	actionQuiet = 100 * time.Millisecond
	pollEvery   = 25 * time.Millisecond
)

// settle waits until no request of the page has been in flight for quiet.
func (s *session) settle(quiet time.Duration) error {
	var since time.Time
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		now := time.Now()
		switch {
		case s.inflight.Load() > 0:
			since = time.Time{}
		case since.IsZero():
			since = now
		case now.Sub(since) >= quiet:
			return nil
		}
		select {
		case <-tick.C:
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
}

// poll evaluates a JavaScript expression until it is true.
func (s *session) poll(ctx context.Context, expr string) error {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitForJS resolves once document.querySelector(sel) matches: at once,
// or at the first change of the DOM after which it does. The page then
// ends the wait as soon as its script writes, with no polling.
const waitForJS = `new Promise(resolve => {
	const sel = %s;
	if (document.querySelector(sel) !== null) return resolve(true);
	const mo = new MutationObserver(() => {
		if (document.querySelector(sel) !== null) { mo.disconnect(); resolve(true); }
	});
	mo.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})`

func (s *session) waitFor(sel string) error {
	_, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](fmt.Sprintf(waitForJS, jsString(sel)), chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("wait for %s: %w", sel, err)
	}
	return nil
}

func (s *session) action(a downloader.RenderAction) error {
	switch a.Kind {
	case "click":
		expr := `(e => e !== null && (e.click(), true))(document.querySelector(` + jsString(a.Selector) + `))`
		if err := s.poll(s.ctx, expr); err != nil {
			return fmt.Errorf("click %s: %w", a.Selector, err)
		}
		return s.settle(actionQuiet)
	case "type":
		if err := s.waitFor(a.Selector); err != nil {
			return err
		}
		if err := chromedp.Do(s.ctx, chromedp.SendKeys(chromedp.CSS(a.Selector), a.Text)); err != nil {
			return fmt.Errorf("type into %s: %w", a.Selector, err)
		}
		return s.settle(actionQuiet)
	case "wait_for":
		return s.waitFor(a.Selector)
	case "scroll":
		return s.scroll(a.N)
	default:
		return fmt.Errorf("unknown action %q", a.Kind)
	}
}

// scrollGrow is how long a scroll waits for the page to grow before it
// takes the page for complete.
const scrollGrow = 3 * time.Second

// scroll scrolls to the bottom n times, each time waiting for the page to
// grow; it stops early, without an error, when the page stops growing.
func (s *session) scroll(n int) error {
	for range n {
		h, err := chromedp.Run(s.ctx, chromedp.Evaluate[float64](
			`(() => { const h = document.documentElement.scrollHeight; window.scrollTo(0, h); return h })()`))
		if err != nil {
			return fmt.Errorf("scroll: %w", err)
		}
		grow, cancel := context.WithTimeout(s.ctx, scrollGrow)
		err = s.poll(grow, fmt.Sprintf(`document.documentElement.scrollHeight > %v`, h))
		cancel()
		if err != nil {
			if s.ctx.Err() != nil {
				return fmt.Errorf("scroll: %w", s.ctx.Err())
			}
			return nil // the page did not grow: the end of the list
		}
		if err := s.settle(actionQuiet); err != nil {
			return fmt.Errorf("scroll: %w", err)
		}
	}
	return nil
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
