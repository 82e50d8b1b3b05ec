// Package downloader fetches pages over HTTP(S) and from local files, as a
// polite and robust crawler should: it can obey robots.txt, retries what is
// worth retrying with backoff, follows redirects within limits, caps and
// decompresses bodies, decodes HTML to UTF-8, keeps cookies, can replay
// responses from an on-disk cache, and can keep pages on the web from
// leading it to private addresses. Each of these is one file: robots.go,
// retry.go, body.go, charset.go, cache.go, private.go.
package downloader

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/publicsuffix"

	"crawl/stats"
)

// DefaultUserAgent is the User-Agent sent when Config.UserAgent is empty.
// Its product token, "crawl", is the name robots.txt groups address.
const DefaultUserAgent = "crawl/0.1"

// Defaults for the zero fields of Config.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultMaxBody        = 10 << 20
	DefaultMaxRedirects   = 10
	DefaultRetries        = 2
	DefaultMaxRetryWait   = 60 * time.Second
	DefaultRobotsTTL      = 24 * time.Hour
	DefaultRobotsErrorTTL = 10 * time.Minute
	defaultIdlePerHost    = 16
)

// NoRetries, as Config.Retries, turns retries off.
const NoRetries = -1

// Config configures a Downloader. The zero value means the defaults, which
// are those of Scrapy's default settings: robots.txt not consulted, two
// retries, cookies kept, no cache. (The crawl command, like a Scrapy
// project, turns robots.txt on.)
type Config struct {
	// Timeout bounds each attempt at a request: connecting, sending, and
	// reading the entire body. A retry gets a fresh Timeout. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent with every request unless the request sets its own.
	// Its product token (the leading letters, "_" and "-") also picks the
	// robots.txt group that applies. Empty means DefaultUserAgent.
	UserAgent string
	// MaxBody is the most body bytes read from one response, counted after
	// decompression; a longer body is cut there and the response marked
	// Truncated. Zero means DefaultMaxBody.
	MaxBody int64
	// IdleConnsPerHost is how many idle connections are kept per host for
	// reuse; set it to at least the number of concurrent requests per host.
	// Zero means 16.
	IdleConnsPerHost int
	// CheckRedirect, if set, is asked about every redirect target before it
	// is followed; a non-nil error stops the redirect and fails the request.
	CheckRedirect func(target string) error

	// ObeyRobots makes the Downloader fetch the robots.txt of each origin
	// (scheme, host and port) once, and refuse the URLs it disallows, and
	// redirects to them, with an error wrapping ErrRobotsDenied. False, the
	// zero value, fetches every URL without asking.
	ObeyRobots bool
	// RobotsTTL is how long a robots.txt that was fetched (or answered 4xx)
	// is used before it is fetched again. Zero means DefaultRobotsTTL, the
	// 24 hours of RFC 9309 section 2.4.
	RobotsTTL time.Duration
	// RobotsErrorTTL is how long an origin whose robots.txt answered 429 or
	// 5xx, or could not be reached, stays wholly disallowed before its
	// robots.txt is tried again. Zero means DefaultRobotsErrorTTL.
	RobotsErrorTTL time.Duration

	// Retries is how many times a request is tried again after a network
	// error, a timeout, or a 408, 429, 500, 502, 503, 504, 522 or 524
	// answer. Zero means DefaultRetries; NoRetries (or any negative value)
	// means none.
	Retries int
	// MaxRetryWait caps the wait before a retry. A Retry-After header
	// asking for longer ends the retries: the answer is returned as it is.
	// Zero means DefaultMaxRetryWait.
	MaxRetryWait time.Duration

	// DisableCookies turns off the cookie jar. By default cookies are kept
	// for the life of the Downloader, per domain, as a browser would.
	DisableCookies bool
	// Proxy is the URL of a proxy for every request (http, https, socks5 or
	// socks5h). Empty means the environment's HTTP_PROXY, HTTPS_PROXY and
	// NO_PROXY. An invalid URL makes every HTTP fetch fail; ParseProxy
	// checks one beforehand.
	Proxy string
	// TLSConfig, if set, is the TLS configuration for HTTPS connections,
	// for example with extra root certificates. Nil means the system's.
	TLSConfig *tls.Config

	// DenyPrivate keeps pages on the web from leading the crawler into
	// this host or its networks. A request with PublicOnly set (the engine
	// sets it on links found on a page answered from a public address),
	// and every redirect hop after one answered from a public address, may
	// connect only to public addresses: a connection to an address in
	// PrivateNets is refused, with an error wrapping ErrPrivateAddress,
	// before anything is sent. The address checked is the one dialled,
	// after the name was resolved, so a name that resolves to a private
	// address, or that changes its answer (DNS rebinding), is refused
	// too. Requests without PublicOnly (start requests, links from pages
	// on private addresses) may connect anywhere until a hop is answered
	// from a public address. Through a proxy, which makes the connection
	// itself, only the host as written is checked: an IP address in
	// PrivateNets, or localhost or a name under it, is refused; any other
	// name is taken for public. False, the zero value, connects anywhere.
	DenyPrivate bool
	// PrivateNets are the networks DenyPrivate keeps requests out of, and
	// that make a response's Public false. Nil means loopback, the private
	// networks of RFC 1918 and RFC 4193 (fc00::/7), carrier-grade NAT
	// (100.64.0.0/10), link-local (169.254.0.0/16 and fe80::/10, where
	// cloud metadata services answer), 0.0.0.0/8, ::, multicast and
	// 240.0.0.0/4. An IPv4 address mapped into IPv6, or behind the NAT64
	// prefix 64:ff9b::/96, is judged as the IPv4 address it carries.
	PrivateNets []netip.Prefix

	// CacheDir, if set, is a directory of stored responses: a request
	// found there is answered from it instead of the network, and a
	// response fetched is stored there. See cache.go for what is stored.
	CacheDir string
	// CacheTTL is how long a stored response is used. Zero means for ever.
	CacheTTL time.Duration
	// CacheRefresh fetches every request from the network even when it is
	// stored, and overwrites what was stored.
	CacheRefresh bool

	// Stats receives the Downloader's counters: retries, robots.txt
	// fetches, cache hits, decoded charsets. Nil means they are not kept.
	Stats *stats.Stats
}

