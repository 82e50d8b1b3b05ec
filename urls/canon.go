package urls

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Canon describes the canonical form of a URL: the key the crawler
// de-duplicates requests by, in the manner of Scrapy's canonicalize_url.
// Two URLs with one canonical form are one page to the crawler. The
// canonical form is a key, not necessarily the URL to fetch: with the
// folding options it may name a URL the site does not serve.
//
// Whatever the options, the canonical form is the URL as the WHATWG URL
// Standard parses and serialises it (scheme and host lower-cased, host
// IDNA-encoded, default port dropped, dot segments removed, an empty http(s)
// path written "/"), and then:
//   - the fragment is removed;
//   - percent-encoding is normalised: escapes of unreserved characters
//     (letters, digits, "-", ".", "_", "~") are decoded, the hex digits of
//     the remaining escapes are upper-cased, characters RFC 3986 does not
//     allow where they stand (such as "|", "^", "[" in a path) are escaped,
//     and a "%" that starts no escape is written "%25". So "%7e" and "~"
//     are one URL, while "%2F" and "/" stay two;
//   - empty query parameters ("a=1&&b=2") are removed, and so is a "?" with
//     nothing after it.
//
// "+" and "%20" in a query stay distinct, as do "?a" and "?a=".
//
// The zero Canon is the default, DefaultCanon: the above, with query
// parameters sorted by key, no parameter dropped, and trailing slashes and
// "www." kept. The fields are set from a spider file's canonical section,
// for example
//
//	canonical: {sort_query: true, drop_params: [utm_*, sessionid], trailing_slash: false, www: false}
//
// A Canon is a value; its methods are safe for concurrent use as long as
// DropParams is not modified meanwhile.
type Canon struct {
	// SortQuery sorts query parameters by key, bytewise on the key as
	// percent-encoded in the canonical form; the sort is stable, so values
	// of a repeated key keep their order. It is a pointer so that the zero
	// Canon sorts: nil, the default, means sort; false keeps the order of
	// the page.
	SortQuery *bool `yaml:"sort_query"`

	// DropParams lists query parameters to remove, by key. A key matches
	// an entry equal to it or, for an entry ending in "*", starting with
	// the rest of the entry ("utm_*" matches "utm_source"). Keys are
	// compared case-sensitively after decoding them as a form would
	// (percent-escapes decoded, "+" read as a space). Validate reports
	// entries that are empty or have a "*" other than at the end; such
	// entries are otherwise matched literally.
	DropParams []string `yaml:"drop_params"`

	// FoldTrailingSlash, when true, removes trailing slashes from the path
	// of a URL with a host, other than the root "/", so that "/a/" and
	// "/a" are one URL.
	FoldTrailingSlash bool `yaml:"trailing_slash"`

	// FoldWWW, when true, removes leading "www." labels from the host, so
	// that www.example.com and example.com are one URL. A "www." label is
	// kept when removing it would leave a single label (www.com).
	FoldWWW bool `yaml:"www"`
}

// DefaultCanon is the canonical form used when a spider does not set one.
// It is the zero Canon.
var DefaultCanon = Canon{}

// Validate reports option values that cannot mean what was intended.
func (c Canon) Validate() error {
	for i, p := range c.DropParams {
		if p == "" {
			return fmt.Errorf("canonical: drop_params[%d]: empty parameter name", i)
		}
		if j := strings.IndexByte(p, '*'); j >= 0 && j != len(p)-1 {
			return fmt.Errorf("canonical: drop_params[%d] %q: '*' is allowed only at the end", i, p)
		}
	}
	return nil
}

func (c Canon) sortQuery() bool { return c.SortQuery == nil || *c.SortQuery }

// Canonical returns the canonical form of the absolute URL raw. A raw URL
// without a scheme gives an error wrapping ErrNotAbsolute; one the WHATWG
// parser rejects, or whose canonical form net/url would not accept, gives an
// error naming raw; a raw URL or canonical form longer than MaxLength gives
// one wrapping ErrTooLong. Canonical returns raw itself, without allocating,
// when raw is an http(s) URL already in canonical form.
func (c Canon) Canonical(raw string) (string, error) {
	if len(raw) <= MaxLength {
		if c.isCanonical(raw) {
			return raw, nil
		}
		// An http(s) URL that the parser would serialise as it is (it may
		// still need sorting or escapes normalised) need not be parsed.
		if href, _, _ := strings.Cut(raw, "#"); strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://") {
			if s, ok := simpleAbsolute(href); ok {
				return c.finish(raw, s)
			}
		}
	}
	return c.canonicalSlow(raw)
}

// canonicalSlow is Canonical by the full WHATWG parser.
func (c Canon) canonicalSlow(raw string) (string, error) {
	if len(raw) > MaxLength {
		return "", fmt.Errorf("canonicalize %s: %w", quote(raw), ErrTooLong)
	}
	u, err := parser.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("canonicalize %s: %w", quote(raw), parseErr(err))
	}
	return c.finish(raw, u.Href(true))
}

