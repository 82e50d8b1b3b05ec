package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"

	"crawl/downloader"
	"crawl/engine"
	"crawl/render"
	"crawl/spider"
	"crawl/stats"
)

// renderOptions are the flags of the browser that renders the pages a
// spider asks to be rendered (its render keys).
type renderOptions struct {
	workers    int
	browser    string // --browser; the path found, once checked
	browserURL string
}

// addRenderFlags binds the rendering flags into o.
func addRenderFlags(f *pflag.FlagSet, o *renderOptions) {
	f.IntVar(&o.workers, "render-workers", render.DefaultTabs, "pages rendered at once, each in a tab of one browser (for spiders with render:)")
	addBrowserFlags(f, o)
}

// addBrowserFlags binds the flags that choose the browser into o.
func addBrowserFlags(f *pflag.FlagSet, o *renderOptions) {
	f.StringVar(&o.browser, "browser", "", "the Chromium to render pages with, as `PATH` (default: $CRAWL_BROWSER, else chromium-headless-shell, chromium or google-chrome on PATH)")
	f.StringVar(&o.browserURL, "browser-url", "", "render in the browser already running at this DevTools `URL` (ws://...) instead of starting one")
}

// check validates the flags and, when sp renders pages, finds the
// browser: a spider that needs one fails before the crawl starts.
func (o *renderOptions) check(sp *spider.Spider) error {
	if o.workers < 1 {
		return fmt.Errorf("--render-workers must be at least 1, got %d", o.workers)
	}
	if o.browserURL != "" && !strings.HasPrefix(o.browserURL, "ws://") && !strings.HasPrefix(o.browserURL, "wss://") {
		return fmt.Errorf("--browser-url: want a DevTools address such as ws://127.0.0.1:9222/devtools/browser/..., got %q", o.browserURL)
	}
	if sp == nil || !sp.NeedsRender() {
		return nil
	}
	if err := o.find(); err != nil {
		return fmt.Errorf("%s renders pages, but %w", sp.File(), err)
	}
	return nil
}

// find finds the browser, unless one is attached to.
func (o *renderOptions) find() error {
	if o.browserURL != "" {
		return nil
	}
	path, err := render.Find(o.browser)
	if err != nil {
		return err
	}
	o.browser = path
	return nil
}

// pool returns a pool of the browser for a command that renders pages.
func (o *renderOptions) pool(ua string, st *stats.Stats, log *slog.Logger) *render.Pool {
	return render.New(render.Config{
		Browser: o.browser, BrowserURL: o.browserURL, Tabs: o.workers,
		UserAgent: ua, Stats: st, Log: log,
	})
}

// fetcher returns what the crawl fetches with: dl itself, or, when sp
// renders pages, dl behind a pool of browser tabs. close stops the
// browser; it must be called however the crawl ends.
func (o *renderOptions) fetcher(sp *spider.Spider, dl *downloader.Downloader, ua string, st *stats.Stats, log *slog.Logger) (f engine.Fetcher, close func()) {
	if !sp.NeedsRender() {
		return dl, func() {}
	}
	pool := o.pool(ua, st, log)
	return &render.Fetcher{Next: dl, Pool: pool}, func() { pool.Close() }
}

// prepareRender decides whether crawl parse renders the page: as --render
// says, else as the spider renders its start pages; and finds the browser.
func (o *parseOptions) prepareRender(flagGiven bool) error {
	if !flagGiven {
		o.rendered = o.spiderRender() != nil
	}
	if web := strings.HasPrefix(o.url, "http://") || strings.HasPrefix(o.url, "https://"); !web {
		if flagGiven && o.rendered {
			return usageError{fmt.Errorf("--render: only http(s) pages are rendered, not %s", o.target)}
		}
		o.rendered = false
	}
	if !o.rendered {
		return nil
	}
	o.render.workers = 1
	if err := o.render.find(); err != nil {
		return usageError{fmt.Errorf("--render: %w", err)}
	}
	return nil
}

// spiderRender is the spider's top-level render settings, or nil when it
// has none or the spider comes from --field and --follow (it is compiled
// only once the page is fetched).
func (o *parseOptions) spiderRender() *downloader.Render {
	if o.spider == nil {
		return nil
	}
	return o.spider.Render()
}

// fetch fetches req with dl, rendering the page when crawl parse renders.
func (o *parseOptions) fetch(ctx context.Context, dl *downloader.Downloader, req *downloader.Request) (*downloader.Response, error) {
	if !o.rendered {
		return dl.Fetch(ctx, req)
	}
	req.Render = o.spiderRender()
	if req.Render == nil {
		req.Render = &downloader.Render{}
	}
	pool := o.render.pool("", nil, nil)
	defer pool.Close()
	f := &render.Fetcher{Next: dl, Pool: pool}
	return f.Fetch(ctx, req)
}
