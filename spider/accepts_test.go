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