// finish returns the canonical form of raw from its WHATWG serialisation
// without fragment, s.
func (c Canon) finish(raw, s string) (string, error) {
	s = c.canonical(s)
	if len(s) > MaxLength {
		return "", fmt.Errorf("canonicalize %s: %w", quote(raw), ErrTooLong)
	}
	if err := checkResult(s); err != nil {
		return "", fmt.Errorf("canonicalize %s: %w", quote(raw), err)
	}
	return s, nil
}

// Fingerprint returns the 64-bit fingerprint of the canonical form of raw:
// its xxHash64, unseeded, so it is the same in every process and may be
// stored. Two URLs with one canonical form have one fingerprint.
func (c Canon) Fingerprint(raw string) (uint64, error) {
	s, err := c.Canonical(raw)
	if err != nil {
		return 0, err
	}
	return xxhash.Sum64String(s), nil
}

// canonical reduces s, a URL as the WHATWG serialiser writes it, without
// fragment, to its canonical form. Such a URL is
// scheme ":" ["//" authority] path ["?" query], where the authority has no
// "/" or "?" and the path no "?".
func (c Canon) canonical(s string) string {
	buf := make([]byte, 0, len(s)+8)
	i := strings.IndexByte(s, ':')
	buf = append(buf, s[:i+1]...)
	rest := s[i+1:]
	hasHost := strings.HasPrefix(rest, "//")
	if hasHost {
		rest = rest[2:]
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		buf = append(buf, "//"...)
		buf = c.appendAuthority(buf, rest[:end])
		rest = rest[end:]
	}
	path, query, _ := strings.Cut(rest, "?")
	if hasHost && c.FoldTrailingSlash {
		for len(path) > 1 && path[len(path)-1] == '/' {
			path = path[:len(path)-1]
		}
	}
	buf = appendEscaped(buf, path, pathChar)
	buf = c.appendQuery(buf, query)
	return string(buf)
}

func (c Canon) appendAuthority(buf []byte, auth string) []byte {
	if i := strings.LastIndexByte(auth, '@'); i >= 0 {
		buf = appendEscaped(buf, auth[:i], pathChar)
		buf = append(buf, '@')
		auth = auth[i+1:]
	}
	host, port := auth, ""
	if strings.HasPrefix(auth, "[") {
		if i := strings.IndexByte(auth, ']'); i >= 0 {
			host, port = auth[:i+1], auth[i+1:]
		}
	} else if i := strings.IndexByte(auth, ':'); i >= 0 {
		host, port = auth[:i], auth[i:]
	}
	if strings.HasPrefix(host, "[") {
		// The serialiser writes IPv6 addresses in their one canonical form.
		return append(append(buf, host...), port...)
	}
	// A host of a special scheme has been IDNA-encoded and lower-cased by
	// the parser. An opaque host (of another scheme) may still have upper
	// case and escapes. Escaping more would change what net/url accepts.
	start := len(buf)
	buf = appendEscaped(buf, host, anyChar)
	for i := start; i < len(buf); i++ {
		if buf[i] == '%' {
			i += 2
		} else if 'A' <= buf[i] && buf[i] <= 'Z' {
			buf[i] += 'a' - 'A'
		}
	}
	if c.FoldWWW {
		h := buf[start:]
		for len(h) > 4 && string(h[:4]) == "www." && slices.Contains(h[4:], '.') {
			h = h[4:]
		}
		buf = append(buf[:start], h...)
	}
	return append(buf, port...)
}

// appendEscaped appends s with its percent-encoding normalised: escapes of
// unreserved characters decoded, other escapes upper-cased, a "%" that
// starts no escape and every character not in allowed (or unreserved, or a
// sub-delim) escaped. With allowed anyChar, only "%" is escaped.
func appendEscaped(buf []byte, s string, allowed uint8) []byte {
	const hex = "0123456789ABCDEF"
	allowed |= unreserved | subDelim
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			v := unhex(s[i+1])<<4 | unhex(s[i+2])
			if chars[v]&unreserved != 0 {
				buf = append(buf, v)
			} else {
				buf = append(buf, '%', hex[v>>4], hex[v&15])
			}
			i += 2
		case c != '%' && chars[c]&allowed != 0:
			buf = append(buf, c)
		default:
			buf = append(buf, '%', hex[c>>4], hex[c&15])
		}
	}
	return buf
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// param is one query parameter, as offsets into a normalised query.
type param struct{ start, keyEnd, end int }

// appendQuery appends "?" and the canonical form of query, or nothing when
// no parameter is left.
func (c Canon) appendQuery(buf []byte, query string) []byte {
	if query == "" {
		return buf
	}
	q := appendEscaped(make([]byte, 0, len(query)+8), query, queryChar)
	var stack [16]param
	params := stack[:0]
	for start := 0; start < len(q); {
		end := start
		for end < len(q) && q[end] != '&' {
			end++
		}
		if end > start {
			keyEnd := start
			for keyEnd < end && q[keyEnd] != '=' {
				keyEnd++
			}
			if len(c.DropParams) == 0 || !c.drop(string(q[start:keyEnd])) {
				params = append(params, param{start, keyEnd, end})
			}
		}
		start = end + 1
	}
	if len(params) == 0 {
		return buf
	}
	if c.sortQuery() {
		slices.SortStableFunc(params, func(a, b param) int {
			return bytes.Compare(q[a.start:a.keyEnd], q[b.start:b.keyEnd])
		})
	}
	buf = append(buf, '?')
	for i, p := range params {
		if i > 0 {
			buf = append(buf, '&')
		}
		buf = append(buf, q[p.start:p.end]...)
	}
	return buf
}

