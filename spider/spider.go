// Package spider loads a spider file, the YAML description of a crawl, and
// runs it: it produces the start requests, and for each fetched HTML page it
// extracts items and the links to follow.
//
// A spider file names where to start (start_urls, start_urls_file,
// start_urls_range), which links to follow (follow rules of CSS selectors
// and URL regexes, limited to allowed_domains), what to scrape (item rules
// of named fields, each a CSS selector with an optional regex) and crawl
// settings for the command line. Load checks the whole file and compiles
// every selector and regex once, so that a loaded Spider does no parsing of
// its own on the hot path and reports all its problems, with line numbers,
// before the crawl starts.
package spider

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/andybalholm/cascadia"

	"crawl/downloader"
	"crawl/item"
	"crawl/pipeline"
)

// Spider is a loaded spider file. Load or Parse make one; the zero Spider
// has no start URLs and no rules.
//
// A Spider is read-only once loaded, and its Parse and Check methods are
// safe for concurrent use by many goroutines. StartRequests is meant to be
// ranged over by one goroutine.
type Spider struct {
	Name           string    // the name key, by default the file name without extension
	AllowedDomains []string  // lower-cased, without ports; empty allows every host
	Settings       []Setting // the settings mapping, in file order

	// Stdin is read when start_urls_file is "-". Nil means os.Stdin.
	// StartRequests never closes it.
	Stdin io.Reader

	file       string
	startURLs  []string
	startFile  string // path resolved against the spider file, or "-"
	startRange *urlRange
	follow     []*followRule
	items      []*itemRule
}

// Setting is one entry of the settings mapping: a command-line flag name and
// its value, the scalar as written. Line is where the key is, for errors
// about flags the command line does not know.
type Setting struct {
	Key   string
	Value string
	Line  int
}

// Result is one thing Parse found on a page: an Item to write, a Request to
// follow, or a link it did not follow and why. Exactly one of Item, Request
// and Skip is set.
type Result struct {
	// Item is a scraped item.
	Item *item.Item
	// Request is a link to follow: absolute, allowed by the follow rules
	// and allowed_domains, one level deeper than the page.
	Request *downloader.Request
	// Skip is the reason a link was not followed: "offsite" (its host is
	// not in allowed_domains), "scheme" (a scheme the page may not lead
	// to) or "invalid" (it cannot be resolved to a URL).
	Skip string
	// URL is the skipped link, resolved when it could be, for logs.
	URL string
}

// Reasons a link is skipped, the values of Result.Skip.
const (
	SkipOffsite = "offsite"
	SkipScheme  = "scheme"
	SkipInvalid = "invalid"
)

// followRule is a compiled entry of follow.
type followRule struct {
	sel   cascadia.Selector // nil means every a[href] and area[href]
	attr  string            // the attribute holding the link; "" chooses by element
	allow []*regexp.Regexp  // any must match; empty allows all
	deny  []*regexp.Regexp  // any match denies
}

// itemRule is a compiled entry of items.
type itemRule struct {
	name     string
	urls     []*regexp.Regexp  // any must match the page URL; empty matches every page
	each     cascadia.Selector // nil means one item per page
	fields   []field
	required []string
}

// field is one named field of an item rule.
type field struct {
	name string
	ext  extractor
}

// Load reads and checks the spider file at path. Problems in the file are
// returned together as SpecErrors.
func Load(path string) (*Spider, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spider: %w", err)
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

// Check reports whether an item may be written: nil, or a *pipeline.Drop
// with Reason "missing_required" when a field its rule requires is absent,
// "" or an empty list. Items of rules the spider does not have pass.
func (s *Spider) Check(it *item.Item) error {
	var missing []string
	for _, r := range s.items {
		if r.name != it.Rule {
			continue
		}
		for _, name := range r.required {
			v, ok := it.Get(name)
			if !ok || isEmpty(v) {
				missing = append(missing, name)
			}
		}
		break
	}
	if len(missing) == 0 {
		return nil
	}
	return &pipeline.Drop{Reason: "missing_required", Detail: it.Rule + ": " + strings.Join(missing, ", ")}
}

// isEmpty reports whether a field value counts as missing.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []string:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case []*item.Item:
		return len(v) == 0
	}
	return false
}
