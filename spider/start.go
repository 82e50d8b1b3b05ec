package spider

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"crawl/downloader"
	"crawl/urls"
)

// maxLine is the longest line of a start URLs file, newline included. A
// longer line is reported as a bad start URL and skipped; the reader's
// buffer never grows past it, whatever the file holds.
const maxLine = 64 << 10

// StartRequests returns the start requests, produced lazily as the consumer
// ranges over them: start_urls first, then sitemap_urls (with Rule
// SitemapRule, so that Parse reads them as sitemaps), then the lines of
// start_urls_file, then the numbers of start_urls_range. Every request has
// depth 0 and the zero Method (GET).
//
// The URL file is opened when iteration reaches it and closed when it is
// exhausted or the consumer stops early; it is read a buffer at a time, so
// memory does not grow with its length. A line that is not a usable URL is
// yielded as a *StartURLError and iteration goes on with the next line; a
// read error is yielded wrapped and ends that file, and iteration goes on
// with start_urls_range. The sequence can be ranged over more than once,
// except that standard input can only be read once.
//
// The consumer cancels ctx when it wants no more requests while the
// iterator may be blocked reading (standard input fed by a slow producer):
// the reader is then closed, if it is an io.Closer, to release the read.
func (s *Spider) StartRequests(ctx context.Context) iter.Seq2[*downloader.Request, error] {
	return func(yield func(*downloader.Request, error) bool) {
		if s.render != nil {
			yield = s.renderStarts(yield)
		}
		robots := s.robotsSitemaps(yield)
		for _, u := range s.startURLs {
			if !yield(&downloader.Request{URL: u}, nil) || !robots(u) {
				return
			}
		}
		for _, u := range s.sitemapURLs {
			if !yield(&downloader.Request{URL: u, Rule: SitemapRule}, nil) || !robots(u) {
				return
			}
		}
		if s.startFile != "" && !s.fileRequests(ctx, yield) {
			return
		}
		if s.startRange != nil {
			s.startRange.requests(func(r *downloader.Request, err error) bool {
				return yield(r, err) && (err != nil || robots(r.URL))
			})
		}
	}
}

// robotsSitemaps returns a function that, with sitemap_from_robots, yields
// the robots.txt of the URL's site as a sitemap request the first time it
// meets the site (scheme, host and port), so that its Sitemap: lines are
// read. It reports whether the consumer wants more. Sites met only in
// start_urls_file are not asked: that file may hold millions of them.
func (s *Spider) robotsSitemaps(yield func(*downloader.Request, error) bool) func(u string) bool {
	if !s.sitemapFromRobots {
		return func(string) bool { return true }
	}
	seen := map[string]bool{}
	return func(u string) bool {
		scheme := urls.Scheme(u)
		if scheme != "http" && scheme != "https" {
			return true
		}
		rest := u[len(scheme)+len("://"):]
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			rest = rest[:i]
		}
		origin := scheme + "://" + rest
		if seen[origin] {
			return true
		}
		seen[origin] = true
		return yield(&downloader.Request{URL: origin + "/robots.txt", Rule: SitemapRule}, nil)
	}
}

