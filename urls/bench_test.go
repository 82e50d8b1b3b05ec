package urls

import "testing"

// benchHrefs are link shapes from real pages, by name; the first ones take
// the fast path.
var benchHrefs = []struct{ name, href string }{
	{"relative", "page2.html"},
	{"root", "/catalogue/category/books_1/index.html"},
	{"query", "?page=2"},
	{"fragment", "#top"},
	{"absolute", "https://other.example/a/b?c=d"},
	{"dotdot", "../../catalogue/a-light-in-the-attic_1000/index.html"},
	{"nonascii", "/wiki/Café"},
	{"spaces", "  /a b/c\n"},
	{"idn", "http://Bücher.example/"},
	{"mailto", "mailto:someone@example.com"},
}

func BenchmarkResolve(b *testing.B) {
	base, err := ParseBase("https://books.toscrape.com/catalogue/category/books/travel_2/index.html")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range benchHrefs {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := base.Resolve(tc.href); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The parser alone, as Resolve would be without its fast path.
	b.Run("relative/parser", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := base.resolveSlow("page2.html"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParseBase parses a page URL as the crawler requested it, and
// the same URL by the full parser, as ParseBase did before its fast path.
func BenchmarkParseBase(b *testing.B) {
	const page = "https://books.toscrape.com/catalogue/category/books/travel_2/index.html"
	for _, tc := range []struct {
		name  string
		parse func(string) (*Base, error)
	}{{"page", ParseBase}, {"page/parser", parseBaseSlow}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.parse(page); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchURLs are URLs to canonicalise, by name; the first is already
// canonical and takes the fast path.
var benchURLs = []struct{ name, url string }{
	{"canonical", "https://books.toscrape.com/catalogue/page-2.html?a=1&b=2"},
	{"unsorted", "https://books.toscrape.com/catalogue/page-2.html?b=2&a=1"},
	{"messy", "HTTPS://Books.ToScrape.com:443/catalogue/./x/../page-2.html?b=2&a=%7e#top"},
}

func BenchmarkCanonical(b *testing.B) {
	c := Canon{DropParams: []string{"utm_*"}}
	for _, tc := range benchURLs {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Canonical(tc.url); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFingerprint(b *testing.B) {
	for _, tc := range benchURLs {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DefaultCanon.Fingerprint(tc.url); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