// drop reports whether the query parameter with the percent-encoded key
// is to be removed.
func (c Canon) drop(key string) bool {
	if len(c.DropParams) == 0 {
		return false
	}
	if strings.ContainsAny(key, "%+") {
		key = formDecode(key)
	}
	for _, p := range c.DropParams {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(key, prefix) {
				return true
			}
		} else if key == p {
			return true
		}
	}
	return false
}

// formDecode decodes s as application/x-www-form-urlencoded does: "+" is a
// space and percent-escapes are decoded; a "%" that starts no escape is kept.
func formDecode(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// isCanonical reports, without parsing, whether raw is an http(s) URL that
// is already in canonical form, so that Canonical can return it as it is.
// It is conservative: false only means "parse to find out". FuzzCanonical
// checks that it never claims a URL the full path would change.
func (c Canon) isCanonical(raw string) bool {
	rest, defaultPort, ok := cutHTTP(raw)
	if !ok {
		return false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 || rest[end] != '/' {
		return false // the empty path is written "/"
	}
	host, port, hasPort := strings.Cut(rest[:end], ":")
	if hasPort && !canonicalPort(port, defaultPort) {
		return false
	}
	if !simpleHost(host) && !canonicalIPv4(host) || c.FoldWWW && strings.HasPrefix(host, "www.") {
		return false
	}
	path, query, hasQuery := strings.Cut(rest[end:], "?")
	if !canonicalPath(path) || c.FoldTrailingSlash && len(path) > 1 && path[len(path)-1] == '/' {
		return false
	}
	if !hasQuery {
		return true
	}
	sorted := c.sortQuery()
	prev := ""
	for {
		p, next, more := strings.Cut(query, "&")
		if p == "" || !canonicalEscapes(p, queryChar) {
			return false // also an empty query, or one ending in "&"
		}
		key, _, _ := strings.Cut(p, "=")
		if sorted && key < prev || c.drop(key) {
			return false
		}
		if !more {
			return true
		}
		prev, query = key, next
	}
}

// canonicalPath reports whether p, which starts with "/", is a canonical
// path: canonical escapes and no dot segments.
func canonicalPath(p string) bool {
	if !canonicalEscapes(p, pathChar) {
		return false
	}
	for start := 1; start <= len(p); {
		end := start
		for end < len(p) && p[end] != '/' {
			end++
		}
		if seg := p[start:end]; seg == "." || seg == ".." {
			return false
		}
		start = end + 1
	}
	return true
}

// canonicalEscapes reports whether appendEscaped(s, allowed) is s, and s
// holds nothing the WHATWG parser would escape (the allowed classes must
// be within what it keeps).
func canonicalEscapes(s string, allowed uint8) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || !isUpperHex(s[i+1]) || !isUpperHex(s[i+2]) ||
				chars[unhex(s[i+1])<<4|unhex(s[i+2])]&unreserved != 0 {
				return false
			}
			i += 2
			continue
		}
		if chars[c]&allowed == 0 {
			return false
		}
	}
	return true
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// canonicalPort reports whether port is written as the serialiser writes
// it: decimal, no leading zero, in range, and not the scheme's default
// (which the canonical form drops).
func canonicalPort(port, defaultPort string) bool {
	if port == "" || len(port) > 5 || port[0] == '0' || port == defaultPort {
		return false
	}
	n := 0
	for i := 0; i < len(port); i++ {
		if !isDigit(port[i]) {
			return false
		}
		n = n*10 + int(port[i]-'0')
	}
	return n <= 65535
}

// canonicalIPv4 reports whether host is an IPv4 address in the one form
// the serialiser writes: four decimal parts from 0 to 255, no leading
// zeros. (127.1, 0x7f.0.0.1 and 2130706433 are the same address in other
// spellings, and take the full parser.)
func canonicalIPv4(host string) bool {
	parts := 0
	for part := range strings.SplitSeq(host, ".") {
		parts++
		if part == "" || len(part) > 3 || len(part) > 1 && part[0] == '0' {
			return false
		}
		n := 0
		for i := 0; i < len(part); i++ {
			if !isDigit(part[i]) {
				return false
			}
			n = n*10 + int(part[i]-'0')
		}
		if n > 255 {
			return false
		}
	}
	return parts == 4
}

// cutHTTP splits an absolute http or https URL written in lower case after
// its "scheme://": the rest, and the scheme's default port.
func cutHTTP(raw string) (rest, defaultPort string, ok bool) {
	switch {
	case strings.HasPrefix(raw, "https://"):
		return raw[len("https://"):], "443", true
	case strings.HasPrefix(raw, "http://"):
		return raw[len("http://"):], "80", true
	}
	return "", "", false
}
