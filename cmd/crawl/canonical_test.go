package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestCanonicalOptions crawls a page that links to one page with tracking
// parameters and a trailing slash: with canonical: options they are one
// page, without them several.
func TestCanonicalOptions(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/" {
			fmt.Fprint(w, `<html><body>
				<a href="/shoes?utm_source=mail&utm_medium=x">a</a>
				<a href="/shoes/?utm_campaign=spring">b</a>
				<a href="/shoes?sessionid=42">c</a>
				<a href="/shoes">d</a></body></html>`)
			return
		}
		fmt.Fprint(w, `<html><body><h1>shoes</h1></body></html>`)
	}))
	defer srv.Close()
	base := "start_urls: [\"{{URL}}/\"]\nfollow: [{css: a}]\nitems: [{urls: shoes, fields: {title: h1}}]\n"
	tests := []struct {
		name      string
		canonical string
		fetches   int // of /shoes and /shoes/
		items     int
	}{
		{"default", "", 4, 4},
		{"drop params", "canonical: {drop_params: [utm_*, sessionid]}\n", 2, 2},
		{"drop params and fold slashes", "canonical: {drop_params: [utm_*, sessionid], trailing_slash: true}\n", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			clear(hits)
			mu.Unlock()
			spec := writeSpec(t, t.TempDir(), base+tt.canonical, srv.URL)
			r := runCrawl(t, nil, "run", spec, "--workers", "1")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			mu.Lock()
			fetches := hits["/shoes"] + hits["/shoes/"]
			mu.Unlock()
			if fetches != tt.fetches {
				t.Errorf("shoes fetched %d times, want %d", fetches, tt.fetches)
			}
			if n := strings.Count(r.stdout, "\n"); n != tt.items {
				t.Errorf("%d items, want %d", n, tt.items)
			}
		})
	}
}
