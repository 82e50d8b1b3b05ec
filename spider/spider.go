// Package spider loads a spider file, the YAML description of a crawl, and
// runs it: it produces the start requests, and for each fetched page (HTML,
// JSON, or a sitemap) it extracts items and the requests to follow.
//
// A spider file names where to start (start_urls, start_urls_file,
// start_urls_range, sitemap_urls), which links to follow (follow rules of
// CSS selectors, XPath expressions or JSON paths, URL regexes, link text,
// and the method, headers, body and callback of the requests they make,
// limited to allowed_domains), which pages of a sitemap to scrape
// (sitemap_rules), what to scrape (item rules of named fields: selectors
// with fallbacks, processors, types and sub-items; required and unique
// fields), the canonical form of URLs, tests of the spider on known pages,
// and crawl settings for the command line.
//
// Load checks the whole file and compiles every selector, expression and
// regex once, so that a loaded Spider does no parsing of its own on the hot
// path and reports all its problems, with line numbers, before the crawl
// starts. Parse is what the crawl sees of a page; Explain is the same walk
// with the reasons for everything Parse leaves out, for tools.
package spider

import (
	"io"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/andybalholm/cascadia"

	"crawl/downloader"
	"crawl/item"
	"crawl/stats"
	"crawl/urls"
)

// Spider is a loaded spider file. Load or Parse make one; the zero Spider
// has no start URLs and no rules.
//
// A Spider is read-only once loaded, except for the fields a caller sets
// before the crawl (Stdin, Stats), and its Parse, Explain and Check methods
// are safe for concurrent use by many goroutines. StartRequests is meant to
// be ranged over by one goroutine.
type Spider struct {
	Name           string    // the name key, by default the file name without extension
	AllowedDomains []string  // lower-cased, without ports; empty allows every host
	Settings       []Setting // the settings mapping, in file order

	// Canon is the canonical form the crawl de-duplicates requests by: the
	// canonical key of the file, validated; the zero Canon (the default)
	// when the file has none.
	Canon urls.Canon

	// Stdin is read when start_urls_file is "-". Nil means os.Stdin.
	// StartRequests never closes it.
	Stdin io.Reader

	// Stats, when set, receives the counts of what Check does to items
	// short of dropping them: fields removed because their text did not
	// convert to the field's type, under FieldsDropped+"bad_type". Nil
	// means they are not counted.
	Stats *stats.Stats

	file              string
	startURLs         []string
	startFile         string // path resolved against the spider file, or "-"
	startRange        *urlRange
	sitemapURLs       []string
	sitemapRules      []*sitemapRule
	sitemapFollow     []*regexp.Regexp
	sitemapSince      time.Time // zero: no limit
	sitemapFromRobots bool
	respectNofollow   bool
	response          responseKind
	hasJSON           bool // some rule reads JSON
	follow            []*followRule
	chains            []int // the follow rules whose selectors are descendant chains
	items             []*itemRule
	tests             []*Contract
	xpaths            xpathSet
	found             *sync.Pool // *[]foundLink, scanLinks' buffers, kept between pages; nil: none kept
	selectors         int        // CSS selectors and XPath expressions, for a page's work budget

	// render is how pages are rendered (render.go); nil: not at all.
	render *downloader.Render
}

// FieldsDropped is the prefix of the Stats counters of fields that Check
// removed from items it kept, by reason ("bad_type").
const FieldsDropped = "fields/dropped/"

// responseKind is how a spider reads responses: by their content type, or
// always as HTML or as JSON.
type responseKind uint8

const (
	responseAuto responseKind = iota
	responseHTML
	responseJSON
)

// Setting is one entry of the settings mapping: a command-line flag name and
// its value, the scalar as written. Line and Col are where the key is, for
// errors about flags the command line does not know or values it refuses.
type Setting struct {
	Key   string
	Value string
	Line  int
	Col   int
}

