// Package downloader fetches pages over HTTP(S) and from local files.
package downloader

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// DefaultUserAgent is the User-Agent sent when Config.UserAgent is empty.
const DefaultUserAgent = "crawl/0.1"

// Defaults for the zero fields of Config.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBody      = 10 << 20
	DefaultMaxRedirects = 10
	defaultIdlePerHost  = 16
)

// Config configures a Downloader. The zero value means the defaults.
type Config struct {
	// Timeout bounds a whole request: connecting, sending, and reading the
	// entire body. Zero means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent with every request unless the request sets its own.
	// Empty means DefaultUserAgent.
	UserAgent string
	// MaxBody is the most body bytes read from one response; a longer body is
	// cut there and the response marked Truncated. Zero means DefaultMaxBody.
	MaxBody int64
	// IdleConnsPerHost is how many idle connections are kept per host for
	// reuse; set it to at least the number of concurrent requests per host.
	// Zero means 16.
	IdleConnsPerHost int
	// CheckRedirect, if set, is asked about every redirect target before it
	// is followed; a non-nil error stops the redirect and fails the request.
	CheckRedirect func(target string) error
}

// Downloader fetches requests. It is safe for concurrent use.
type Downloader struct {
	cfg    Config
	client *http.Client
}

// New returns a Downloader with its own connection pool.
func New(cfg Config) *Downloader {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.IdleConnsPerHost <= 0 {
		cfg.IdleConnsPerHost = defaultIdlePerHost
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0 // no global cap: the per-host cap is what matters
	tr.MaxIdleConnsPerHost = cfg.IdleConnsPerHost
	d := &Downloader{cfg: cfg}
	d.client = &http.Client{Transport: tr, CheckRedirect: d.checkRedirect}
	return d
}

// Close closes the idle connections the Downloader keeps for reuse. Call it
// when the crawl is over; requests in flight are not affected.
func (d *Downloader) Close() {
	d.client.CloseIdleConnections()
}

// ErrBody is wrapped by errors that happened while reading a response body.
var ErrBody = errors.New("read body")

// ErrRedirect is wrapped by errors for redirects that were not followed.
var ErrRedirect = errors.New("redirect refused")

func (d *Downloader) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > DefaultMaxRedirects {
		return fmt.Errorf("%w: stopped after %d redirects", ErrRedirect, len(via))
	}
	target := req.URL.String()
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("%w: %s is not http(s)", ErrRedirect, target)
	}
	for _, prev := range via {
		if prev.URL.String() == target {
			return fmt.Errorf("%w: loop back to %s", ErrRedirect, target)
		}
	}
	if d.cfg.CheckRedirect != nil {
		if err := d.cfg.CheckRedirect(target); err != nil {
			return fmt.Errorf("%w: %w", ErrRedirect, err)
		}
	}
	return nil
}

// Fetch fetches req and reads its whole body. A response of any status is a
// Response, not an error; errors are for requests that got no response.
// Errors wrap what was being done and the URL; ErrorKind sorts them.
func (d *Downloader) Fetch(ctx context.Context, req *Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	switch u.Scheme {
	case "http", "https":
		return d.fetchHTTP(ctx, req)
	case "file":
		return d.fetchFile(req, u)
	default:
		return nil, fmt.Errorf("fetch %s: unsupported scheme %q", req.URL, u.Scheme)
	}
}

func (d *Downloader) fetchHTTP(ctx context.Context, req *Request) (*Response, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	for k, vs := range req.Header {
		hreq.Header[k] = vs
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", d.cfg.UserAgent)
	}
	resp, err := d.client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, truncated, err := readLimited(resp.Body, d.cfg.MaxBody)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w: %w", req.URL, ErrBody, err)
	}
	return &Response{
		Request:   req,
		URL:       resp.Request.URL.String(),
		Status:    resp.StatusCode,
		Header:    resp.Header,
		Body:      data,
		Truncated: truncated,
	}, nil
}

// unwrapURLError drops the *url.Error layer, whose text repeats the method
// and URL that the caller's own wrapping already names.
func unwrapURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// fetchFile reads a local file, as Scrapy's file:// handler does. It is only
// ever asked for URLs from the spider file or from pages that were themselves
// local files: the spider never follows a web page's link to file://.
func (d *Downloader) fetchFile(req *Request, u *url.URL) (*Response, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("fetch %s: file URL names host %q: only local files can be read", req.URL, u.Host)
	}
	path := filepath.FromSlash(u.Path)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("fetch %s: %s is a directory", req.URL, path)
	}
	data, truncated, err := readLimited(f, d.cfg.MaxBody)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	ctype := mime.TypeByExtension(filepath.Ext(path))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	h := http.Header{}
	h.Set("Content-Type", ctype)
	return &Response{Request: req, URL: req.URL, Status: http.StatusOK, Header: h, Body: data, Truncated: truncated}, nil
}

// readLimited reads r to the end or to max bytes, whichever comes first.
func readLimited(r io.Reader, max int64) ([]byte, bool, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > max {
		return data[:max], true, nil
	}
	return data, false, nil
}

// ErrorKind sorts a Fetch error into a short snake_case kind for the stats:
// timeout, dns, connection_refused, connection_reset, tls, redirect,
// not_found, body, or other.
func ErrorKind(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrRedirect):
		return "redirect"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return "connection_reset"
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.Is(err, http.ErrSchemeMismatch):
		return "tls"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, os.ErrNotExist):
		return "not_found"
	case errors.Is(err, ErrBody):
		return "body"
	default:
		return "other"
	}
}

func mediaType(contentType string) string {
	if contentType == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}
