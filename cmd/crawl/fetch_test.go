package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fetchSite serves pages for crawl fetch and crawl shell: one in Latin-1,
// one gzipped, one behind robots.txt, one missing, and a counter.
func fetchSite(t *testing.T) *httptest.Server {
	t.Helper()
	var hits atomic.Int64
	shop, err := os.ReadFile("testdata/shell/shop.html")
	if err != nil {
		t.Fatal(err)
	}
	shopJSON, err := os.ReadFile("testdata/shell/shop.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			io.WriteString(w, "User-agent: *\nDisallow: /private\n")
		case "/latin1":
			w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
			w.Header().Set("X-Test", "yes")
			io.WriteString(w, "<p>caf\xe9</p>")
		case "/gz":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			io.WriteString(zw, `{"packed": true}`)
			zw.Close()
		case "/ua":
			io.WriteString(w, r.UserAgent())
		case "/count":
			fmt.Fprint(w, hits.Add(1))
		case "/redirect":
			http.Redirect(w, r, "/latin1", http.StatusFound)
		case "/shop/", "/shop/page/2":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(shop)
		case "/plain.json":
			w.Header().Set("Content-Type", "text/plain")
			w.Write(shopJSON)
		case "/shop.json":
			w.Header().Set("Content-Type", "application/json")
			w.Write(shopJSON)
		case "/private":
			io.WriteString(w, "secret")
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "not here")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchCommand(t *testing.T) {
	srv := fetchSite(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "saved.html")
	if err := os.WriteFile(file, []byte("<meta charset=\"iso-8859-1\"><p>caf\xe9</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // exactly, or with a trailing "…" its start
		stderr string // in stderr, which then must be one line
	}{
		{"decoded to UTF-8", []string{srv.URL + "/latin1"}, 0, "<p>café</p>", ""},
		{"raw", []string{srv.URL + "/latin1", "--raw"}, 0, "<p>caf\xe9</p>", ""},
		{"after a redirect", []string{srv.URL + "/redirect"}, 0, "<p>café</p>", ""},
		{"decompressed", []string{srv.URL + "/gz", "--raw"}, 0, `{"packed": true}`, ""},
		{"head", []string{srv.URL + "/latin1", "--headers"}, 0, "200 OK\nContent-Length: 11\nContent-Type: text/html; charset=utf-8\nDate: …", ""},
		{"cut at --max-body", []string{srv.URL + "/latin1", "--raw", "--max-body", "5"}, 0, "<p>ca", "crawl: warning: the body was cut at 5 bytes (--max-body)"},
		{"user agent", []string{srv.URL + "/ua", "--user-agent", "probe/2"}, 0, "probe/2", ""},
		{"a local file", []string{file}, 0, `<meta charset="iso-8859-1"><p>café</p>`, ""},
		{"robots.txt", []string{srv.URL + "/private"}, 1, "", "/private: denied by robots.txt (" + srv.URL + "/robots.txt); --obey-robots=false fetches it anyway"},
		{"robots.txt not obeyed", []string{srv.URL + "/private", "--obey-robots=false"}, 0, "secret", ""},
		{"404", []string{srv.URL + "/missing"}, 1, "", "crawl: fetch " + srv.URL + "/missing: HTTP status 404 Not Found"},
		{"404 head", []string{srv.URL + "/missing", "--headers"}, 1, "404 Not Found\n…", "HTTP status 404"},
		{"refused", []string{"http://127.0.0.1:1/", "--retries", "0"}, 1, "", "connection refused"},
		{"bad flag", []string{srv.URL + "/latin1", "--timeout", "0"}, 2, "", "--timeout must be positive"},
		{"no such file", []string{filepath.Join(dir, "nope.html")}, 2, "", "is not a URL, nor a file"},
		{"two arguments", []string{srv.URL, srv.URL}, 2, "", "fetch takes one URL or file, got 2 arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCrawl(t, nil, append([]string{"fetch"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if prefix, ok := strings.CutSuffix(tt.stdout, "…"); ok {
				if !strings.HasPrefix(r.stdout, prefix) {
					t.Errorf("stdout = %q, want it to start %q", r.stdout, prefix)
				}
			} else if r.stdout != tt.stdout {
				t.Errorf("stdout = %q, want %q", r.stdout, tt.stdout)
			}
			if tt.stderr == "" && r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
			if tt.stderr != "" && r.code == 0 && r.stdout == "" {
				t.Error("a warning, and no body")
			}
			if tt.stderr != "" && (!strings.Contains(r.stderr, tt.stderr) || strings.Count(r.stderr, "\n") != 1) {
				t.Errorf("stderr = %q, want one line with %q", r.stderr, tt.stderr)
			}
		})
	}

	t.Run("cache", func(t *testing.T) {
		for range 2 {
			r := runCrawl(t, nil, "fetch", srv.URL+"/count", "--cache", cache)
			if r.code != 0 || r.stdout != "1" {
				t.Errorf("exit %d, stdout %q; want 0 and the first answer, kept in the cache", r.code, r.stdout)
			}
		}
	})
}

// TestFetchDenyPrivate checks --deny-private as crawl run has it: a URL on
// the command line goes anywhere, as a start URL does, but a redirect from
// a public address to a private one is refused. --private-nets makes only
// 127.0.0.1 private, as a test can only use loopback.
func TestFetchDenyPrivate(t *testing.T) {
	pubL, pub := listenAt(t, "127.0.0.2:0")
	privL, priv := listenAt(t, "127.0.0.1:0")
	seen := new(paths)
	serve(t, pubL, pagesHandler(seen, nil))
	serve(t, privL, pagesHandler(seen, map[string]string{"/secret": "<h1>secret</h1>"}))
	nets := "--private-nets=127.0.0.1/32,::1/128"
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string // stdout, or in stderr when the exit status is not 0
	}{
		{"typed private URL", []string{priv + "/secret", nets}, 0, "<h1>secret</h1>"},
		{"redirect to it", []string{pub + "/to?u=" + priv + "/secret", nets}, 1, "private"},
		{"redirect, not denied", []string{pub + "/to?u=" + priv + "/secret", nets, "--deny-private=false"}, 0, "<h1>secret</h1>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCrawl(t, nil, append([]string{"fetch"}, tt.args...)...)
			if tt.code == 0 && (r.code != 0 || r.stdout != tt.want) || tt.code != 0 && (r.code != tt.code || !strings.Contains(r.stderr, tt.want) || r.stdout != "") {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", r.code, r.stdout, r.stderr, tt.code, tt.want)
			}
		})
	}
}

// TestFetchClosedPipe checks that crawl fetch | head stops quietly when
// head has read what it wanted.
func TestFetchClosedPipe(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.html")
	if err := os.WriteFile(big, []byte("<p>"+strings.Repeat("x", 4<<20)+"</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := command("fetch", big)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(out, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	out.Close()
	if err := cmd.Wait(); err != nil || stderr.Len() > 0 {
		t.Errorf("crawl fetch into a closed pipe: %v, stderr %q; want exit 0 and nothing", err, stderr.String())
	}
}
