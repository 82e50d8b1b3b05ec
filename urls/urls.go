// Package urls resolves links the way browsers do and reduces URLs to the
// canonical form the crawler de-duplicates by.
//
// Parsing and resolution follow the WHATWG URL Standard
// (https://url.spec.whatwg.org/), through github.com/nlnwa/whatwg-url, so a
// link means what it means in a browser: tabs and newlines inside an href are
// ignored, leading and trailing spaces and C0 controls are trimmed,
// backslashes count as slashes in http(s) URLs, hosts are lower-cased and
// IDNA-encoded (punycode), default ports are dropped, dot segments are
// removed and everything else outside ASCII is percent-encoded as UTF-8.
//
// Every URL this package returns is also accepted by net/url's Parse, so it
// can be handed to net/http. Where the two disagree the URL is rejected with
// an error rather than passed on; the one deliberate departure from the
// standard is that a "%" in a path that does not start a percent-escape is
// written as "%25" (browsers send it as is, and net/url rejects it).
package urls

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	werrors "github.com/nlnwa/whatwg-url/errors"
	wurl "github.com/nlnwa/whatwg-url/url"
)

// parser is the WHATWG URL parser shared by the package. It is stateless
// and safe for concurrent use.
var parser = wurl.NewParser(wurl.WithPercentEncodeSinglePercentSign())

// ErrNotAbsolute is returned for a URL that has no scheme.
var ErrNotAbsolute = errors.New("not an absolute URL")

// ErrTooLong is returned for a URL, or a resolved or canonical form, longer
// than MaxLength.
var ErrTooLong = errors.New("URL too long")

// MaxLength is the longest URL, in bytes, that the functions of this package
// accept or return. Few servers take a request line much longer (Apache's
// default limit is 8190 bytes, Scrapy drops URLs over 2083), and the WHATWG
// parser takes time quadratic in the length of some inputs (many path
// segments, long userinfo), so a limit keeps a hostile page from stalling the
// crawler.
const MaxLength = 4096

// Base is a parsed page URL that links are resolved against. Parse it once
// per page and resolve every link against it. A Base is safe for concurrent
// use.
type Base struct {
	raw  string // as given to ParseBase
	href string // serialisation without fragment

	// The parse of raw by the WHATWG parser, which only Resolve's slow path
	// needs: ParseBase leaves it to the first such Resolve when raw is
	// already written as the parser would serialise it.
	once sync.Once
	u    *wurl.Url
	err  error

	// Precomputed for the fast path of Resolve; fast is set only for
	// http(s) bases whose serialisation net/url accepts.
	fast   bool
	origin string // "scheme://[userinfo@]host[:port]"
	path   string // path, starts with '/'
	dir    string // path up to and including its last '/'
}

// ParseBase parses an absolute URL to resolve links against. Surrounding
// spaces are ignored. A raw URL without a scheme gives an error wrapping
// ErrNotAbsolute.
func ParseBase(raw string) (*Base, error) {
	if len(raw) > MaxLength {
		return nil, fmt.Errorf("parse base url %s: %w", quote(raw), ErrTooLong)
	}
	if b, ok := parseBaseFast(raw); ok {
		return b, nil
	}
	return parseBaseSlow(raw)
}

// parseBaseSlow is ParseBase by the full WHATWG parser.
func parseBaseSlow(raw string) (*Base, error) {
	u, err := parser.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse base url %s: %w", quote(raw), parseErr(err))
	}
	// Clone, which every relative parse calls on the base, builds the
	// search parameters lazily: build them now, so that concurrent Resolve
	// calls only read u.
	u.SearchParams()
	b := &Base{raw: raw, u: u, href: u.Href(true)}
	if s := u.Scheme(); (s == "http" || s == "https") && netSafe(b.href) {
		prefix, _, _ := strings.Cut(b.href, "?")
		p := u.Pathname()
		if strings.HasPrefix(p, "/") && strings.HasSuffix(prefix, p) {
			b.setFast(prefix[:len(prefix)-len(p)], p)
		}
	}
	return b, nil
}

