package engine_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

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

func TestRequestCodec(t *testing.T) {
	for _, r := range []*downloader.Request{
		{URL: "http://a.test/"},
		{URL: "http://a.test/p?q=1", Method: "POST", Body: []byte("a=1&b=\n2"), Depth: 300, Rule: "book", PublicOnly: true, Lastmod: "2026-11-25",
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Two": {"1", "2"}}},
		{URL: "http://a.test/js", Render: &downloader.Render{}},
		{URL: "http://a.test/js", Depth: 2, Render: &downloader.Render{WaitFor: "#list li", Wait: downloader.WaitDelay, Delay: 1500 * time.Millisecond,
			Scroll: 3, Block: []string{"image", "font"}, Capture: `/api/`, Timeout: 20 * time.Second,
			Actions: []downloader.RenderAction{{Kind: "click", Selector: "button.more"}, {Kind: "type", Selector: "#q", Text: "shoes\n"}, {Kind: "scroll", N: 2}}}},
	} {
		got, err := engine.DecodeRequest(engine.AppendRequest(nil, r))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("decode(encode(%+v)) = %+v", r, got)
		}
	}
	good := string(engine.AppendRequest(nil, &downloader.Request{URL: "http://a.test/", Header: http.Header{"A": {"b"}}}))
	for _, bad := range []string{"", "\x80", good[:len(good)-1], good + "x", "\x05\x00\xff\xff\xff\x0f",
		"\x0d\x00\x00\x00\x00\x00\x01\x00\xff\xff\xff\xff\xff\x0f", // a count of values far beyond the record
	} {
		if r, err := engine.DecodeRequest([]byte(bad)); err == nil {
			t.Errorf("decode(%q) = %+v, want an error", bad, r)
		}
	}
}
