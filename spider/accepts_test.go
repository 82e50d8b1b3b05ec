package spider

import (
	"net/http"
	"testing"

	"crawl/downloader"
)

func TestAccepts(t *testing.T) {
	tests := []struct {
		ctype string
		body  string
		want  bool
	}{
		{"text/html; charset=utf-8", "", true},
		{"TEXT/HTML", "", true},
		{"application/xhtml+xml", "", true},
		{"", "<!DOCTYPE html><html><body>x</body></html>", true},
		{"", "%PDF-1.4 binary", false},
		{"application/pdf", "<html>", false},
		{"image/png", "", false},
	}
	var s Spider
	for _, tt := range tests {
		h := http.Header{}
		if tt.ctype != "" {
			h.Set("Content-Type", tt.ctype)
		}
		resp := &downloader.Response{Header: h, Body: []byte(tt.body)}
		if got := s.Accepts(resp); got != tt.want {
			t.Errorf("Accepts(Content-Type %q, body %q) = %v, want %v", tt.ctype, tt.body, got, tt.want)
		}
	}
}

func TestStartCount(t *testing.T) {
	tests := []struct {
		spec  string
		n     int64
		known bool
	}{
		{`start_urls: ["http://a.test/", "http://b.test/"]`, 2, true},
		{`start_urls_range: {template: "http://a.test/{n}", from: 1, to: 5000000}`, 5000000, true},
		{"start_urls: [\"http://a.test/\"]\nstart_urls_range: {template: \"http://a.test/{n}\", from: 10, to: 20, step: 5}", 4, true},
		{`start_urls_file: "-"`, 0, false},
		{`sitemap_urls: ["http://a.test/sitemap.xml"]`, 0, false},
	}
	for _, tt := range tests {
		s := parseSpec(t, tt.spec)
		if n, known := s.StartCount(); n != tt.n || known != tt.known {
			t.Errorf("StartCount of %q = %d, %v; want %d, %v", tt.spec, n, known, tt.n, tt.known)
		}
	}
}
