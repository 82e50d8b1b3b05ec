// Package robots parses robots.txt files and decides which URLs a crawler
// may fetch, following RFC 9309 (the Robots Exclusion Protocol).
//
// Parse a file once per host with [Parse] (or use [AllowAll] after a 4xx
// and [DisallowAll] after a 5xx or network error), pick the rules for the
// crawler with [Robots.Agent], and ask [Group.Allowed] before each request.
//
// # Groups
//
// A group is one or more consecutive user-agent lines followed by rules; a
// user-agent line that follows a rule starts the next group. Only allow and
// disallow lines are rules: Crawl-delay, Sitemap and unknown lines never
// close a group. Rules before the first user-agent line are ignored. The
// crawler's product token (the leading letters, "_" and "-" of its
// User-Agent, so "crawl" for "crawl/0.1 (+https://example.com/bot)") is
// compared case-insensitively with the product token of each user-agent
// value ("crawl/1.0" names "crawl"). All groups naming the token are merged;
// if none does, the groups naming "*" apply; if there are none, everything
// is allowed.
//
// # Matching
//
// Rule patterns and URL paths are compared in one canonical form, so that
// equivalent spellings of a path match each other:
//
//   - a %XX escape of an unreserved character (ALPHA, DIGIT, "-", ".", "_",
//     "~") is decoded: "/%7Efoo" and "/~foo" are the same path;
//   - every other escape is kept, with upper-case hex: "%2f" is "%2F";
//   - octets outside printable US-ASCII (UTF-8 text, controls, space) and the
//     characters a URI may not contain ("<", ">", "{", and so on) are
//     percent-encoded: "/jörg" is "/j%C3%B6rg", and a "%" that does not
//     start an escape is "%25";
//   - reserved characters (":", "/", "?", "=", "&", ...) are kept as written,
//     and a reserved character is not the same as its escape: the rule
//     "/a?u=http://x" does not match "/a?u=http%3A%2F%2Fx". Decoding them
//     would change what the URL means (RFC 3986 section 2.2); the reference
//     parser (github.com/google/robotstxt) compares them as written too;
//   - "*" and "$" are the exception: RFC 9309 section 2.2.3 has a literal
//     one in a URL match its escape in a rule, so both are always encoded:
//     "Disallow: /a-%2A" matches "/a-*".
//
// In a rule, an unescaped "*" matches any sequence of octets (including "/"
// and "?") and a "$" at the very end anchors the pattern to the end of the
// path and query; a "$" anywhere else is literal. A pattern matches from the
// first octet of the path. Of the rules that match, the one with the longest
// canonical pattern (in octets, each "*" and the final "$" counting one)
// wins; between an allow and a disallow of equal length, allow wins. A rule
// whose value is empty or starts with neither "/" nor "*" matches nothing.
// The path /robots.txt is always allowed.
//
// # Limits
//
// Parse reads at most [MaxSize] bytes and drops a line cut short by that
// limit. It never fails: lines it cannot parse are skipped. Matching takes
// time linear in the number of rules and the length of the path; it does not
// backtrack.
package robots

import (
	"bytes"
	"math"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// MaxSize is the number of bytes of a robots.txt body that Parse reads.
// RFC 9309 section 2.5 requires at least 500 KiB.
const MaxSize = 512 << 10

// Robots is a parsed robots.txt file. The zero value, like a nil *Robots,
// has no groups and allows everything. A Robots is immutable once built and
// safe for concurrent use.
type Robots struct {
	agents   map[string]*Group // by lower-case product token
	star     *Group            // the merged "*" groups, or nil
	sitemaps []string
}

// Group is the set of rules that applies to one crawler: the merge of all
// the groups of a robots.txt file that name it. The zero value, like a nil
// *Group, has no rules and allows everything. A Group is immutable and safe
// for concurrent use.
type Group struct {
	// sets holds the rules of each merged group, each sorted by priority.
	// They are kept apart rather than copied together so that a file naming
	// many agents in many groups cannot make Parse build a quadratic number
	// of rules.
	sets     [][]rule
	delay    time.Duration
	hasDelay bool
}

// emptyGroup is returned when no group applies. It is never modified.
var emptyGroup = &Group{}

// AllowAll returns a Robots that allows everything, the rules to use when
// robots.txt is unavailable (an HTTP 4xx status, RFC 9309 section 2.3.1.3).
func AllowAll() *Robots { return &Robots{} }

// DisallowAll returns a Robots that disallows everything but /robots.txt
// itself, the rules to use when robots.txt is unreachable (an HTTP 5xx
// status or a network error, RFC 9309 section 2.3.1.4).
func DisallowAll() *Robots {
	r, _ := compileRule("/", false)
	return &Robots{star: &Group{sets: [][]rule{{r}}}}
}

// Agent returns the rules that apply to a user agent. userAgent may be a
// full User-Agent header such as "crawl/0.1 (+https://example.com/bot)"; its
// product token ("crawl") is what is matched, case-insensitively, against
// the groups' user-agent lines. If no group names the token, the "*" group
// applies; if there is none, the returned Group allows everything. Agent
// never returns nil.
func (r *Robots) Agent(userAgent string) *Group {
	if r == nil {
		return emptyGroup
	}
	if tok := productToken(userAgent); tok != "" {
		if g, ok := r.agents[lowerASCII(tok)]; ok {
			return g
		}
	}
	if r.star != nil {
		return r.star
	}
	return emptyGroup
}

// Sitemaps returns the URLs of the Sitemap lines anywhere in the file, in
// the order they appear, without repeats. The slice is the caller's.
func (r *Robots) Sitemaps() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.sitemaps)
}

