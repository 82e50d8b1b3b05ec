package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// TestProgressLogLines checks the progress report when stderr is not a
// terminal: a plain log line every --progress-interval.
func TestProgressLogLines(t *testing.T) {
	srv, _ := pageServer(t)
	spec := writeSpec(t, t.TempDir(), pageSpec, srv.URL)
	r := runCrawl(t, nil, "run", spec, "--rate", "20", "--max-pages", "15", "--progress-interval", "100ms")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	re := regexp.MustCompile(`level=INFO msg=progress pages=\d+ items=\d+ pages_per_second=[\d.]+ queued=\d+ in_flight=\d+ errors=0 elapsed=`)
	if !re.MatchString(r.stderr) {
		t.Errorf("no progress line in stderr:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("carriage return in stderr that is not a terminal:\n%q", r.stderr)
	}
	if strings.Contains(r.stderr, "eta=") {
		t.Errorf("an ETA for a crawl that follows links, whose size is unknown:\n%s", r.stderr)
	}
}

// TestProgressETA gives the progress an ETA when the crawl's size is known:
// start_urls_range and no links followed.
func TestProgressETA(t *testing.T) {
	srv, _ := pageServer(t)
	spec := writeSpec(t, t.TempDir(), "start_urls_range: {template: \"{{URL}}/p/{n}\", from: 1, to: 30}\n", srv.URL)
	r := runCrawl(t, nil, "run", spec, "--rate", "40", "--progress-interval", "100ms")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !regexp.MustCompile(`msg=progress .* eta=\d+(\.\d+)?(ms|s)\b`).MatchString(r.stderr) {
		t.Errorf("no ETA in the progress lines:\n%s", r.stderr)
	}
}

// TestProgressLiveLine runs crawl with a pseudo-terminal on stderr: the
// progress is one line redrawn in place, and it is cleared at the end.
func TestProgressLiveLine(t *testing.T) {
	srv, _ := pageServer(t)
	spec := writeSpec(t, t.TempDir(), pageSpec, srv.URL)
	cmd := command("run", spec, "--rate", "20", "--max-pages", "15")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd.Stderr = tty
	// Not io.Discard, which exec turns into a pipe: a pipe's reader may
	// print to the terminal, and crawl then draws no live line.
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	cmd.Stdout = devNull
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child has its own copy
	var screen bytes.Buffer
	io.Copy(&screen, ptmx) // until the child exits and the terminal hangs up
	if err := cmd.Wait(); err != nil {
		t.Fatalf("crawl: %v\n%s", err, screen.String())
	}
	out := screen.String()
	if !regexp.MustCompile(`\r\x1b\[K\d+ pages?  \d+ items?  [\d.]+ pages/s  \d+ queued  \d+ in flight  0 errors`).MatchString(out) {
		t.Errorf("no live progress line on the terminal:\n%q", out)
	}
	if strings.Contains(out, "msg=progress") {
		t.Errorf("progress logged as lines on a terminal:\n%q", out)
	}
	if !strings.Contains(out, "crawl: max_pages") {
		t.Errorf("no summary on the terminal:\n%q", out)
	}
}

func TestQuiet(t *testing.T) {
	srv, _ := pageServer(t)
	spec := writeSpec(t, t.TempDir(), pageSpec, srv.URL)
	r := runCrawl(t, nil, "run", spec, "--max-pages", "3", "--quiet", "--progress-interval", "1ms")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
	if n := strings.Count(r.stdout, "\n"); n != 3 {
		t.Errorf("%d items with --quiet, want 3", n)
	}
}

func TestLogFormats(t *testing.T) {
	srv, _ := pageServer(t)
	spec := writeSpec(t, t.TempDir(), pageSpec, srv.URL)
	t.Run("json and verbose", func(t *testing.T) {
		r := runCrawl(t, nil, "run", spec, "--max-pages", "2", "--log-format", "json", "-v", "--quiet=false")
		var fetches int
		sc := bufio.NewScanner(strings.NewReader(r.stderr))
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "{") {
				continue // the summary
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %q: %v", line, err)
			}
			if rec["msg"] == "fetch" {
				fetches++
				if u, _ := rec["url"].(string); !strings.HasPrefix(u, srv.URL) {
					t.Errorf("fetch line without the URL: %q", line)
				}
			}
		}
		if fetches != 2 {
			t.Errorf("-v logged %d fetches, want 2:\n%s", fetches, r.stderr)
		}
	})
	t.Run("errors name the URL and the reason", func(t *testing.T) {
		dead := writeSpec(t, t.TempDir(), "start_urls: [\"http://127.0.0.1:1/gone\"]\n", "")
		r := runCrawl(t, nil, "run", dead)
		if r.code != 1 || !strings.Contains(r.stderr, "crawl: no page could be fetched") {
			t.Errorf("exit %d, want 1 and a line saying so: not one page was fetched", r.code)
		}
		if !regexp.MustCompile(`level=WARN msg="request failed" url=http://127.0.0.1:1/gone kind=connection_refused error=`).MatchString(r.stderr) {
			t.Errorf("no error line naming the URL and kind:\n%s", r.stderr)
		}
		if !regexp.MustCompile(`errors\s+1  connection_refused: 1`).MatchString(r.stderr) {
			t.Errorf("summary does not count the error by kind:\n%s", r.stderr)
		}
	})
}