// parseBaseFast parses raw without the WHATWG parser when it is an http(s)
// URL that the parser would serialise as it is written (up to its
// fragment), as the page URLs of a crawl nearly always are: the URLs the
// crawler requested, which it resolved itself. It reports false for
// anything else; FuzzParseBase checks that it agrees with parseBaseSlow.
func parseBaseFast(raw string) (*Base, bool) {
	href, _, _ := strings.Cut(raw, "#")
	rest, defaultPort, ok := cutHTTP(href)
	if !ok {
		return nil, false
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 || rest[end] != '/' || !serialAuthority(rest[:end], defaultPort) {
		return nil, false // also the empty path, which the parser writes "/"
	}
	path, query, hasQuery := strings.Cut(rest[end:], "?")
	if !simplePath(path) || hasQuery && !simpleQuery(query) {
		return nil, false
	}
	b := &Base{raw: raw, href: href}
	b.setFast(href[:len(href)-len(rest)+end], path)
	return b, true
}

// setFast readies the fast path of Resolve.
func (b *Base) setFast(origin, path string) {
	b.fast = true
	b.origin = origin
	b.path = path
	b.dir = path[:strings.LastIndexByte(path, '/')+1]
}

// parsed returns the base as parsed by the WHATWG parser, parsing it on
// first use.
func (b *Base) parsed() (*wurl.Url, error) {
	b.once.Do(func() {
		if b.u != nil {
			return // parseBaseSlow parsed it
		}
		u, err := parser.Parse(b.raw)
		if err != nil {
			// Not reached: parseBaseFast takes only URLs the parser accepts.
			b.err = fmt.Errorf("parse base url %s: %w", quote(b.raw), parseErr(err))
			return
		}
		u.SearchParams() // as parseBaseSlow does
		b.u = u
	})
	return b.u, b.err
}

// String returns the base URL as the WHATWG URL Standard serialises it,
// without its fragment.
func (b *Base) String() string { return b.href }

// Resolve resolves href against the base as a browser does and returns the
// serialised absolute URL with its fragment removed. An href with a scheme
// of its own (mailto:, javascript:) resolves to itself; callers that only
// follow http(s) links check Scheme of the result. An href that cannot be
// resolved, or whose resolution net/url would not accept, gives an error
// naming the href; an href or result longer than MaxLength gives one wrapping
// ErrTooLong.
func (b *Base) Resolve(href string) (string, error) {
	if len(href) <= MaxLength {
		if s, ok := b.resolveFast(href); ok && len(s) <= MaxLength {
			return s, nil
		}
	}
	return b.resolveSlow(href)
}

// resolveSlow is Resolve by the full WHATWG parser.
func (b *Base) resolveSlow(href string) (string, error) {
	if len(href) > MaxLength {
		return "", fmt.Errorf("resolve %s: %w", quote(href), ErrTooLong)
	}
	base, err := b.parsed()
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", quote(href), err)
	}
	u, err := base.Parse(href)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", quote(href), parseErr(err))
	}
	s := u.Href(true)
	if len(s) > MaxLength {
		return "", fmt.Errorf("resolve %s: %w", quote(href), ErrTooLong)
	}
	if err := checkResult(s); err != nil {
		return "", fmt.Errorf("resolve %s: %w", quote(href), err)
	}
	return s, nil
}

