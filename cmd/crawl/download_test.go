package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"crawl/downloader"
)

// paths counts the requests a test server sees, by path.
type paths struct {
	mu sync.Mutex
	m  map[string]int
}

func (p *paths) add(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]int{}
	}
	p.m[path]++
}

func (p *paths) get(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[path]
}

func (p *paths) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m = nil
}

// robotsSite serves robotsTxt and a home page linking to two private pages
// and a public one; every page has an <h1> naming it.
func robotsSite(t *testing.T, robotsTxt string) (*httptest.Server, *paths) {
	t.Helper()
	seen := new(paths)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.add(r.URL.Path)
		switch r.URL.Path {
		case "/robots.txt":
			io.WriteString(w, robotsTxt)
		case "/":
			io.WriteString(w, `<h1>home</h1><a href="/private/a">a</a><a href="/private/b">b</a><a href="/public/c">c</a>`)
		default:
			fmt.Fprintf(w, "<h1>%s</h1>", r.URL.Path)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

// counters reads the counters of a --stats file.
func counters(t *testing.T, path string) map[string]int64 {
	t.Helper()
	return readStats(t, path).Counters
}

// readStats reads a --stats file.
func readStats(t *testing.T, path string) statsFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sf statsFile
	if err := json.Unmarshal(b, &sf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return sf
}

func TestRobotsOnAndOff(t *testing.T) {
	srv, seen := robotsSite(t, "User-agent: *\nDisallow: /private/\n")
	dir := t.TempDir()
	spec := writeSpec(t, dir, `start_urls: ["{{URL}}/"]
follow: [{css: a}]
items: [{fields: {title: "h1::text"}}]
`, srv.URL)
	statsPath := filepath.Join(dir, "stats.json")
	tests := []struct {
		name        string
		args        []string
		wantItems   int
		wantDenied  int64
		wantPrivate int // requests for each private page
		wantRobots  int // requests for robots.txt
	}{
		{"obeyed by default", nil, 2, 2, 0, 1},
		{"not obeyed", []string{"--obey-robots=false"}, 4, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen.reset()
			r := runCrawl(t, nil, append([]string{"run", spec, "--stats", statsPath}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if n := strings.Count(r.stdout, "\n"); n != tt.wantItems {
				t.Errorf("items: got %d, want %d:\n%s", n, tt.wantItems, r.stdout)
			}
			if !regexp.MustCompile(fmt.Sprintf(`robots denied\s+%d  `, tt.wantDenied)).MatchString(r.stderr) {
				t.Errorf("summary does not count %d robots-denied requests:\n%s", tt.wantDenied, r.stderr)
			}
			if !regexp.MustCompile(`errors\s+0\n`).MatchString(r.stderr) {
				t.Errorf("denied requests counted as errors:\n%s", r.stderr)
			}
			c := counters(t, statsPath)
			if c["requests/robots_denied"] != tt.wantDenied {
				t.Errorf("stats requests/robots_denied: got %d, want %d", c["requests/robots_denied"], tt.wantDenied)
			}
			if got := seen.get("/private/a") + seen.get("/private/b"); got != 2*tt.wantPrivate {
				t.Errorf("private pages requested %d times, want %d", got, 2*tt.wantPrivate)
			}
			if got := seen.get("/robots.txt"); got != tt.wantRobots {
				t.Errorf("robots.txt requested %d times, want %d", got, tt.wantRobots)
			}
			// robots.txt is not a page of the crawl.
			if want := int64(tt.wantItems); c["pages"] != want {
				t.Errorf("stats pages: got %d, want %d", c["pages"], want)
			}
		})
	}
}

// A crawl whose every start URL is disallowed ends normally, having sent
// nothing but the robots.txt request.
func TestAllStartURLsDisallowed(t *testing.T) {
	srv, seen := robotsSite(t, "User-agent: crawl\nDisallow: /\n")
	spec := writeSpec(t, t.TempDir(), `start_urls: ["{{URL}}/", "{{URL}}/a", "{{URL}}/b"]
items: [{fields: {title: "h1::text"}}]
`, srv.URL)
	r := runCrawl(t, nil, "run", spec)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{`crawl: finished after`, `robots denied\s+3  `, `pages\s+0  `, `errors\s+0\n`, `robots\.txt\s+1  fetched: 1`} {
		if !regexp.MustCompile(want).MatchString(r.stderr) {
			t.Errorf("summary does not match %q:\n%s", want, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("items written: %q", r.stdout)
	}
	if n := seen.get("/") + seen.get("/a") + seen.get("/b"); n != 0 {
		t.Errorf("disallowed start URLs requested %d times", n)
	}
}

// charsetSite serves the same title in three charsets, each declared in
// another way, and counts requests.
func charsetSite(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch r.URL.Path {
		case "/sjis":
			w.Header().Set("Content-Type", "text/html; charset=Shift_JIS")
			io.WriteString(w, "<h1>\x93\xfa\x96{\x8c\xea\x82\xcc\x83y\x81[\x83W</h1>") // 日本語のページ
		case "/cp1251":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<meta charset="windows-1251"><h1>`+"\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0</h1>") // Привет, мир
		case "/latin1":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><h1>Caf`+"\xe9 Ol\xe9</h1>")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

const charsetSpec = `start_urls: ["{{URL}}/sjis", "{{URL}}/cp1251", "{{URL}}/latin1"]
items: [{fields: {title: "h1::text"}}]
`

func TestCharsetsEndToEnd(t *testing.T) {
	srv, _ := charsetSite(t)
	spec := writeSpec(t, t.TempDir(), charsetSpec, srv.URL)
	r := runCrawl(t, nil, "run", spec)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{`{"title":"日本語のページ"}`, `{"title":"Привет, мир"}`, `{"title":"Café Olé"}`} {
		if !strings.Contains(r.stdout, want+"\n") {
			t.Errorf("output lacks %s:\n%s", want, r.stdout)
		}
	}
}

// A second run with --cache reads every response from the directory.
func TestCacheFlag(t *testing.T) {
	srv, n := charsetSite(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, charsetSpec, srv.URL)
	cache := filepath.Join(dir, "cache")
	var outputs []string
	for i, want := range []string{`cache\s+0  hit: 0, miss: 4`, `cache\s+4  hit: 4, miss: 0`} {
		before := n.Load()
		statsPath := filepath.Join(dir, fmt.Sprintf("stats%d.json", i))
		r := runCrawl(t, nil, "run", spec, "--cache", cache, "--stats", statsPath)
		if r.code != 0 {
			t.Fatalf("run %d: exit %d, stderr:\n%s", i+1, r.code, r.stderr)
		}
		if !regexp.MustCompile(want).MatchString(r.stderr) {
			t.Errorf("run %d: summary does not match %q:\n%s", i+1, want, r.stderr)
		}
		// robots.txt (a 404) and three pages, then nothing.
		if got, want := n.Load()-before, int64(4*(1-i)); got != want {
			t.Errorf("run %d: %d requests, want %d", i+1, got, want)
		}
		if c := counters(t, statsPath); c["pages"] != 3 {
			t.Errorf("run %d: stats pages %d, want 3", i+1, c["pages"])
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		slices.Sort(lines) // the workers finish in any order
		outputs = append(outputs, strings.Join(lines, "\n"))
	}
	if outputs[0] != outputs[1] || strings.Count(outputs[1], "\n") != 2 {
		t.Errorf("the replay wrote other items:\n%s\nthan the first run:\n%s", outputs[1], outputs[0])
	}
	// --cache-refresh goes to the network again.
	before := n.Load()
	if r := runCrawl(t, nil, "run", spec, "--cache", cache, "--cache-refresh"); r.code != 0 {
		t.Fatalf("refresh: exit %d", r.code)
	}
	if got := n.Load() - before; got != 4 {
		t.Errorf("--cache-refresh: %d requests, want 4", got)
	}
}

func TestRetriesSummary(t *testing.T) {
	var flaky atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			http.NotFound(w, r)
		case r.URL.Path == "/flaky" && flaky.Add(1) == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/down":
			w.WriteHeader(http.StatusBadGateway)
		default:
			io.WriteString(w, "<h1>ok</h1>")
		}
	}))
	t.Cleanup(srv.Close)
	spec := writeSpec(t, t.TempDir(), `start_urls: ["{{URL}}/flaky", "{{URL}}/down"]
items: [{fields: {title: "h1::text"}}]
`, srv.URL)
	r := runCrawl(t, nil, "run", spec, "--retries", "1")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{`retries\s+2  502: 1, 503: 1; requests that still failed: 1`, `responses\s+2  200: 1, 502: 1`} {
		if !regexp.MustCompile(want).MatchString(r.stderr) {
			t.Errorf("summary does not match %q:\n%s", want, r.stderr)
		}
	}
}

func TestBadDownloadFlags(t *testing.T) {
	spec := writeSpec(t, t.TempDir(), "start_urls: [\"http://127.0.0.1:1/\"]\n", "")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--retries", "-1"}, `--retries: invalid value "-1": want `},
		{[]string{"--max-body", "0"}, `--max-body: invalid value "0": want `},
		{[]string{"--max-body", "10XB"}, `--max-body: invalid value "10XB": want `},
		{[]string{"--cookies=maybe"}, `--cookies: invalid value "maybe": want `},
		{[]string{"--max-retry-wait", "0s"}, `--max-retry-wait must be positive`},
		{[]string{"--cache-ttl", "-1h"}, `--cache-ttl must not be negative`},
		{[]string{"--proxy", "ftp://127.0.0.1"}, `--proxy: proxy "ftp://127.0.0.1": scheme must be`},
		{[]string{"--cache", filepath.Join(file, "sub")}, `--cache: mkdir .*: not a directory`},
		{[]string{"--deny-private=sometimes"}, `--deny-private: invalid value "sometimes": want `},
		{[]string{"--private-nets", "10.0.0.0/8,localnet"}, `--private-nets: invalid value .*: want networks such as .*"localnet" is not one`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCrawl(t, nil, append([]string{"run", spec}, tt.args...)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			if !regexp.MustCompile(tt.want).MatchString(r.stderr) {
				t.Errorf("stderr = %q, want match for %q", r.stderr, tt.want)
			}
		})
	}
}

// The flags fill downloader.Config directly, with the command's defaults.
func TestDownloadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want func(c *downloader.Config) bool
	}{
		{nil, func(c *downloader.Config) bool {
			return c.ObeyRobots && c.Retries == 2 && c.MaxBody == 10<<20 && !c.DisableCookies &&
				c.MaxRetryWait == time.Minute && c.Timeout == 30*time.Second && c.UserAgent == "crawl/0.1" &&
				c.Proxy == "" && c.CacheDir == "" && c.CacheTTL == 0 && !c.CacheRefresh &&
				c.DenyPrivate && c.PrivateNets == nil
		}},
		{[]string{"--deny-private=false"}, func(c *downloader.Config) bool { return !c.DenyPrivate }},
		{[]string{"--private-nets", "127.0.0.1/32, ::1/128,10.1.2.3/8"}, func(c *downloader.Config) bool {
			return fmt.Sprint(c.PrivateNets) == "[127.0.0.1/32 ::1/128 10.0.0.0/8]"
		}},
		{[]string{"--obey-robots=false"}, func(c *downloader.Config) bool { return !c.ObeyRobots }},
		{[]string{"--retries", "0"}, func(c *downloader.Config) bool { return c.Retries == downloader.NoRetries }},
		{[]string{"--retries", "5"}, func(c *downloader.Config) bool { return c.Retries == 5 }},
		{[]string{"--cookies=false"}, func(c *downloader.Config) bool { return c.DisableCookies }},
		{[]string{"--cookies"}, func(c *downloader.Config) bool { return !c.DisableCookies }},
		{[]string{"--max-body", "512KiB"}, func(c *downloader.Config) bool { return c.MaxBody == 512<<10 }},
		{[]string{"--max-body", "2MB"}, func(c *downloader.Config) bool { return c.MaxBody == 2e6 }},
		{[]string{"--max-body", "1.5GiB"}, func(c *downloader.Config) bool { return c.MaxBody == 3<<29 }},
		{[]string{"--max-body", "4096"}, func(c *downloader.Config) bool { return c.MaxBody == 4096 }},
		{[]string{"--max-body", "100 B"}, func(c *downloader.Config) bool { return c.MaxBody == 100 }},
		{[]string{"--proxy", "http://127.0.0.1:3128", "--cache", "", "--cache-ttl", "1h", "--cache-refresh"}, func(c *downloader.Config) bool {
			return c.Proxy == "http://127.0.0.1:3128" && c.CacheTTL == time.Hour && c.CacheRefresh
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var c downloader.Config
			f := pflag.NewFlagSet("run", pflag.ContinueOnError)
			addDownloadFlags(f, &c)
			if err := f.Parse(tt.args); err != nil {
				t.Fatalf("parse %q: %v", tt.args, err)
			}
			if err := validateDownload(&c); err != nil {
				t.Fatalf("validate %q: %v", tt.args, err)
			}
			if !tt.want(&c) {
				t.Errorf("flags %q gave %+v", tt.args, c)
			}
		})
	}
	t.Run("defaults shown in help", func(t *testing.T) {
		f := pflag.NewFlagSet("run", pflag.ContinueOnError)
		addDownloadFlags(f, new(downloader.Config))
		for name, want := range map[string]string{"max-body": "10MiB", "retries": "2", "cookies": "true", "obey-robots": "true", "deny-private": "true"} {
			if got := f.Lookup(name).DefValue; got != want {
				t.Errorf("--%s default: got %q, want %q", name, got, want)
			}
		}
	})
}
