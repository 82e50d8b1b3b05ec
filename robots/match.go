package robots

import (
	"strings"
)

// Byte classes for the canonical form (RFC 3986 section 2).
const (
	classEncode     = iota // must be percent-encoded: controls, space, non-ASCII, "<>{}" and the like
	classUnreserved        // ALPHA / DIGIT / "-" / "." / "_" / "~": never encoded
	classReserved          // gen-delims and sub-delims other than "*" and "$": kept as written
)

var byteClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classUnreserved
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = classUnreserved
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classUnreserved
	}
	for _, c := range "-._~" {
		t[c] = classUnreserved
	}
	// "*" and "$" are reserved too, but RFC 9309 section 2.2.3 makes a
	// literal one equal to its escape, so they stay classEncode: a rule's
	// "%2A" then matches a URL's "*". "#" never reaches here: it starts a
	// comment in robots.txt and a fragment in a URL.
	for _, c := range ":/?[]@!&'()+,;=" {
		t[c] = classReserved
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// escapeAt reports whether s[i:] starts with a %XX escape and returns the
// octet it encodes.
func escapeAt(s string, i int) (byte, bool) {
	if i+2 >= len(s) {
		return 0, false
	}
	hi, ok1 := unhex(s[i+1])
	lo, ok2 := unhex(s[i+2])
	return hi<<4 | lo, ok1 && ok2
}

// isCanonical reports whether canonical(s) == s, so the hot path can skip
// the copy for the usual plain-ASCII path.
func isCanonical(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			v, ok := escapeAt(s, i)
			if !ok || byteClass[v] == classUnreserved ||
				s[i+1] != upperHex[v>>4] || s[i+2] != upperHex[v&15] {
				return false
			}
			i += 2
		case byteClass[c] == classEncode:
			return false
		}
	}
	return true
}

// canonical returns the canonical form of the literal text s:
//   - a %XX escape of an unreserved character is decoded ("%7E" -> "~");
//   - any other %XX escape is kept, with upper-case hex ("%2f" -> "%2F");
//   - a "%" that does not start an escape is a literal percent ("%25");
//   - unreserved and reserved characters are kept as written, except "*"
//     and "$", which are encoded ("%2A", "%24");
//   - every other octet (controls, space, non-ASCII UTF-8, `"<>\^{|}` and
//     the backquote) is percent-encoded.
func canonical(s string) string {
	if isCanonical(s) {
		return s
	}
	var b strings.Builder
	b.Grow(canonicalLen(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if v, ok := escapeAt(s, i); ok {
				i += 2
				if byteClass[v] == classUnreserved {
					b.WriteByte(v)
				} else {
					b.Write([]byte{'%', upperHex[v>>4], upperHex[v&15]})
				}
				continue
			}
		}
		if byteClass[c] == classEncode {
			b.Write([]byte{'%', upperHex[c>>4], upperHex[c&15]})
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// canonicalLen returns len(canonical(s)).
func canonicalLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if v, ok := escapeAt(s, i); ok {
				if byteClass[v] == classUnreserved {
					n -= 2
				}
				i += 2
				continue
			}
		}
		if byteClass[s[i]] == classEncode {
			n += 2
		}
	}
	return n
}

// normalizePath returns the canonical form of a URL path with query, the
// form rules are matched against. The fragment, if any, is dropped and the
// result always starts with "/".
func normalizePath(p string) string {
	if i := strings.IndexByte(p, '#'); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		return "/"
	}
	p = canonical(p)
	if p[0] != '/' {
		p = "/" + p
	}
	return p
}

// isRobotsTxt reports whether the canonical path p names /robots.txt,
// which RFC 9309 section 2.2.2 always allows, whatever its query.
func isRobotsTxt(p string) bool {
	const name = "/robots.txt"
	return strings.HasPrefix(p, name) && (len(p) == len(name) || p[len(name)] == '?')
}

// A rule is one compiled allow or disallow line. The pattern is split at
// its "*" wildcards into canonical literal pieces, so matching is a prefix
// test plus a left-to-right substring search, with no backtracking.
type rule struct {
	allow    bool
	anchored bool     // the pattern ended in "$": it must match the whole path
	length   int      // octets in the canonical pattern, wildcards and "$" included: the priority
	minLen   int      // octets of literal text: no shorter path can match
	prefix   string   // literal text before the first "*"
	segs     []string // literal text after each "*"; nil if there is no "*"
	text     string   // the canonical pattern, for de-duplication and tests
}

// compileRule compiles the value of an allow or disallow line. It reports
// false for values that can never match a path: empty ones (an empty
// "Disallow:" allows everything) and ones not starting with "/" or "*".
func compileRule(value string, allow bool) (rule, bool) {
	if value == "" || (value[0] != '/' && value[0] != '*') {
		return rule{}, false
	}
	r := rule{allow: allow}
	if strings.HasSuffix(value, "$") {
		r.anchored = true
		value = value[:len(value)-1]
	}
	stars := strings.Count(value, "*")
	if stars > 0 {
		r.segs = make([]string, 0, stars)
	}
	var text strings.Builder
	text.Grow(len(value) + 1)
	piece, value, more := strings.Cut(value, "*")
	r.prefix = canonical(piece)
	text.WriteString(r.prefix)
	r.minLen = len(r.prefix)
	for more {
		piece, value, more = strings.Cut(value, "*")
		// Consecutive stars are one star: the empty piece between them adds nothing.
		if piece == "" && more {
			continue
		}
		seg := canonical(piece)
		r.segs = append(r.segs, seg)
		text.WriteByte('*')
		text.WriteString(seg)
		r.minLen += len(seg)
	}
	if r.anchored {
		text.WriteByte('$')
	}
	r.text = text.String()
	r.length = len(r.text)
	return r, true
}

// match reports whether the rule matches the canonical path p.
func (r *rule) match(p string) bool {
	if len(p) < r.minLen || !strings.HasPrefix(p, r.prefix) {
		return false
	}
	if r.segs == nil {
		return !r.anchored || len(p) == len(r.prefix)
	}
	rest := p[len(r.prefix):]
	last := len(r.segs) - 1
	for i, seg := range r.segs {
		if i == last && r.anchored {
			return strings.HasSuffix(rest, seg)
		}
		// The leftmost occurrence is always safe: it leaves the most of the
		// path for the pieces that follow.
		j := strings.Index(rest, seg)
		if j < 0 {
			return false
		}
		rest = rest[j+len(seg):]
	}
	return true
}

// before orders rules by priority: longer patterns first and, between
// patterns of equal length, allow before disallow (RFC 9309 section 2.2.2).
// The canonical text breaks remaining ties so the order is deterministic.
func before(a, b *rule) int {
	switch {
	case a.length != b.length:
		return b.length - a.length
	case a.allow != b.allow:
		if a.allow {
			return -1
		}
		return 1
	}
	return strings.Compare(a.text, b.text)
}
