package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/sync/errgroup"

	"crawl/bench/site"
)

// serve is the -serve child: it builds the site, serves it on 127.0.0.1,
// prints its base URL on stdout, and stops when stdin reaches its end
// (the parent closed it, or exited) or ctx is done.
func serve(ctx context.Context, o *options, stdin io.Reader, stdout io.Writer) error {
	opts := site.ForPages(o.pages)
	opts.Chain, opts.Latency = o.chain, o.siteLatency
	base, stop, err := site.New(opts).Start()
	if err != nil {
		return err
	}
	defer stop()
	if _, err := fmt.Fprintln(stdout, base); err != nil {
		return err
	}
	eof := make(chan struct{})
	go func() {
		// Exits at the end of stdin; if ctx ends first, with the process.
		io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	return nil
}

// getChild is the -get child: it fetches every page of a shop of o.pages
// pages from o.base with the baseline getter and prints the pages and
// bytes it got.
func getChild(ctx context.Context, o *options, stdout io.Writer) error {
	var urls []string
	for _, p := range site.ForPages(o.pages).Paths() {
		urls = append(urls, o.base+p)
	}
	pages, n, err := get(ctx, urls, o.workers[0], o.get == "goquery")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%d pages %d bytes\n", pages, n)
	return err
}

// get is the baseline: workers goroutines take URLs from a channel, GET
// each with net/http over one connection pool, read the whole body and,
// with parse, parse it with goquery and do nothing else. It returns the
// pages and body bytes it got; a failed request or a status other than 200
// is an error.
func get(ctx context.Context, urls []string, workers int, parse bool) (pages, size int64, err error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = workers // as the crawler's downloader does
	client := &http.Client{Transport: tr}
	defer client.CloseIdleConnections()

	var nPages, nBytes atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	todo := make(chan string)
	g.Go(func() error {
		defer close(todo)
		for _, u := range urls {
			select {
			case todo <- u:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			for u := range todo {
				body, err := fetch(ctx, client, u)
				if err != nil {
					return err
				}
				if parse {
					if _, err := goquery.NewDocumentFromReader(bytes.NewReader(body)); err != nil {
						return fmt.Errorf("parse %s: %w", u, err)
					}
				}
				nPages.Add(1)
				nBytes.Add(int64(len(body)))
			}
			return nil
		})
	}
	err = g.Wait()
	return nPages.Load(), nBytes.Load(), err
}

func fetch(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("get %s: read body: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: status %d", u, resp.StatusCode)
	}
	return body, nil
}
