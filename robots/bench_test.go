package robots

import "testing"

func BenchmarkParse(b *testing.B) {
	body := readFixture(b, "realistic.txt")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(body)
	}
}

func BenchmarkAgent(b *testing.B) {
	r := Parse(readFixture(b, "realistic.txt"))
	b.ReportAllocs()
	for b.Loop() {
		r.Agent("crawl/0.1 (+https://example.com/bot)")
	}
}

// BenchmarkAllowed checks paths against the largest group of
// testdata/realistic.txt (the "*" group, 118 rules) and the crawl group (9).
func BenchmarkAllowed(b *testing.B) {
	r := Parse(readFixture(b, "realistic.txt"))
	paths := []struct{ name, path string }{
		{"root", "/"},
		{"product", "/products/trail-running-shoe-x2?colour=blue&size=44"},
		{"disallowed", "/checkout/payment"},
		{"wildcard", "/category/shoes/?page=3"},
		{"escaped", "/%E3%82%AB%E3%83%BC%E3%83%88/item"},
		{"unicode", "/\u30ab\u30fc\u30c8/item"},
		{"long", "/blog/2024/05/17/a-rather-long-article-slug-about-robots-txt-and-crawlers?utm_source=newsletter&utm_medium=email&utm_campaign=spring"},
	}
	for _, agent := range []string{"other", "crawl"} {
		g := r.Agent(agent)
		for _, p := range paths {
			b.Run(agent+"/"+p.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					g.Allowed(p.path)
				}
			})
		}
	}
}
