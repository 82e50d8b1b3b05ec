// Package render renders pages in a headless Chromium, so that a crawl
// sees the DOM a page's scripts build and not only the HTML its server
// sends. A Pool keeps one browser process and a fixed number of reusable
// tabs; a Fetcher puts it behind the downloader, so that a rendered page is
// fetched, retried, cached and limited like any other, and the browser
// fetches nothing itself: every request of the page (its scripts, styles,
// XHR and fetch calls) is paused and answered through the downloader.
//
// The browser is driven with github.com/chromedp/chromedp, a pure Go client
// of the DevTools protocol that never downloads a browser: one is found on
// the machine (Find) or attached to (Config.BrowserURL).
package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"

	"crawl/stats"
)

// Defaults for the zero fields of Config.
const (
	DefaultTabs    = 4
	DefaultTimeout = 30 * time.Second
)

// Counters the package adds to Config.Stats.
const (
	StatPages    = "render/pages"    // pages rendered
	StatTimeout  = "render/timeout"  // pages whose wait_for or settling did not end in time
	StatErrors   = "render/errors"   // pages that could not be rendered, timeouts included
	StatRestarts = "render/restarts" // browsers started again after one died
	StatBlocked  = "render/blocked"  // requests of pages not made: a blocked resource type
	StatDenied   = "render/denied"   // requests of pages the downloader refused or failed
	StatCaptured = "render/captured" // XHR and fetch responses handed on as pages
)

// ErrNoBrowser is returned by Find, and by a Pool that has to start a
// browser, when no browser is found. Its text says how to install one.
var ErrNoBrowser = errors.New("no browser found: install one (apt-get install chromium-headless-shell), or give --browser PATH or $CRAWL_BROWSER")

// ErrTimeout is wrapped by the error of a page that did not finish
// rendering within its timeout: a wait_for that never matched, a page
// that never loaded. It wraps context.DeadlineExceeded.
var ErrTimeout = fmt.Errorf("render timed out: %w", context.DeadlineExceeded)

// browserNames are the executables Find looks for on PATH, in order.
var browserNames = []string{"chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the browser to start: path if it is set, else
// $CRAWL_BROWSER, else the first of chromium-headless-shell, chromium and
// google-chrome found on PATH. It returns an error wrapping ErrNoBrowser
// when there is none, or when the one named is not an executable file.
func Find(path string) (string, error) {
	if path == "" {
		path = os.Getenv("CRAWL_BROWSER")
	}
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrNoBrowser, err)
		}
		return filepath.Abs(p)
	}
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Config configures a Pool. The zero value means the defaults: a browser
// found by Find, four tabs, 30 seconds per page.
type Config struct {
	// Browser is the path of the browser executable. Empty means Find("").
	Browser string
	// BrowserURL, if set, is the ws:// DevTools address of a browser that
	// runs already: the Pool opens its tabs there and starts nothing.
	BrowserURL string
	// Tabs is how many pages are rendered at once. Zero means DefaultTabs.
	Tabs int
	// UserAgent is the browser's User-Agent, as navigator.userAgent sees
	// it (the requests themselves carry the downloader's). Empty leaves
	// the browser's own.
	UserAgent string
	// Timeout bounds the rendering of one page when its Render sets none.
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// Stats receives the counters above. Nil means they are not kept.
	Stats *stats.Stats
	// Log receives a line per browser started and per browser lost. Nil
	// means slog.Default().
	Log *slog.Logger
}

// Pool renders pages in the tabs of one browser process. The browser is
// started on first use and started again if it dies; Close stops it. A Pool
// is safe for concurrent use; at most Config.Tabs pages render at once, and
// the others wait their turn.
type Pool struct {
	cfg  Config
	sem  chan struct{} // a token per tab in use
	mu   sync.Mutex
	b    *browser // nil until first use, or after Close
	idle []*tab   // tabs of b free for a page
	done bool     // Close was called
}

// browser is one browser process (or attached browser) and its contexts.
type browser struct {
	ctx         context.Context // chromedp's browser context: done when the browser is lost
	cancel      context.CancelFunc
	cancelAlloc context.CancelFunc // stops the process and waits for it
	pid         int                // the process (and process group), 0 if attached
	lost        <-chan struct{}    // closed when the connection to the browser drops
}

// gone reports whether the browser is lost. A command that failed because
// the connection dropped failed after lost was closed, so a page whose
// error gone explains can be rendered again elsewhere.
func (b *browser) gone() bool {
	select {
	case <-b.lost:
		return true
	default:
		return b.ctx.Err() != nil
	}
}

// tab is one tab of a browser, reused from page to page.
type tab struct {
	b      *browser
	ctx    context.Context
	cancel context.CancelFunc
}

