package main

import (
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
	if sp == nil || !sp.NeedsRender() || o.browserURL != "" {
		return nil
	}
	path, err := render.Find(o.browser)
	if err != nil {
		return fmt.Errorf("%s renders pages, but %w", sp.File(), err)
	}
	o.browser = path
	return nil
}

// fetcher returns what the crawl fetches with: dl itself, or, when sp
// renders pages, dl behind a pool of browser tabs. close stops the
// browser; it must be called however the crawl ends.
func (o *renderOptions) fetcher(sp *spider.Spider, dl *downloader.Downloader, ua string, st *stats.Stats, log *slog.Logger) (f engine.Fetcher, close func()) {
	if !sp.NeedsRender() {
		return dl, func() {}
	}
	pool := render.New(render.Config{
		Browser: o.browser, BrowserURL: o.browserURL, Tabs: o.workers,
		UserAgent: ua, Stats: st, Log: log,
	})
	return &render.Fetcher{Next: dl, Pool: pool}, func() { pool.Close() }
}