// Allowed reports whether a URL path, with its query if any (for example
// "/a/b?c=d"), may be fetched. The empty string means "/". The path is
// expected in the form it is sent on the wire, percent-encoded as in
// url.URL.RequestURI, though raw UTF-8 is accepted too; a fragment is ignored.
func (g *Group) Allowed(pathAndQuery string) bool {
	p := normalizePath(pathAndQuery)
	if isRobotsTxt(p) || g == nil {
		return true
	}
	bestLen, bestAllow, matched := 0, true, false
	for _, rules := range g.sets {
		for i := range rules {
			r := &rules[i]
			// Rules are sorted by priority, so nothing further in this set
			// can beat the best match so far.
			if matched && (r.length < bestLen || r.length == bestLen && bestAllow) {
				break
			}
			if r.match(p) {
				if !matched || r.length > bestLen || r.allow {
					bestLen, bestAllow, matched = r.length, r.allow, true
				}
				break
			}
		}
	}
	return bestAllow
}

// AllowedURL reports whether u may be fetched. It is Allowed applied to
// u.RequestURI(); the scheme and host are the caller's to check.
func (g *Group) AllowedURL(u *url.URL) bool {
	return g.Allowed(u.RequestURI())
}

// CrawlDelay returns the group's Crawl-delay, a non-standard but common
// extension giving the seconds to wait between requests (fractions allowed),
// and whether one was given. If several merged groups give one, the first in
// the file wins.
func (g *Group) CrawlDelay() (time.Duration, bool) {
	if g == nil {
		return 0, false
	}
	return g.delay, g.hasDelay
}

// Parse parses a robots.txt body. It never fails: lines it cannot parse are
// ignored. It reads at most MaxSize bytes and ignores the rest, including
// the line that limit cuts short. Parse does not retain body.
func Parse(body []byte) *Robots {
	if len(body) > MaxSize {
		cutMidLine := body[MaxSize] != '\n' && body[MaxSize] != '\r'
		body = body[:MaxSize]
		if cutMidLine {
			// A cut-off rule would mean something else ("/private" cut
			// to "/priv"); drop it.
			body = body[:bytes.LastIndexAny(body, "\r\n")+1]
		}
	}
	body = bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))

	var p parser
	for len(body) > 0 {
		var line []byte
		i := bytes.IndexAny(body, "\r\n")
		switch {
		case i < 0:
			line, body = body, nil
		case body[i] == '\r' && i+1 < len(body) && body[i+1] == '\n':
			line, body = body[:i], body[i+2:]
		default:
			line, body = body[:i], body[i+1:]
		}
		p.line(line)
	}
	return p.build()
}

// A parsedGroup is one group as written in the file.
type parsedGroup struct {
	agents   []string // lower-case product tokens
	star     bool     // a user-agent line named "*"
	rules    []rule
	delay    time.Duration
	hasDelay bool
}

type parser struct {
	groups   []*parsedGroup
	cur      *parsedGroup // nil before the first user-agent line
	sawRule  bool         // cur has had an allow or disallow line
	sitemaps []string
	seenMaps map[string]bool
}

type key int

const (
	keyUnknown key = iota
	keyUserAgent
	keyAllow
	keyDisallow
	keyCrawlDelay
	keySitemap
)

// keyNames lists the accepted spellings of each key, compared
// case-insensitively, including the misspellings Google's parser accepts.
var keyNames = []struct {
	name string
	key  key
}{
	{"user-agent", keyUserAgent},
	{"useragent", keyUserAgent},
	{"user agent", keyUserAgent},
	{"allow", keyAllow},
	{"disallow", keyDisallow},
	{"dissallow", keyDisallow},
	{"dissalow", keyDisallow},
	{"disalow", keyDisallow},
	{"diasllow", keyDisallow},
	{"disallaw", keyDisallow},
	{"crawl-delay", keyCrawlDelay},
	{"crawldelay", keyCrawlDelay},
	{"sitemap", keySitemap},
	{"site-map", keySitemap},
}