// New returns a Pool; it starts nothing until the first page.
func New(cfg Config) *Pool {
	if cfg.Tabs <= 0 {
		cfg.Tabs = DefaultTabs
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Stats == nil {
		cfg.Stats = new(stats.Stats)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Pool{cfg: cfg, sem: make(chan struct{}, cfg.Tabs)}
}

// errClosed is returned for pages asked of a closed Pool.
var errClosed = errors.New("render: pool closed")

// acquire waits for a free tab, starting the browser if none runs.
func (p *Pool) acquire(ctx context.Context) (*tab, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	t, err := p.tab(ctx)
	if err != nil {
		<-p.sem
	}
	return t, err
}

func (p *Pool) tab(ctx context.Context) (*tab, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return nil, errClosed
	}
	if p.b != nil && p.b.gone() {
		p.cfg.Log.Warn("browser lost: starting it again")
		p.cfg.Stats.Inc(StatRestarts)
		p.stopLocked()
	}
	if p.b == nil {
		b, err := p.start(ctx)
		if err != nil {
			return nil, err
		}
		p.b = b
	}
	for len(p.idle) > 0 {
		t := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if t.ctx.Err() == nil {
			return t, nil
		}
		t.cancel()
	}
	return newTab(ctx, p.b)
}

// release gives t back to the pool, or closes it when it may not be
// reused: its page failed, or its browser is gone.
func (p *Pool) release(t *tab, reuse bool) {
	p.mu.Lock()
	if reuse && !p.done && t.b == p.b && t.ctx.Err() == nil {
		p.idle = append(p.idle, t)
		t = nil
	}
	p.mu.Unlock()
	if t != nil {
		t.cancel()
	}
	<-p.sem
}

// newTab opens a tab in b with every request of its pages paused for the
// page's interceptor to answer, and the browser's cache off: a request
// answered from it would not be paused, and so not be counted, checked
// against --deny-private, or captured.
func newTab(ctx context.Context, b *browser) (*tab, error) {
	tctx, cancel := chromedp.NewContext(b.ctx)
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	_, err := chromedp.Call(tctx, network.Enable, network.EnableParams{})
	if err == nil {
		_, err = chromedp.Call(tctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
	}
	if err == nil {
		_, err = chromedp.Call(tctx, fetch.Enable, fetch.EnableParams{
			Patterns: []*fetch.RequestPattern{{URLPattern: "*", RequestStage: fetch.RequestStageRequest}},
		})
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open a browser tab: %w", err)
	}
	return &tab{b: b, ctx: tctx, cancel: cancel}, nil
}

// start starts the browser, or attaches to Config.BrowserURL.
func (p *Pool) start(ctx context.Context) (*browser, error) {
	var (
		actx        context.Context
		cancelAlloc context.CancelFunc
	)
	if p.cfg.BrowserURL != "" {
		actx, cancelAlloc = remote.NewAllocator(context.Background(), p.cfg.BrowserURL)
	} else {
		path := p.cfg.Browser
		if path == "" {
			var err error
			if path, err = Find(""); err != nil {
				return nil, err
			}
		}
		actx, cancelAlloc = chromedp.NewExecAllocator(context.Background(), p.flags(path)...)
	}
	bctx, cancel := chromedp.NewContext(actx)
	stop := context.AfterFunc(ctx, cancelAlloc)
	err := chromedp.Do(bctx)
	stop()
	if err != nil {
		cancel()
		cancelAlloc()
		return nil, fmt.Errorf("start the browser: %w", err)
	}
	b := &browser{ctx: bctx, cancel: cancel, cancelAlloc: cancelAlloc}
	if c := chromedp.FromContext(bctx); c != nil && c.Browser != nil {
		b.lost = c.Browser.LostConnection
		if c.Browser.Process() != nil {
			b.pid = c.Browser.Process().Pid
		}
	}
	p.cfg.Log.Debug("browser started", "pid", b.pid)
	return b, nil
}

// flags are the browser's command line: headless, for a machine without a
// display or a sandbox (as root, in a container), fetching nothing of its
// own (no updates, sync or prefetching, and no name resolved: every request
// of a page is answered through the downloader), in a process group of its
// own that stop kills whole, and killed with the crawler if the crawler
// dies first.
func (p *Pool) flags(path string) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider"),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		// What the Fetch domain does not pause (WebSockets, a service
		// worker's requests) goes to a proxy that is not there, loopback
		// included, rather than to the network.
		chromedp.ProxyServer("socks5://127.0.0.1:9"),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("mute-audio", true),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		}),
	}
	if p.cfg.UserAgent != "" {
		opts = append(opts, chromedp.UserAgent(p.cfg.UserAgent))
	}
	return opts
}

// stopLocked stops the browser and forgets its tabs. p.mu is held.
func (p *Pool) stopLocked() {
	b := p.b
	if b == nil {
		return
	}
	p.b = nil
	for _, t := range p.idle {
		t.cancel()
	}
	p.idle = nil
	if b.pid > 0 {
		// The whole group: the renderers and helpers with the browser.
		syscall.Kill(-b.pid, syscall.SIGKILL)
	}
	b.cancel()
	b.cancelAlloc() // waits for the process and removes its profile
}

// Close stops the browser, kills what is left of its processes and
// removes its temporary profile. Pages still rendering fail. Close is safe
// to call more than once.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	p.stopLocked()
	return nil
}

// PID returns the process id of the running browser, or 0: for tests that
// kill it.
func (p *Pool) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.b == nil {
		return 0
	}
	return p.b.pid
}