// Downloader fetches requests. It is safe for concurrent use. It starts no
// goroutines of its own; Close releases its idle connections.
type Downloader struct {
	cfg          Config
	client       *http.Client // pages: up to 10 redirects, each one checked
	robotsClient *http.Client // robots.txt: up to 5 redirects, anywhere
	proxyErr     error
	robots       robotsCache
	cache        *diskCache // nil without Config.CacheDir
	st           *stats.Stats

	// Time and chance, replaced in tests.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func() float64 // in [0, 1)
}

// New returns a Downloader with its own connection pool and cookie jar.
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
	if cfg.RobotsTTL <= 0 {
		cfg.RobotsTTL = DefaultRobotsTTL
	}
	if cfg.RobotsErrorTTL <= 0 {
		cfg.RobotsErrorTTL = DefaultRobotsErrorTTL
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = DefaultRetries
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	d := &Downloader{
		cfg:    cfg,
		st:     cfg.Stats,
		now:    time.Now,
		sleep:  sleepCtx,
		jitter: rand.Float64,
	}
	if d.st == nil {
		d.st = new(stats.Stats)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0 // no global cap: the per-host cap is what matters
	tr.MaxIdleConnsPerHost = cfg.IdleConnsPerHost
	tr.ForceAttemptHTTP2 = true // also with a custom TLSConfig
	if cfg.TLSConfig != nil {
		tr.TLSClientConfig = cfg.TLSConfig.Clone()
	}
	if cfg.Proxy != "" {
		if u, err := ParseProxy(cfg.Proxy); err != nil {
			d.proxyErr = err
		} else {
			tr.Proxy = http.ProxyURL(u)
		}
	}
	var jar http.CookieJar
	if !cfg.DisableCookies {
		// cookiejar.New fails only for options it does not have.
		jar, _ = cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	}
	private := netSet(cfg.PrivateNets)
	if private == nil {
		private = defaultPrivateNets
	}
	g := newGuard(tr, private, cfg.DenyPrivate)
	d.client = &http.Client{Transport: g, Jar: jar, CheckRedirect: d.checkRedirect}
	d.robotsClient = &http.Client{Transport: g, Jar: jar, CheckRedirect: checkRobotsRedirect}
	d.robots.init()
	if cfg.CacheDir != "" {
		d.cache = &diskCache{dir: cfg.CacheDir, ttl: cfg.CacheTTL}
	}
	return d
}

// ParseProxy parses a proxy URL as Config.Proxy takes it.
func ParseProxy(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("proxy %q: %w", raw, err)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("proxy %q: scheme must be http, https, socks5 or socks5h", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("proxy %q: no host", raw)
	}
	return u, nil
}

// Close closes the idle connections the Downloader keeps for reuse. Call it
// when the crawl is over; requests in flight are not affected, and the
// Downloader stays usable.
func (d *Downloader) Close() {
	d.client.CloseIdleConnections()
}

// ErrBody is wrapped by errors that happened while reading a response body.
var ErrBody = errors.New("read body")

// ErrRedirect is wrapped by errors for redirects that were not followed.
var ErrRedirect = errors.New("redirect refused")

// ErrRobotsDenied is wrapped by the error for a request that robots.txt
// disallows, or whose redirect leads to a URL it disallows. The request
// was not sent.
var ErrRobotsDenied = errors.New("denied by robots.txt")

// ErrRobotsUnreachable is wrapped by the error for a request to an origin
// whose robots.txt could not be fetched at all (a network error or a
// timeout). The request was not sent; the error also wraps the cause, so
// ErrorKind sorts it by that (connection_refused, timeout, and so on).
var ErrRobotsUnreachable = errors.New("robots.txt unreachable")

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
	publicOnly := false
	if h := hopsOf(req.Context()); h != nil {
		publicOnly = h.publicOnly.Load()
	}
	if err := d.checkRobots(req.Context(), req.URL, req.Header.Get("User-Agent"), publicOnly); err != nil {
		return fmt.Errorf("redirect to %s: %w", target, err)
	}
	return nil
}

