package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"crawl/spider"
	"crawl/stats"
)

// slowPage is a page wide and deep enough that the XPath below costs far
// more than any stop condition's grace to evaluate: antchfx/xpath
// multiplies the steps of "//div//div//div//div//h3" by the depth at each
// "//", and the page's work budget, linear in its size, is tens of
// seconds of steps. Only the crawl's context can stop it in time.
func slowPage() string {
	var b strings.Builder
	b.WriteString("<html><body>")
	for range 700 {
		b.WriteString(strings.Repeat("<div>", 480) + "<h3>t</h3>" + strings.Repeat("</div>", 480))
	}
	b.WriteString("</body></html>")
	return b.String()
}

const slowSpec = `name: slow
start_urls: ["{{URL}}/items", "{{URL}}/slow"]
items:
  - name: product
    urls: ["/items$"]
    each: li
    fields: {name: 'li::text'}
  - name: deep
    urls: ["/slow$"]
    fields:
      title: {xpath: "//div//div//div//div//h3", all: true}
`

// TestStopDuringSlowParse starts a crawl whose one page is very slow to
// parse, and stops it with each stop condition while the page is parsed:
// the crawl must end within the grace period with the documented exit
// status and reason, the page must be abandoned (not parsed to its budget)
// and the items of the fast page must be written. The hang guard is far
// above max-time plus grace: it only catches a crawl that does not stop,
// as every one of these did before pages were parsed under the context.
func TestStopDuringSlowParse(t *testing.T) {
	page := slowPage()
	tests := []struct {
		name   string
		args   []string
		signal syscall.Signal // sent once /slow is served; 0: none
		code   int
		reason string
	}{
		{"max-time", []string{"--max-time", "1s"}, 0, 0, "max_time"},
		{"max-pages", []string{"--max-pages", "2"}, 0, 0, "max_pages"},
		{"max-items", []string{"--max-items", "1"}, 0, 0, "max_items"},
		{"max-items strict", []string{"--max-items", "1", "--strict"}, 0, 3, "max_items"},
		{"SIGINT", nil, syscall.SIGINT, 130, "interrupted"},
		{"SIGTERM", nil, syscall.SIGTERM, 130, "interrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served := make(chan struct{})
			var once sync.Once
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/items":
					w.Header().Set("Content-Type", "text/html")
					w.Write([]byte("<ul><li>a</li><li>b</li></ul>"))
				case "/slow":
					w.Header().Set("Content-Type", "text/html")
					w.Write([]byte(page))
					once.Do(func() { close(served) })
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			dir := t.TempDir()
			spec := writeSpec(t, dir, slowSpec, srv.URL)
			out, statsPath := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "stats.json")
			// The hang guard: minutes, where the crawl must stop in about
			// two seconds.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			args := append([]string{"run", spec, "-o", out, "--stats", statsPath, "--workers", "2",
				"--grace", "1s", "--max-body", "16MiB", "--log-level", "warn"}, tt.args...)
			cmd := exec.CommandContext(ctx, os.Args[0], args...)
			cmd.Env = append(os.Environ(), "CRAWL_TEST_MAIN=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tt.signal != 0 {
				select {
				case <-served:
				case <-ctx.Done():
				}
				cmd.Process.Signal(tt.signal)
			}
			err := cmd.Wait()
			if ctx.Err() != nil {
				t.Fatalf("the crawl did not stop: killed by the hang guard\n%s", stderr.String())
			}
			code := 0
			var exitErr *exec.ExitError
			if errors.As(err, &exitErr) {
				code = exitErr.ExitCode()
			}
			if code != tt.code {
				t.Fatalf("exit status %d, want %d\n%s", code, tt.code, stderr.String())
			}
			sf := readStats(t, statsPath)
			if string(sf.Reason) != tt.reason {
				t.Errorf("reason %q, want %q", sf.Reason, tt.reason)
			}
			if n := sf.Counters[stats.Skipped+spider.SkipTooComplex]; n != 0 {
				t.Errorf("the slow page was parsed to its budget (%s %d): the stop did not reach it", stats.Skipped+spider.SkipTooComplex, n)
			}
			if !strings.Contains(stderr.String(), "grace period over") {
				t.Errorf("the slow page was not abandoned at the end of the grace period:\n%s\n%v", stderr.String(), sf.Counters)
			}
		})
	}
}