// resolveFast resolves the shapes of href that make up most links on real
// pages (absolute http(s) URLs, root-relative and relative paths, query-only
// and fragment-only references) when they are already written as the
// standard would serialise them, so that resolving them is string
// concatenation. It reports false for anything else, which Resolve hands to
// the full parser; FuzzResolve checks that both agree.
func (b *Base) resolveFast(href string) (string, bool) {
	if !b.fast {
		return "", false
	}
	// The fragment is dropped and the fragment state of the parser cannot
	// fail, so whatever follows the first '#' does not matter.
	if i := strings.IndexByte(href, '#'); i >= 0 {
		href = href[:i]
	}
	if href == "" {
		return b.href, true
	}
	switch c := href[0]; {
	case c == '?':
		if !simpleQuery(href[1:]) {
			return "", false
		}
		return b.origin + b.path + href, true
	case c == '/':
		if len(href) > 1 && href[1] == '/' {
			return "", false // scheme-relative
		}
		path, query, hasQuery := strings.Cut(href, "?")
		if !simplePath(path) || hasQuery && !simpleQuery(query) {
			return "", false
		}
		return b.origin + href, true
	case isAlpha(c) && (strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://")):
		return simpleAbsolute(href)
	default:
		// Leading "./" and "../" segments, as in "../../index.html".
		dir := b.dir
		for {
			if strings.HasPrefix(href, "./") {
				href = href[2:]
			} else if strings.HasPrefix(href, "../") {
				href = href[3:]
				dir = parentDir(dir)
			} else {
				break
			}
		}
		path, query, hasQuery := strings.Cut(href, "?")
		if i := strings.IndexByte(path, ':'); i >= 0 && i < strings.IndexByte(path+"/", '/') {
			return "", false // could be a scheme
		}
		if !simplePath(path) || hasQuery && !simpleQuery(query) {
			return "", false
		}
		return b.origin + dir + href, true
	}
}

// parentDir returns the directory above dir, a path ending in "/"; the root
// is its own parent.
func parentDir(dir string) string {
	if dir == "/" {
		return dir
	}
	return dir[:strings.LastIndexByte(dir[:len(dir)-1], '/')+1]
}

// simpleAbsolute handles an absolute http(s) href that is already in
// serialised form: lower-case scheme and host, no userinfo, no default
// port.
func simpleAbsolute(href string) (string, bool) {
	colon := strings.IndexByte(href, ':')
	defaultPort := "80"
	if href[:colon] == "https" {
		defaultPort = "443"
	}
	rest := href[colon+3:]
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	if !serialAuthority(rest[:end], defaultPort) {
		return "", false
	}
	tail := rest[end:]
	path, query, hasQuery := strings.Cut(tail, "?")
	if hasQuery && !simpleQuery(query) {
		return "", false
	}
	if path == "" {
		// The standard gives http(s) URLs an empty path of "/".
		i := len(href) - len(tail)
		return href[:i] + "/" + tail, true
	}
	if !simplePath(path) {
		return "", false
	}
	return href, true
}

// serialAuthority reports whether auth, the authority of an http(s) URL
// whose scheme's port is defaultPort, is written as the parser serialises
// it: a simple host or an IPv4 address in its one decimal form, and a port
// other than the default, if any, in decimal without leading zeros.
func serialAuthority(auth, defaultPort string) bool {
	host, port, hasPort := strings.Cut(auth, ":")
	if hasPort && !canonicalPort(port, defaultPort) {
		return false
	}
	return simpleHost(host) || canonicalIPv4(host)
}

// simpleHost reports whether host is a domain that the host parser returns
// unchanged: dot-separated, non-empty labels of lower-case letters, digits
// and hyphens, none of them punycode, and a last label that does not start
// with a digit or a hyphen (which could make it an IPv4 address: the parser
// reads "-0" as a number, where the standard would not).
func simpleHost(host string) bool {
	if host == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(host); i++ {
		if i < len(host) && host[i] != '.' {
			c := host[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
			continue
		}
		label := host[start:i]
		if label == "" || strings.HasPrefix(label, "xn--") {
			return false
		}
		if i == len(host) && (isDigit(label[0]) || label[0] == '-') {
			return false
		}
		start = i + 1
	}
	return true
}

// simplePath reports whether p is a path, or a path relative to a
// directory, that the path parser copies unchanged: only characters it does
// not percent-encode, valid percent-escapes, and no dot segments.
func simplePath(p string) bool {
	start := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			c := p[i]
			if c == '%' {
				if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
					return false
				}
				continue
			}
			if chars[c]&pathChar == 0 {
				return false
			}
			continue
		}
		if isDotSegment(p[start:i]) {
			return false
		}
		start = i + 1
	}
	return true
}

// simpleQuery reports whether the query parser copies q unchanged.
func simpleQuery(q string) bool {
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c == '%' {
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return false
			}
			continue
		}
		if chars[c]&queryChar == 0 {
			return false
		}
	}
	return true
}

// isDotSegment reports whether seg is a single- or double-dot path segment
// as the standard defines them, percent-encoded dots included.
func isDotSegment(seg string) bool {
	switch len(seg) {
	case 1, 2:
		return seg == "." || seg == ".."
	case 3, 4, 6:
		s := strings.ToLower(seg)
		return s == "%2e" || s == ".%2e" || s == "%2e." || s == "%2e%2e"
	}
	return false
}

// Character classes, as bits of chars.
const (
	unreserved = 1 << iota // RFC 3986 unreserved: ALPHA DIGIT - . _ ~
	subDelim               // RFC 3986 sub-delims: ! $ & ' ( ) * + , ; =
	pathChar               // kept as is by the WHATWG path parser and by net/url
	queryChar              // kept as is by the WHATWG special-query parser
	anyChar                // every byte but '%'
)

