package render

import (
	"context"
	"mime"
	"strings"
	"time"

	"crawl/downloader"
)

// Doer is what a Fetcher fetches with: the downloader. It must be safe for
// concurrent use by multiple goroutines.
type Doer interface {
	Fetch(ctx context.Context, req *downloader.Request) (*downloader.Response, error)
}

// Fetcher fetches requests with Next and renders, in Pool, the HTML pages
// of those that ask for it (Request.Render). The document and every
// request the page makes go through Next, so robots.txt, retries, the
// cache, cookies, the proxy and --deny-private apply to them all; the
// engine's politeness applies to the document. It is safe for concurrent
// use by the engine's workers.
type Fetcher struct {
	Next Doer
	Pool *Pool
}

// Fetch fetches req, and renders it when it asks to be and its answer is a
// successful HTML page: the response then has the rendered DOM as its
// body, and the page's captured XHR and fetch responses in Captured. A
// page that fails to render is an error (wrapping ErrTimeout for a
// timeout), as a page that could not be fetched is.
func (f *Fetcher) Fetch(ctx context.Context, req *downloader.Request) (*downloader.Response, error) {
	resp, err := f.Next.Fetch(ctx, req)
	if err != nil || req.Render == nil || !renderable(resp) {
		return resp, err
	}
	pg := &Page{
		Request:    req,
		URL:        resp.URL,
		Status:     resp.Status,
		Header:     resp.Header,
		Body:       resp.Body,
		PublicOnly: req.PublicOnly || resp.Public,
	}
	pg.Fetch = func(ctx context.Context, sub *downloader.Request) (*downloader.Response, error) {
		return f.Next.Fetch(ctx, sub)
	}
	res, err := f.Pool.Render(ctx, pg)
	if err != nil {
		return nil, err
	}
	for _, c := range res.Captured {
		c.Request = &downloader.Request{URL: c.URL, Depth: req.Depth, PublicOnly: pg.PublicOnly}
	}
	out := *resp
	out.Header = resp.Header.Clone()
	out.Header.Set("Content-Type", "text/html; charset=utf-8")
	out.Body, out.Truncated, out.Captured = res.HTML, false, res.Captured
	return &out, nil
}

// renderable reports whether resp is a page worth rendering: a successful
// HTML answer over HTTP(S).
func renderable(resp *downloader.Response) bool {
	if resp.Status < 200 || resp.Status > 299 {
		return false
	}
	if !strings.HasPrefix(resp.URL, "http://") && !strings.HasPrefix(resp.URL, "https://") {
		return false
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "text/html" || mt == "application/xhtml+xml" || mt == ""
}

// CrawlDelay is Next's, when Next reads robots.txt.
func (f *Fetcher) CrawlDelay(host string) time.Duration {
	if cd, ok := f.Next.(interface{ CrawlDelay(string) time.Duration }); ok {
		return cd.CrawlDelay(host)
	}
	return 0
}
