package site

import (
	_ "embed"
	"fmt"
	"net/url"
	"strings"
)

// SpiderTemplate is the spider file for the site, with "{start}" where its
// start section goes and "{host}" where the site's host goes. Spider and
// RangeSpider fill them in.
//
//go:embed spider.yaml
var SpiderTemplate string

// Spider returns the spider file for the site served at base (such as
// "http://127.0.0.1:8080"), with the one start URL base+path: FirstListing
// crawls the shop, FirstChain the chain, FirstWide the wide tree.
func Spider(base, path string) []byte {
	return spiderFile(base, fmt.Sprintf("start_urls: [%q]", base+path))
}

// RangeSpider returns the spider file for the site served at base whose
// start URLs are the product pages 1 to n, counted by start_urls_range
// rather than listed, whatever n is.
func RangeSpider(base string, n int) []byte {
	return spiderFile(base, fmt.Sprintf("start_urls_range: {template: %q, from: 1, to: %d}", base+"/catalogue/book_{n}/index.html", n))
}

func spiderFile(base, start string) []byte {
	host := base
	if u, err := url.Parse(base); err == nil {
		host = u.Hostname()
	}
	return []byte(strings.NewReplacer("{start}", start, "{host}", host).Replace(SpiderTemplate))
}
