package engine_test

import (
	"testing"

	"crawl/downloader"
	"crawl/engine"
	"crawl/urls"
)

func TestFingerprintCoversMethodAndBody(t *testing.T) {
	checkLeaks(t)
	const u = "http://shop.test/search"
	reqs := map[string]*downloader.Request{
		"GET":            {URL: u},
		"POST a":         {URL: u, Method: "POST", Body: []byte("q=a")},
		"POST b":         {URL: u, Method: "POST", Body: []byte("q=b")},
		"PUT a":          {URL: u, Method: "PUT", Body: []byte("q=a")},
		"POST no body":   {URL: u, Method: "POST"},
		"HEAD":           {URL: u, Method: "HEAD"},
		"POST body meth": {URL: u, Method: "POSTq", Body: []byte("=a")},
	}
	seen := map[uint64]string{}
	for name, r := range reqs {
		fp, err := engine.Fingerprint(urls.Canon{}, r)
		if err != nil {
			t.Fatal(err)
		}
		if other, ok := seen[fp]; ok {
			t.Errorf("%s and %s have one fingerprint", name, other)
		}
		seen[fp] = name
	}
	// A GET is the same request however it is spelled.
	a, _ := engine.Fingerprint(urls.Canon{}, &downloader.Request{URL: u, Method: "GET"})
	b, _ := engine.Fingerprint(urls.Canon{}, &downloader.Request{URL: "HTTP://shop.test:80/search#top"})
	if c, _ := (urls.Canon{}).Fingerprint(u); a != c || b != c {
		t.Errorf("GET fingerprints %x, %x; want the URL's %x", a, b, c)
	}
}
