package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"syscall"

	"github.com/spf13/cobra"

	"crawl/downloader"
)

// fetchOptions holds the flags of `crawl fetch`.
type fetchOptions struct {
	target   string
	raw      bool              // --raw: the body's bytes as they came
	headers  bool              // --headers: the response head instead of the body
	download downloader.Config // the downloader flags of crawl run, bound straight in
	render   pageRender        // --render, --browser, --browser-url

	url string // target as a URL: a path becomes a file: URL
}

func newFetchCommand() *cobra.Command {
	var opts fetchOptions
	cmd := &cobra.Command{
		Use:   "fetch URL|FILE",
		Short: "Write a page to standard output as the crawler gets it",
		Long: `fetch downloads one page as crawl run would, with the same downloader
flags (robots.txt, user agent, cookies, proxy, cache, timeouts, retries),
and writes its body to standard output: an HTML page decoded to UTF-8, as
the spider reads it, or with --raw the bytes the server sent (after undoing
gzip, deflate or br). --headers writes the status and the headers instead.
--render writes the page a headless Chromium built from it, scripts run.

A URL on the command line is trusted as a start URL is: --deny-private
keeps out only redirects from a public address to a private one.

Exit status: 0 for a page fetched with a status below 400; 1 when it could
not be fetched (refused connection, timeout, denied by robots.txt) or
answered 400 or above, as curl -f decides, in which case no body is
written; 2 for bad flags.`,
		Example: `  crawl fetch https://books.toscrape.com/ | less
  crawl fetch --headers https://books.toscrape.com/
  crawl fetch --render https://quotes.toscrape.com/js/ | grep quote
  crawl fetch --raw --user-agent 'mybot/1.0' https://example.com/ > page.html`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("fetch takes one URL or file, got %d arguments", len(args))}
			}
			return nil
		},
		PreRunE: func(_ *cobra.Command, args []string) error {
			opts.target = args[0]
			return opts.prepare()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFetch(cmd.Context(), &opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.raw, "raw", false, "write the body as the server sent it, not decoded to UTF-8")
	f.BoolVar(&opts.headers, "headers", false, "write the response's status and headers instead of its body")
	addDownloadFlags(f, &opts.download)
	addPageRenderFlags(f, &opts.render)
	return cmd
}

func (o *fetchOptions) prepare() error {
	if errs := validateDownload(&o.download); len(errs) > 0 {
		return usageError{problems(errs)}
	}
	u, err := targetURL(o.target)
	if err != nil {
		return usageError{err}
	}
	o.url = u
	if o.render.on && o.raw {
		return usageError{errors.New("--raw writes the bytes the server sent and --render the page a browser built: give one or the other")}
	}
	if err := o.render.prepare(o.url); err != nil {
		return usageError{err}
	}
	return nil
}

// errHTTPStatus reports a response with a status of 400 or more.
var errHTTPStatus = errors.New("HTTP status")

// runFetch fetches the page and writes its body or head to stdout.
func runFetch(ctx context.Context, o *fetchOptions, stdout, stderr io.Writer) error {
	dl := downloader.New(o.download)
	defer dl.Close()
	defer o.render.close()
	resp, err := fetchPage(ctx, o.render.fetcher(dl, o.download.UserAgent), o.url)
	if err != nil {
		return err
	}
	if o.headers {
		if err := writeHead(stdout, resp); err != nil {
			return err
		}
	}
	if resp.Status >= 400 {
		return fmt.Errorf("fetch %s: %w %d %s", resp.URL, errHTTPStatus, resp.Status, http.StatusText(resp.Status))
	}
	if o.headers {
		return nil
	}
	body := resp.Body
	if o.raw {
		body = resp.Raw
	}
	if resp.Truncated {
		fmt.Fprintf(stderr, "crawl: warning: the body was cut at %d bytes (--max-body)\n", len(resp.Raw))
	}
	if _, err := stdout.Write(body); err != nil && !errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("write body: %w", err) // a reader that has all it wants (| head) is no failure
	}
	return nil
}

// fetchPage fetches one page given on the command line, trusted as a
// start URL is, and says how to get past robots.txt when it is in the way.
func fetchPage(ctx context.Context, dl pageFetcher, url string) (*downloader.Response, error) {
	resp, err := dl.Fetch(ctx, &downloader.Request{URL: url})
	switch {
	case err == nil:
		return resp, nil
	case ctx.Err() != nil:
		return nil, errInterrupted
	case errors.Is(err, downloader.ErrRobotsDenied):
		return nil, fmt.Errorf("%w; --obey-robots=false fetches it anyway", err)
	}
	return nil, err
}

// writeHead writes the status and the headers of resp, one per line,
// sorted by name, then an empty line: the head as the crawler got it, so
// without the Content-Encoding it undid.
func writeHead(w io.Writer, resp *downloader.Response) error {
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	bw := &errWriter{w: w}
	fmt.Fprintf(bw, "%d %s\n", resp.Status, http.StatusText(resp.Status))
	for _, k := range names {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(bw, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintln(bw)
	if bw.err != nil {
		return fmt.Errorf("write head: %w", bw.err)
	}
	return nil
}

// errWriter keeps the first error of a series of writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