func TestStopConditionsAndStrict(t *testing.T) {
	srv, _ := pageServer(t)
	spec := writeSpec(t, t.TempDir(), pageSpec, srv.URL)
	tests := []struct {
		name   string
		args   []string
		reason string
		code   int
	}{
		{"max time", []string{"--max-time", "300ms", "--rate", "50"}, "max_time", 0},
		{"max time strict", []string{"--max-time", "300ms", "--rate", "50", "--strict"}, "max_time", 3},
		{"max pages strict", []string{"--max-pages", "2", "--strict"}, "max_pages", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCrawl(t, nil, append([]string{"run", spec}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "crawl: "+tt.reason+" after") {
				t.Errorf("summary does not give the reason %s:\n%s", tt.reason, r.stderr)
			}
		})
	}
	t.Run("max errors", func(t *testing.T) {
		dead := writeSpec(t, t.TempDir(), "start_urls_range: {template: \"http://127.0.0.1:1/{n}\", from: 1, to: 100}\n", "")
		r := runCrawl(t, nil, "run", dead, "--max-errors", "4", "--workers", "1")
		if r.code != 1 || !strings.Contains(r.stderr, "crawl: max_errors after") { // 1: not one page was fetched
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if !regexp.MustCompile(`errors\s+4  connection_refused: 4`).MatchString(r.stderr) {
			t.Errorf("want exactly 4 errors with one worker:\n%s", r.stderr)
		}
	})
	t.Run("finished strict", func(t *testing.T) {
		r := runCrawl(t, nil, "run", "../../examples/books-offline.yaml", "--strict")
		if r.code != 0 {
			t.Errorf("a finished crawl exits %d under --strict, want 0", r.code)
		}
	})
}

func TestStatsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stats.json")
	r := runCrawl(t, nil, "run", "../../examples/books-offline.yaml", "--stats", path)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sf struct {
		Reason          string           `json:"reason"`
		ElapsedSeconds  float64          `json:"elapsed_seconds"`
		PeakMemoryBytes int64            `json:"peak_memory_bytes"`
		Counters        map[string]int64 `json:"counters"`
	}
	if err := json.Unmarshal(b, &sf); err != nil {
		t.Fatalf("stats file is not JSON: %v\n%s", err, b)
	}
	want := map[string]int64{"pages": 12, "status/200": 12, "items/written": 8, "items/dropped/missing_required": 1}
	for k, v := range want {
		if sf.Counters[k] != v {
			t.Errorf("counters[%q] = %d, want %d", k, sf.Counters[k], v)
		}
	}
	if sf.Reason != "finished" || sf.ElapsedSeconds <= 0 || sf.PeakMemoryBytes <= 0 {
		t.Errorf("reason %q, elapsed %v, peak memory %d", sf.Reason, sf.ElapsedSeconds, sf.PeakMemoryBytes)
	}
}

func TestVersionAndHelp(t *testing.T) {
	r := runCrawl(t, nil, "version")
	if r.code != 0 || !regexp.MustCompile(`^crawl \S+ \(go1\.\d+`).MatchString(r.stdout) {
		t.Errorf("version: exit %d, %q", r.code, r.stdout)
	}
	for _, c := range []string{"run", "version", "completion"} {
		r := runCrawl(t, nil, c, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%s --help: exit %d, %q", c, r.code, r.stdout)
		}
	}
	r = runCrawl(t, nil, "run", "--help")
	if !strings.Contains(r.stdout, "Examples:") {
		t.Errorf("run --help has no example:\n%s", r.stdout)
	}
	r = runCrawl(t, nil, "completion", "bash")
	if r.code != 0 || !strings.Contains(r.stdout, "bash completion") {
		t.Errorf("completion bash: exit %d", r.code)
	}
}
