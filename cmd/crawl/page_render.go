package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"crawl/downloader"
	"crawl/render"
)

// pageRender is --render for the commands that try one page at a time
// (crawl fetch, crawl shell): the flag, the flags that choose the browser,
// and the browser itself, started on the first page rendered. Its zero
// value renders nothing.
type pageRender struct {
	on      bool
	browser renderOptions
	pool    *render.Pool
}

// addPageRenderFlags binds --render and the browser flags into p.
func addPageRenderFlags(f *pflag.FlagSet, p *pageRender) {
	f.BoolVar(&p.on, "render", false, "render http(s) pages in a headless Chromium, with the default render settings, as a spider's render: true does")
	addBrowserFlags(f, &p.browser)
}

// prepare finds the browser when --render is on, so that a missing one is
// a usage error before any request.
func (p *pageRender) prepare(url string) error {
	if !p.on {
		return nil
	}
	if !rendersURL(url) {
		return fmt.Errorf("--render: only http(s) pages are rendered, not %s", url)
	}
	p.browser.workers = 1
	if err := p.browser.find(); err != nil {
		return fmt.Errorf("--render: %w", err)
	}
	return nil
}

func rendersURL(url string) bool {
	return strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")
}

// fetcher returns what a page is fetched with: dl, or with --render dl
// behind the browser, which renders every http(s) page it is given.
func (p *pageRender) fetcher(dl *downloader.Downloader, userAgent string) pageFetcher {
	if !p.on {
		return dl
	}
	if p.pool == nil {
		p.pool = p.browser.pool(userAgent, nil, nil)
	}
	return renderAll{&render.Fetcher{Next: dl, Pool: p.pool}}
}

// close stops the browser, if one was started.
func (p *pageRender) close() {
	if p.pool != nil {
		p.pool.Close()
	}
}

// pageFetcher fetches one page, as *downloader.Downloader does.
type pageFetcher interface {
	Fetch(ctx context.Context, req *downloader.Request) (*downloader.Response, error)
}

// renderAll asks for every http(s) page it fetches to be rendered with
// the default settings.
type renderAll struct{ f *render.Fetcher }

func (r renderAll) Fetch(ctx context.Context, req *downloader.Request) (*downloader.Response, error) {
	if req.Render == nil && rendersURL(req.URL) {
		req.Render = &downloader.Render{}
	}
	return r.f.Fetch(ctx, req)
}
