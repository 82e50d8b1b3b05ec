package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deadURL returns a loopback URL on which nothing listens: every
// connection is refused, robots.txt's included.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// hangUpServer accepts every connection and closes it without a word.
func hangUpServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestExitWhenNothingFetched runs crawls in which not one page could be
// fetched (exit status 1, reason nothing_fetched, and a line saying so),
// beside crawls that fetched nothing for other reasons, or fetched
// something, which exit 0.
func TestExitWhenNothingFetched(t *testing.T) {
	good, _ := pageServer(t)
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			w.Write([]byte("User-agent: *\nDisallow: /\n"))
			return
		}
		t.Errorf("a request robots.txt disallows was sent: %s", r.URL)
	}))
	defer denied.Close()
	missing := httptest.NewServer(http.NotFoundHandler())
	defer missing.Close()
	dead, hangUp := deadURL(t), hangUpServer(t)

	const fail = "no page could be fetched"
	tests := []struct {
		name   string
		spec   string
		args   []string
		code   int
		reason string
	}{
		{"every connection refused", `start_urls: ["` + dead + `/a", "` + dead + `/b"]`, nil, 1, "nothing_fetched"},
		{"every connection hung up", `start_urls: ["` + hangUp + `/a"]`, []string{"--retries", "0"}, 1, "nothing_fetched"},
		{"max errors before any page", `start_urls_range: {template: "` + dead + `/{n}", from: 1, to: 50}`, []string{"--max-errors", "3", "--workers", "1"}, 1, "max_errors"},
		{"some pages fetched", `start_urls: ["` + dead + `/a", "` + good.URL + `/p/1"]`, nil, 0, "finished"},
		{"every page 404", `start_urls: ["` + missing.URL + `/a"]`, nil, 0, "finished"},
		{"every request disallowed", `start_urls: ["` + denied.URL + `/a"]`, nil, 0, "finished"},
		{"empty start file", "start_urls_file: empty.txt", nil, 0, "finished"},
		{"--max-pages 0 is no limit", `start_urls: ["` + good.URL + `/p/1"]`, []string{"--max-pages", "0"}, 0, "finished"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "empty.txt"), nil, 0o644)
			spec := writeSpec(t, dir, tt.spec+"\nitems: [{fields: {title: \"h1::text\"}}]\n", "")
			r := runCrawl(t, nil, append([]string{"run", spec, "--log-level", "info"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "crawl: "+tt.reason+" after") {
				t.Errorf("summary does not give the reason %s:\n%s", tt.reason, r.stderr)
			}
			if said := strings.Contains(r.stderr, "crawl: "+fail); said != (tt.code == 1) {
				t.Errorf("stderr says %q: %v, want %v:\n%s", fail, said, tt.code == 1, r.stderr)
			}
		})
	}
}

// TestExitResumedFinishedCrawl re-runs a finished --state crawl after its
// site went away: there is nothing left to fetch, which is not a failure.
func TestExitResumedFinishedCrawl(t *testing.T) {
	srv, _ := pageServer(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, "start_urls: [\"{{URL}}/p/1\", \"{{URL}}/p/2\"]\nitems: [{fields: {title: \"h1::text\"}}]\n", srv.URL)
	args := []string{"run", spec, "-o", filepath.Join(dir, "items.jsonl"), "--state", filepath.Join(dir, "state")}
	if r := runCrawl(t, nil, args...); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	srv.Close()
	r := runCrawl(t, nil, args...)
	if r.code != 0 || strings.Contains(r.stderr, "no page could be fetched") {
		t.Errorf("resumed finished crawl: exit %d, want 0 and no failure:\n%s", r.code, r.stderr)
	}
}