var chars = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		t[c] |= anyChar
		b := byte(c)
		if isAlpha(b) || isDigit(b) || strings.IndexByte("-._~", b) >= 0 {
			t[c] |= unreserved | pathChar | queryChar
		}
	}
	for _, c := range []byte("!$&'()*+,;=") {
		t[c] |= subDelim | pathChar | queryChar
	}
	for _, c := range []byte(":@") {
		t[c] |= pathChar | queryChar
	}
	t['/'] |= pathChar | queryChar
	t['?'] |= queryChar
	t['\''] &^= queryChar // the special-query percent-encode set has it
	return t
}()

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// netSafe is a quick, conservative check that net/url's Parse accepts s, a
// WHATWG serialisation without fragment: true means it does; false means
// ask Parse.
func netSafe(s string) bool {
	i := 0
	for ; i < len(s) && s[i] != ':'; i++ {
		c := s[i]
		if !(isAlpha(c) || i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	if i == 0 || i == len(s) {
		return false
	}
	rest := s[i+1:]
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		host := rest[:end]
		if j := strings.IndexByte(host, ':'); j >= 0 {
			for k := j + 1; k < len(host); k++ {
				if !isDigit(host[k]) {
					return false
				}
			}
			host = host[:j]
		}
		for k := 0; k < len(host); k++ {
			c := host[k]
			if !(isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_') {
				return false
			}
		}
		rest = rest[end:]
	}
	inQuery := false
	for k := 0; k < len(rest); k++ {
		switch c := rest[k]; {
		case c <= ' ' || c >= 0x7f || c == '#':
			return false
		case c == '?':
			inQuery = true
		case c == '%' && !inQuery:
			if k+2 >= len(rest) || !isHex(rest[k+1]) || !isHex(rest[k+2]) {
				return false
			}
		}
	}
	return true
}

// checkResult returns an error if s, a URL serialised by the WHATWG
// parser, is one that net/url's Parse rejects or that does not parse again
// to the same host.
func checkResult(s string) error {
	if !netSafe(s) {
		if _, err := url.Parse(s); err != nil {
			return fmt.Errorf("net/url rejects the result: %w", err)
		}
	}
	// The IDNA encoder turns labels far longer than DNS allows into punycode
	// that its decoder then rejects, so that the URL could not be parsed
	// again, say to canonicalise it. No such host can be looked up.
	host := Hostname(s)
	if !hasLongACELabel(host) {
		return nil
	}
	u, err := parser.Parse(s)
	if err != nil {
		return fmt.Errorf("the result does not parse again: %w", parseErr(err))
	}
	if u.Hostname() != host {
		return fmt.Errorf("host %s parses again as %s", quote(host), quote(u.Hostname()))
	}
	return nil
}

// hasLongACELabel reports whether host has a punycode label longer than the
// 63 bytes DNS allows.
func hasLongACELabel(host string) bool {
	for len(host) > 63 {
		label, rest, _ := strings.Cut(host, ".")
		if len(label) > 63 && strings.HasPrefix(label, "xn--") {
			return true
		}
		host = rest
	}
	return false
}

// quote quotes s for an error message, shortened if it is long.
func quote(s string) string {
	const max = 200
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + "..."
}

// parseError is the reason the WHATWG parser gives for rejecting a URL.
type parseError struct{ err error }

func (e *parseError) Error() string {
	msg := string(werrors.Type(e.err))
	if msg == "" {
		return e.err.Error()
	}
	r, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToLower(r)) + msg[n:]
	if d := werrors.Description(e.err); d != "" {
		msg += fmt.Sprintf(" (%q)", d)
	}
	return msg
}

func (e *parseError) Unwrap() error { return e.err }

// parseErr wraps an error of the WHATWG parser, or returns ErrNotAbsolute
// when the input lacked a scheme.
func parseErr(err error) error {
	if werrors.Type(err) == werrors.MissingSchemeNonRelativeURL {
		return ErrNotAbsolute
	}
	return &parseError{err}
}

// Scheme returns the lower-cased scheme of an absolute URL, or "" when it has
// none. It only scans for the scheme and does not validate the rest.
func Scheme(abs string) string {
	i := schemeEnd(abs)
	if i < 0 {
		return ""
	}
	return strings.ToLower(abs[:i])
}

// schemeEnd returns the index of the ':' that ends the scheme of s, or -1.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlpha(c):
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

// Hostname returns the lower-cased host of an absolute URL without port,
// userinfo or IPv6 brackets, or "" when it has none (file:///x). It only
// scans for the host and does not validate or IDNA-encode it; pass it URLs
// this package returned.
func Hostname(abs string) string {
	i := schemeEnd(abs)
	if i < 0 || !strings.HasPrefix(abs[i+1:], "//") {
		return ""
	}
	rest := abs[i+3:]
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i > 0 {
			return strings.ToLower(rest[1:i])
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}