// Result is one thing Parse found on a page: an Item to write, a Request to
// follow, or a link it did not follow and why. Exactly one of Item, Request
// and Skip is set, or else Err.
type Result struct {
	// Item is a scraped item.
	Item *item.Item
	// Request is a link to follow: absolute, allowed by the follow rules
	// and allowed_domains, one level deeper than the page.
	Request *downloader.Request
	// Skip is the reason a link was not followed: "offsite" (its host is
	// not in allowed_domains), "scheme" (a scheme the page may not lead
	// to), "invalid" (it cannot be resolved to a URL) or "nofollow" (it
	// has rel=nofollow and the spider respects it).
	Skip string
	// URL is the skipped link, resolved when it could be, for logs; with
	// Err, the page.
	URL string
	// Err, in the last Result of a page, says why the page was not parsed
	// to the end: ErrTooComplex, or the error of the context.
	Err error

	from int // for Explain: the follow rule (index+1), or fromSitemap
}

// Reasons a link is skipped, the values of Result.Skip.
const (
	SkipOffsite  = "offsite"
	SkipScheme   = "scheme"
	SkipInvalid  = "invalid"
	SkipNofollow = "nofollow"
)

// SitemapRule is the Rule of a request for a sitemap (from sitemap_urls,
// or a sitemap index): Parse reads its response as a sitemap and yields a
// request for each page it lists. Names starting with "@" are reserved for
// such uses and no item rule may have one.
const SitemapRule = "@sitemap"

// followRule is a compiled entry of follow.
type followRule struct {
	index    int
	sel      cascadia.Matcher // CSS, or the default links; nil when xp or json selects
	xp       int              // XPath expression id; -1 for none
	json     *jsonPath        // links in JSON responses
	attr     string           // the attribute holding the link; "" chooses by element
	allow    []*regexp.Regexp // any must match; empty allows all
	deny     []*regexp.Regexp // any match denies
	text     []*regexp.Regexp // any must match the link text; empty allows all
	method   string
	header   http.Header
	body     []byte
	callback string

	// render is the rule's render key (render.go), when renderSet.
	render    *downloader.Render
	renderSet bool
}

// itemRule is a compiled entry of items.
type itemRule struct {
	name     string
	json     bool             // reads JSON responses, not HTML
	urls     []*regexp.Regexp // any must match the page URL; empty matches every page
	onlyCB   bool             // without urls and named as a callback: scrapes only pages requested for it
	each     scoper           // nil means one item per page
	fields   []fieldExtractor
	names    []string // the fields its items may have
	required []string
	unique   []string
	typed    bool   // a field converts to a type, so Check looks for bad values
	seen     *fpSet // fingerprints of unique keys, when unique is set
}

// Load reads and checks the spider file at path. Problems in the file are
// returned together as SpecErrors; a file beyond the limits (MaxFileSize
// and the others) is one such problem.
func Load(path string) (*Spider, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse is Load for a file already read: filename is used in errors and as
// the directory relative paths in the file are resolved against.
func Parse(filename string, data []byte) (*Spider, error) {
	c := newCompiler(filename)
	s := c.compile(data)
	if len(c.errs) > 0 {
		c.errs.sort()
		return nil, c.errs
	}
	return s, nil
}

// File returns the path of the spider file, as given to Load or Parse.
func (s *Spider) File() string { return s.file }

// SitemapFromRobots reports whether the spider asks for the sitemaps that
// the robots.txt of its start URLs' hosts list (sitemap_from_robots).
func (s *Spider) SitemapFromRobots() bool { return s.sitemapFromRobots }

// ItemRules returns the names of the item rules, in file order.
func (s *Spider) ItemRules() []string {
	names := make([]string, len(s.items))
	for i, r := range s.items {
		names[i] = r.name
	}
	return names
}

// FieldNames returns the name of every field the spider's items may have,
// each once, in file order: the columns of a CSV output.
func (s *Spider) FieldNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range s.items {
		for _, n := range r.names {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

// FollowRules returns the number of follow rules.
func (s *Spider) FollowRules() int { return len(s.follow) }

// rule returns the item rule with the given name, or nil.
func (s *Spider) rule(name string) *itemRule {
	for _, r := range s.items {
		if r.name == name {
			return r
		}
	}
	return nil
}