func lookupKey(k []byte) key {
	for _, n := range keyNames {
		if equalFoldASCII(k, n.name) {
			return n.key
		}
	}
	return keyUnknown
}

// equalFoldASCII reports whether b equals the lower-case ASCII string s,
// ignoring the case of ASCII letters in b.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' }

func indexSpace(b []byte) int {
	for i, c := range b {
		if isSpace(c) {
			return i
		}
	}
	return -1
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// splitLine splits a line into its key and value. Like Google's parser it
// accepts whitespace instead of the colon when the line is exactly two words
// ("Disallow /tmp").
func splitLine(line []byte) (k, v []byte, ok bool) {
	if i := bytes.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = trimSpace(line)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		k, v = trimSpace(line[:i]), trimSpace(line[i+1:])
	} else {
		i := indexSpace(line)
		if i < 0 {
			return nil, nil, false
		}
		k, v = line[:i], trimSpace(line[i:])
		if indexSpace(v) >= 0 {
			return nil, nil, false
		}
	}
	return k, v, len(k) > 0
}

func (p *parser) line(line []byte) {
	k, v, ok := splitLine(line)
	if !ok {
		return
	}
	switch kind := lookupKey(k); kind {
	case keyUserAgent:
		if p.cur == nil || p.sawRule {
			p.cur = &parsedGroup{}
			p.groups = append(p.groups, p.cur)
			p.sawRule = false
		}
		if isStar(v) {
			p.cur.star = true
		} else if tok := productToken(string(v)); tok != "" {
			p.cur.agents = append(p.cur.agents, lowerASCII(tok))
		}
	case keyAllow, keyDisallow:
		if p.cur == nil {
			return
		}
		p.sawRule = true
		if r, ok := compileRule(string(v), kind == keyAllow); ok {
			p.cur.rules = append(p.cur.rules, r)
		}
	case keyCrawlDelay:
		if p.cur == nil || p.cur.hasDelay {
			return
		}
		p.cur.delay, p.cur.hasDelay = parseDelay(v)
	case keySitemap:
		if len(v) == 0 || p.seenMaps[string(v)] {
			return
		}
		if p.seenMaps == nil {
			p.seenMaps = make(map[string]bool)
		}
		s := string(v)
		p.seenMaps[s] = true
		p.sitemaps = append(p.sitemaps, s)
	}
}

// isStar reports whether a user-agent value names every crawler. Like
// Google's parser it accepts "*" followed by whitespace and anything else.
func isStar(v []byte) bool {
	return len(v) > 0 && v[0] == '*' && (len(v) == 1 || isSpace(v[1]))
}

// parseDelay parses a Crawl-delay value: decimal seconds such as "10",
// "0.5" or ".5". Anything else (negative, hexadecimal, "Inf") is ignored.
func parseDelay(v []byte) (time.Duration, bool) {
	digits, dots := 0, 0
	for _, c := range v {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	// Only digits and one dot remain, so the sole possible error is
	// ErrRange, with secs set to +Inf or 0; both are handled below.
	secs, _ := strconv.ParseFloat(string(v), 64)
	if secs >= math.MaxInt64/float64(time.Second) {
		return math.MaxInt64, true
	}
	return time.Duration(secs * float64(time.Second)), true
}

func (p *parser) build() *Robots {
	r := &Robots{sitemaps: p.sitemaps}
	add := func(g *Group, pg *parsedGroup) *Group {
		if g == nil {
			g = &Group{}
		}
		if len(pg.rules) > 0 {
			g.sets = append(g.sets, pg.rules)
		}
		if pg.hasDelay && !g.hasDelay {
			g.delay, g.hasDelay = pg.delay, true
		}
		return g
	}
	// lastAdded holds, per agent, 1 + the index of the last group added to
	// it, so that a group naming an agent twice is added once.
	var lastAdded map[string]int
	for i, pg := range p.groups {
		slices.SortFunc(pg.rules, func(a, b rule) int { return before(&a, &b) })
		pg.rules = slices.CompactFunc(pg.rules, func(a, b rule) bool {
			return a.allow == b.allow && a.text == b.text
		})
		for _, tok := range pg.agents {
			if r.agents == nil {
				r.agents = make(map[string]*Group)
				lastAdded = make(map[string]int)
			}
			if lastAdded[tok] == i+1 {
				continue
			}
			lastAdded[tok] = i + 1
			r.agents[tok] = add(r.agents[tok], pg)
		}
		if pg.star {
			r.star = add(r.star, pg)
		}
	}
	return r
}

// productToken returns the leading product token of s: the letters, "_" and
// "-" it starts with, after any leading whitespace (RFC 9309 section 2.2.1).
func productToken(s string) string {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	s = s[i:]
	i = 0
	for i < len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			break
		}
		i++
	}
	return s[:i]
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