// fileRequests yields a request for each URL in start_urls_file. It reports
// whether the consumer wants more.
func (s *Spider) fileRequests(ctx context.Context, yield func(*downloader.Request, error) bool) bool {
	var (
		r    io.Reader
		name string
		dir  string // relative file: URLs resolve against it; "" is the working directory
	)
	if s.startFile == "-" {
		r, name = s.Stdin, "stdin"
		if r == nil {
			r = os.Stdin
		}
	} else {
		f, err := os.Open(s.startFile)
		if err != nil {
			return yield(nil, fmt.Errorf("read start URLs: %w", err))
		}
		defer f.Close()
		r, name, dir = f, s.startFile, filepath.Dir(s.startFile)
	}

	if c, ok := r.(io.Closer); ok {
		defer context.AfterFunc(ctx, func() { c.Close() })()
	}
	br := bufio.NewReaderSize(r, maxLine)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			prefix := string(line[:min(len(line), 60)]) + "..."
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return yield(nil, fmt.Errorf("read start URLs from %s: %w", name, err))
			}
			e := &StartURLError{File: name, Line: n, URL: prefix, Err: fmt.Errorf("line longer than %d bytes", maxLine)}
			if !yield(nil, e) || err == io.EOF {
				return err == io.EOF
			}
			continue
		}
		if err != nil && err != io.EOF {
			// The line is cut short by the error: do not use it.
			return yield(nil, fmt.Errorf("read start URLs from %s: %w", name, err))
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if line = bytes.TrimSpace(line); len(line) > 0 && line[0] != '#' {
			raw := string(line)
			var ok bool
			if u, uerr := checkStartURL(raw, dir); uerr != nil {
				ok = yield(nil, &StartURLError{File: name, Line: n, URL: raw, Err: uerr})
			} else {
				ok = yield(&downloader.Request{URL: u}, nil)
			}
			if !ok {
				return false
			}
		}
		if err == io.EOF {
			return true
		}
	}
}

// urlRange is start_urls_range: template with {n} replaced by from, from+step,
// … up to and including to.
type urlRange struct {
	template       string
	from, to, step int64
	dir            string // set for a file: template, whose URLs are resolved against it
}

func (r *urlRange) url(n int64) string {
	u := strings.ReplaceAll(r.template, "{n}", strconv.FormatInt(n, 10))
	if r.dir != "" {
		if abs, err := checkStartURL(u, r.dir); err == nil {
			return abs
		}
	}
	return u
}

// requests yields the range's requests, counting without overflow even when
// to is near the largest int64.
func (r *urlRange) requests(yield func(*downloader.Request, error) bool) {
	for n := r.from; ; n += r.step {
		if !yield(&downloader.Request{URL: r.url(n)}, nil) {
			return
		}
		if r.to-n < r.step {
			return
		}
	}
}

// checkStartURL reports whether raw is a usable start URL, an absolute
// http or https URL with a host or a file URL, and returns the URL to
// request. A relative file URL such as file:site/index.html is resolved
// against dir into an absolute file:///… URL.
func checkStartURL(raw, dir string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return "", uerr.Err
		}
		return "", err
	}
	if u.Scheme == "" {
		return "", ErrNotAbsolute
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Opaque != "" || u.Hostname() == "" {
			return "", ErrNoHost
		}
		return raw, nil
	case "file":
		return fileURL(u, dir)
	default:
		return "", fmt.Errorf("%w %q (want http, https or file)", ErrScheme, u.Scheme)
	}
}

// fileURL returns the absolute form of the file URL u, resolving a relative
// path (file:dir/page.html) against dir.
func fileURL(u *url.URL, dir string) (string, error) {
	p := u.Path
	if u.Opaque != "" {
		var err error
		if p, err = url.PathUnescape(u.Opaque); err != nil {
			return "", err
		}
		p = filepath.FromSlash(p)
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if p, err = filepath.Abs(p); err != nil {
			return "", err
		}
		p = filepath.ToSlash(p)
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // a Windows drive letter: file:///C:/…
		}
	} else if h := u.Host; h != "" && !strings.EqualFold(h, "localhost") {
		return "", fmt.Errorf("file URL with host %q (want file:///absolute/path or file:relative/path)", h)
	}
	if p == "" {
		return "", errors.New("file URL without a path")
	}
	abs := url.URL{Scheme: "file", Path: p, RawQuery: u.RawQuery}
	return abs.String(), nil
}

// StartCount returns how many start requests the spider makes, and whether
// that is known without reading anything: it is for start_urls and
// start_urls_range, not for a start file or sitemaps.
func (s *Spider) StartCount() (int64, bool) {
	if s.startFile != "" || len(s.sitemapURLs) > 0 || s.sitemapFromRobots {
		return 0, false
	}
	n := int64(len(s.startURLs))
	if r := s.startRange; r != nil {
		n += (r.to-r.from)/r.step + 1
	}
	return n, true
}
