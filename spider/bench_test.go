package spider

import "testing"

// BenchmarkParse parses a 30 KB listing page of 20 books with 90 links:
// run it with -benchmem.
func BenchmarkParse(b *testing.B) {
	s, err := Load("testdata/good/books.yaml")
	if err != nil {
		b.Fatal(err)
	}
	resp := response(b, "https://books.toscrape.com/catalogue/page-2.html", "catalogue.html", "", 1)
	var items, links int
	for r := range s.Parse(resp) {
		switch {
		case r.Item != nil:
			items++
		case r.Request != nil:
			links++
		}
	}
	if items != 20 || links != 21 {
		b.Fatalf("%d items and %d links, want 20 and 21", items, links)
	}
	b.SetBytes(int64(len(resp.Body)))
	b.ReportAllocs()
	for b.Loop() {
		for range s.Parse(resp) {
		}
	}
}
