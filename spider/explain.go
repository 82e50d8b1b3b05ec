package spider

import (
	"errors"
	"fmt"

	"crawl/downloader"
	"crawl/item"
	"crawl/pipeline"
)

// Explanation is what Explain found on a page: what Parse would yield, and
// what Parse passes over without a word, with the reasons.
type Explanation struct {
	// As is how the response was read: "html", "json" or "sitemap".
	As string
	// Problem says why nothing could be read, when something went wrong:
	// a body that is not JSON, a sitemap that stops being XML.
	Problem string
	// Rules has one entry per item rule, in file order (none for a
	// sitemap).
	Rules []RuleReport
	// Items are the items Parse yields, in order.
	Items []ItemReport
	// Links are the links the follow rules (or the sitemap) select, in the
	// order Parse meets them: followed (Request set) or not (Skip set).
	Links []LinkReport
}

// RuleReport says whether an item rule scraped the page, and why not.
type RuleReport struct {
	Name  string
	Ran   bool
	Why   string // why it did not run, when Ran is false
	Items int    // the items it produced
}

// WhyCallbackOnly is the Why of a rule that did not run because it
// scrapes only the pages requested for it (a callback without urls): a
// request naming it, such as crawl parse --rule, runs it.
const WhyCallbackOnly = "scrapes only the pages its callbacks request"

// ItemReport is one item and what Check would do with it, duplicates of
// items on other pages aside: Drop is nil when the item would be kept.
// Fields that did not convert to their type are already removed, as Check
// would.
type ItemReport struct {
	Item *item.Item
	Drop *pipeline.Drop
}

// LinkReport is one link a follow rule or a sitemap selected.
type LinkReport struct {
	// URL is the link, absolute when it could be resolved.
	URL string
	// From names what selected it: "follow[2]" or "sitemap".
	From string
	// Request is set when the link would be followed.
	Request *downloader.Request
	// Rule is the item rule the request names (a callback), SitemapRule
	// for a sitemap, or ""; Lastmod the <lastmod> of the sitemap entry.
	Rule, Lastmod string
	// Skip is why the link would not be followed: a Skip* reason of
	// Result ("offsite", "scheme", "invalid", "nofollow"), or one that
	// only Explain reports ("denied", "not_allowed", "text", "duplicate",
	// "old", "no_rule", "sitemap_follow").
	Skip string
}

// Explain reads resp as Parse does and reports everything it decides: the
// item rules that ran or why not, the items with what Check would make of
// them, and every link the follow rules select, with why it would not be
// followed. It is for tools that show how a spider sees a page, like
// `scrapy parse`: what the crawl sees is Parse's business alone, and
// Explain changes nothing in the Spider (it does not claim unique keys).
// It is safe for concurrent use.
func (s *Spider) Explain(resp *downloader.Response) *Explanation {
	ex := &Explanation{}
	pg, rule, depth := s.newPage(resp)
	pg.explain = ex
	defer pg.release()
	counts := map[string]int{}
	s.parse(pg, resp, rule, depth, func(r Result) bool {
		switch {
		case r.Item != nil:
			counts[r.Item.Rule]++
			rep := ItemReport{Item: r.Item}
			if ir := s.rule(r.Item.Rule); ir != nil {
				var d *pipeline.Drop
				if err := ir.validate(r.Item, nil); errors.As(err, &d) {
					rep.Drop = d
				}
			}
			ex.Items = append(ex.Items, rep)
		default:
			from := "sitemap"
			if r.from > 0 {
				from = fmt.Sprintf("follow[%d]", r.from-1)
			}
			l := LinkReport{URL: r.URL, From: from, Request: r.Request, Skip: r.Skip}
			if r.Request != nil {
				l.URL = r.Request.URL
				l.Rule, l.Lastmod = r.Request.Rule, r.Request.Lastmod
			}
			ex.Links = append(ex.Links, l)
		}
		return true
	})
	if pg.w.err != nil {
		s.stopped(pg)
	}
	for i := range ex.Rules {
		ex.Rules[i].Items = counts[ex.Rules[i].Name]
	}
	return ex
}
