package robots_test

import (
	"fmt"

	"crawl/robots"
)

func Example() {
	body := []byte(`# robots.txt for example.com
User-agent: *
Disallow: /private/
Crawl-delay: 5

User-agent: crawl
Disallow: /search
Disallow: /*.pdf$
Allow: /search/about
Crawl-delay: 0.5

Sitemap: https://example.com/sitemap.xml
`)
	r := robots.Parse(body)

	// The product token "crawl" selects the second group, so /private/ is
	// open to it while other crawlers keep out.
	g := r.Agent("crawl/0.1 (+https://example.com/bot)")
	for _, path := range []string{
		"/",
		"/private/",
		"/search?q=robots",
		"/search/about",
		"/docs/manual.pdf",
		"/docs/manual.pdf?download=1",
		"/robots.txt",
	} {
		fmt.Printf("%-28s %v\n", path, g.Allowed(path))
	}
	delay, _ := g.CrawlDelay()
	fmt.Println("crawl-delay:", delay)
	fmt.Println("others may fetch /private/:", r.Agent("otherbot").Allowed("/private/"))
	fmt.Println("sitemaps:", r.Sitemaps())
	// Output:
	// /                            true
	// /private/                    true
	// /search?q=robots             false
	// /search/about                true
	// /docs/manual.pdf             false
	// /docs/manual.pdf?download=1  true
	// /robots.txt                  true
	// crawl-delay: 500ms
	// others may fetch /private/: false
	// sitemaps: [https://example.com/sitemap.xml]
}