// Fetch fetches req and reads its whole body. A response of any status is a
// Response, not an error; errors are for requests that got no response:
// after the last retry, or at once when robots.txt disallows the request
// (ErrRobotsDenied) or ctx is done. Errors wrap what was being done and the
// URL; ErrorKind sorts them.
func (d *Downloader) Fetch(ctx context.Context, req *Request) (*Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	switch u.Scheme {
	case "http", "https":
		resp, err := d.fetchHTTP(ctx, req, u)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
		}
		return resp, nil
	case "file":
		return d.fetchFile(req, u)
	default:
		return nil, fmt.Errorf("fetch %s: unsupported scheme %q", req.URL, u.Scheme)
	}
}

func (d *Downloader) fetchHTTP(ctx context.Context, req *Request, u *url.URL) (*Response, error) {
	if d.proxyErr != nil {
		return nil, d.proxyErr
	}
	if err := d.checkRobots(ctx, u, req.Header.Get("User-Agent"), req.PublicOnly); err != nil {
		return nil, err
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	x, err := d.exchange(ctx, d.client, method, req.URL, req.Header, req.Body, d.cfg.MaxBody, req.PublicOnly)
	if err != nil {
		return nil, err
	}
	resp := &Response{
		Request:   req,
		URL:       x.url,
		Status:    x.status,
		Header:    x.header,
		Body:      x.body,
		Raw:       x.body,
		Truncated: x.truncated,
		Public:    x.public,
	}
	if isHTML(resp.ContentType()) {
		d.toUTF8(resp, resp.Header.Get("Content-Type"))
	}
	return resp, nil
}

// exchange is one HTTP request and its response as read: the final URL after
// redirects, the status, the header, the body after decompression, and
// whether the answer came from a public address.
type exchange struct {
	url       string
	status    int
	header    http.Header
	body      []byte
	truncated bool
	public    bool
}

// exchange answers a request from the cache, or else from the network with
// retries, storing what the network answered. publicOnly is the request's
// PublicOnly: see Config.DenyPrivate.
func (d *Downloader) exchange(ctx context.Context, client *http.Client, method, rawurl string, header http.Header, body []byte, maxBody int64, publicOnly bool) (*exchange, error) {
	var key string
	if d.cache != nil {
		key = cacheKey(method, rawurl, body)
		if !d.cfg.CacheRefresh {
			if x, ok := d.cache.get(key, d.now(), publicOnly && d.cfg.DenyPrivate); ok {
				d.st.Inc(stats.CacheHit)
				return x, nil
			}
		}
		d.st.Inc(stats.CacheMiss)
	}
	x, err := d.retry(ctx, client, method, rawurl, header, body, maxBody, publicOnly)
	if err == nil && d.cache != nil && cacheable(x.status) {
		if err := d.cache.put(key, method+" "+rawurl, x, d.now()); err != nil {
			d.st.Inc(stats.CacheErrors)
		}
	}
	return x, err
}

// defaultHeaders are sent unless the request sets its own: Accept and
// Accept-Language as Scrapy's DEFAULT_REQUEST_HEADERS, and Accept-Encoding
// set here so that the transport leaves the body to readBody, which counts
// MaxBody after decompression.
var defaultHeaders = [][2]string{
	{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
	{"Accept-Language", "en"},
	{"Accept-Encoding", acceptEncoding},
}

// attempt makes one try at a request, within Config.Timeout.
func (d *Downloader) attempt(ctx context.Context, client *http.Client, method, rawurl string, header http.Header, body []byte, maxBody int64, publicOnly bool) (*exchange, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	h := new(hops)
	h.publicOnly.Store(publicOnly)
	ctx = context.WithValue(ctx, hopsKey{}, h)
	// reused says whether the last connection the request (or a redirect
	// hop) got had served an earlier request. A robots.txt fetch made while
	// a redirect is checked reports here too, but the hop's own connection
	// is reported after it.
	var reused atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused.Store(info.Reused) },
	})
	var rb io.Reader
	if body != nil {
		rb = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, rawurl, rb)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		hreq.Header[k] = vs // shared, never modified: Set below replaces whole entries
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", d.cfg.UserAgent)
	}
	for _, kv := range defaultHeaders {
		if hreq.Header.Get(kv[0]) == "" {
			hreq.Header.Set(kv[0], kv[1])
		}
	}
	resp, err := client.Do(hreq)
	if err != nil {
		err = unwrapURLError(err)
		if reused.Load() {
			err = &staleConnError{err}
		}
		return nil, err
	}
	defer resp.Body.Close()
	data, truncated, err := readBody(resp, maxBody)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBody, err)
	}
	return &exchange{
		url:       resp.Request.URL.String(),
		status:    resp.StatusCode,
		header:    resp.Header,
		body:      data,
		truncated: truncated,
		public:    h.public.Load(),
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
// local files: the spider never follows a web page's link to file://. A file
// has no robots.txt, is never cached, and is never retried.
func (d *Downloader) fetchFile(req *Request, u *url.URL) (*Response, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("fetch %s: file URL names host %q: only local files can be read", req.URL, u.Host)
	}
	path := filepath.FromSlash(u.Path)
	// Only regular files: reading a named pipe or a terminal could block
	// for ever, beyond the reach of the request's context and timeout. The
	// file is opened without blocking, then checked.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	case fi.IsDir():
		return nil, fmt.Errorf("fetch %s: %s is a directory", req.URL, path)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("fetch %s: %s is not a regular file", req.URL, path)
	}
	data, truncated, err := readLimited(f, d.cfg.MaxBody, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	ctype := mime.TypeByExtension(filepath.Ext(path))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	h := http.Header{}
	h.Set("Content-Type", ctype)
	resp := &Response{Request: req, URL: req.URL, Status: http.StatusOK, Header: h, Body: data, Raw: data, Truncated: truncated}
	if mt := mediaType(ctype); isHTML(mt) {
		// The charset that mime guessed from the extension is no
		// evidence: let the file's BOM or <meta> speak.
		d.toUTF8(resp, mt)
	}
	return resp, nil
}

// ErrorKind sorts a Fetch error into a short snake_case kind for the stats:
// robots_denied, private_address, timeout, dns, connection_refused,
// connection_reset, tls, redirect, not_found, body, or other.
func ErrorKind(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrRobotsDenied):
		return "robots_denied"
	case errors.Is(err, ErrPrivateAddress):
		return "private_address"
	case errors.Is(err, ErrRedirect):
		return "redirect"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF): // the server hung up before it answered
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

// mediaType returns the media type of a Content-Type, lower-cased and
// without parameters: "text/html" for "Text/HTML; charset=UTF-8". It is
// what mime.ParseMediaType returns as the media type, whether or not the
// rest parses (FuzzMediaType checks that), without parsing the parameters:
// it runs for every response, and most often allocates nothing.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}
