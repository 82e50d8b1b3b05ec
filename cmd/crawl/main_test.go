package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as the crawl command in a child
// process, so the tests exercise the real main: flags, signals, exit codes.
func TestMain(m *testing.M) {
	if os.Getenv("CRAWL_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// command returns an *exec.Cmd that runs crawl with args.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CRAWL_TEST_MAIN=1")
	return cmd
}

// result is what a finished child process left behind.
type result struct {
	code           int
	stdout, stderr string
}

func runCrawl(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	cmd := command(args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run crawl: %v", err)
	}
	return result{code, out.String(), errb.String()}
}

// writeSpec writes a spider file into dir, with {{URL}} replaced by url.
func writeSpec(t *testing.T, dir, spec, url string) string {
	t.Helper()
	path := filepath.Join(dir, "spider.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(spec, "{{URL}}", url)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pageServer serves an endless site: /p/N has an <h1> and links to N+1 and
// N+2. It counts requests for pages; it has no robots.txt.
func pageServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		n.Add(1)
		var i int
		fmt.Sscanf(r.URL.Path, "/p/%d", &i)
		fmt.Fprintf(w, `<html><body><h1>page %d</h1><a href="/p/%d">n</a><a href="/p/%d">m</a></body></html>`, i, i+1, i+2)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

const pageSpec = `start_urls: ["{{URL}}/p/0"]
follow: [{css: a}]
items: [{fields: {title: "h1::text", url: "@url"}}]
`

func TestRunOfflineExample(t *testing.T) {
	r := runCrawl(t, nil, "run", "../../examples/books-offline.yaml")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 8 {
		t.Fatalf("got %d items, want 8:\n%s", len(lines), r.stdout)
	}
	if !strings.Contains(r.stdout, `"title":"Café Olé & Friends","price":"17.93","rating":"Two","url":"file:///`) {
		t.Errorf("item for Café Olé missing or wrong:\n%s", r.stdout)
	}
	for _, want := range []string{"crawl: finished", "items written             8", "items dropped             1  missing_required: 1"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestBadInput checks that every bad spec or flag is one line on stderr
// naming what is wrong, exit status 2, and no request sent.
func TestBadInput(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	good := "start_urls: [\"{{URL}}/\"]\n"
	tests := []struct {
		name string
		spec string
		args []string // after the spec path
		want string   // regexp the single stderr line must match
	}{
		{"yaml syntax", "start_urls: [\"{{URL}}/\"\nfollow: x\n", nil, `^crawl: .*spider\.yaml:\d+(:\d+)?: .*`},
		{"unknown key", good + "alowed_domains: [x]\n", nil, `spider\.yaml:2:1: unknown key "alowed_domains" \(did you mean "allowed_domains"\?\)`},
		{"no start urls", "name: x\n", nil, `spider\.yaml:.*start_urls`},
		{"bad regex", good + "follow: [{allow: '(['}]\n", nil, `spider\.yaml:2:\d+: follow\[0\]\.allow.*regex`},
		{"bad css", good + "items: [{fields: {t: 'h1[::text'}}]\n", nil, `spider\.yaml:2:\d+: items\[0\]\.fields\.t`},
		{"unknown setting", good + "settings:\n  worker: 3\n", nil, `spider\.yaml:3:3: settings: unknown setting "worker" \(did you mean "workers"\?\)`},
		{"bad setting value", good + "settings:\n  workers: many\n", nil, `spider\.yaml:3:3: settings\.workers: invalid value "many": want a whole number$`},
		{"output in settings", good + "settings:\n  output: x.jsonl\n", nil, `unknown setting "output"`},
		{"zero workers", good, []string{"--workers", "0"}, `--workers must be at least 1`},
		{"not a number", good, []string{"--workers", "abc"}, `^crawl: --workers: invalid value "abc": want a whole number$`},
		{"not a duration", good, []string{"--delay", "3"}, `^crawl: --delay: invalid value "3": want a duration, such as 500ms`},
		{"unknown flag far from any", good, []string{"--zzzzzz"}, `^crawl: unknown flag: --zzzzzz \(see 'crawl run --help'\)$`},
		{"zero workers in settings", good + "settings:\n  workers: 0\n", nil, `^crawl: .*spider\.yaml:3:3: settings\.workers: must be at least 1, got 0$`},
		{"unknown flag", good, []string{"--wrokers", "2"}, `^crawl: unknown flag: --wrokers \(did you mean --workers\?\)$`},
		{"bad flag value", good, []string{"--rate", "fast"}, `^crawl: --rate: invalid value "fast": want a number, such as 2 or 0\.5$`},
		{"bad log level", good, []string{"--log-level", "loud"}, `--log-level: "loud" is not one of`},
		{"output unwritable", good, []string{"-o", "/nonexistent-dir/items.jsonl"}, `open output: .*/nonexistent-dir/items\.jsonl: no such file or directory`},
		{"unknown format", good, []string{"--format", "xml"}, `--format: unknown format "xml" \(want jsonl, json or csv\)`},
		{"negative max items", good, []string{"--max-items", "-1"}, `--max-items must not be negative`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := writeSpec(t, dir, tt.spec, srv.URL)
			r := runCrawl(t, nil, append([]string{"run", spec}, tt.args...)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			msg := strings.TrimRight(r.stderr, "\n")
			if strings.Count(msg, "\n") != 0 {
				t.Errorf("stderr has %d lines, want one:\n%s", strings.Count(msg, "\n")+1, msg)
			}
			if !regexp.MustCompile(tt.want).MatchString(msg) {
				t.Errorf("stderr = %q, want match for %q", msg, tt.want)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server saw %d requests from bad invocations, want 0", n)
	}
	t.Run("no spider file", func(t *testing.T) {
		r := runCrawl(t, nil, "run")
		if r.code != 2 || !strings.Contains(r.stderr, "run takes one spider file") {
			t.Errorf("exit %d, stderr %q; want 2 and a usage message", r.code, r.stderr)
		}
	})
	t.Run("unknown command", func(t *testing.T) {
		r := runCrawl(t, nil, "crawl-it")
		if r.code != 2 || !strings.Contains(r.stderr, `unknown command "crawl-it"`) {
			t.Errorf("exit %d, stderr %q; want 2 and unknown command", r.code, r.stderr)
		}
	})
}

func TestStartFileBadLineIsSkipped(t *testing.T) {
	srv, hits := pageServer(t)
	dir := t.TempDir()
	urls := fmt.Sprintf("# start pages\n%[1]s/p/1\n\nhtp:/broken\n%[1]s/p/2\n", srv.URL)
	if err := os.WriteFile(filepath.Join(dir, "urls.txt"), []byte(urls), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := writeSpec(t, dir, "start_urls_file: urls.txt\nitems: [{fields: {title: \"h1::text\"}}]\n", srv.URL)
	r := runCrawl(t, nil, "run", spec)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "urls.txt:4") || !strings.Contains(r.stderr, "htp:/broken") {
		t.Errorf("stderr does not name urls.txt:4 and the bad URL:\n%s", r.stderr)
	}
	if !regexp.MustCompile(`bad start URLs\s+1`).MatchString(r.stderr) {
		t.Errorf("summary does not count the bad start URL:\n%s", r.stderr)
	}
	if n := strings.Count(r.stdout, "\n"); n != 2 || hits.Load() != 2 {
		t.Errorf("got %d items from %d requests, want 2 and 2", n, hits.Load())
	}
}

func TestFlagsOverrideSettings(t *testing.T) {
	srv, hits := pageServer(t)
	spec := writeSpec(t, t.TempDir(), pageSpec+"settings:\n  max_pages: 2\n  workers: 1\n", srv.URL)
	for _, tt := range []struct {
		args []string
		want int64
	}{
		{nil, 2},
		{[]string{"--max-pages", "3"}, 3},
	} {
		hits.Store(0)
		r := runCrawl(t, nil, append([]string{"run", spec}, tt.args...)...)
		if r.code != 0 {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if got := hits.Load(); got != tt.want {
			t.Errorf("args %q: %d requests, want %d", tt.args, got, tt.want)
		}
	}
}

// TestClosedPipe reads one item from an endless crawl and closes the pipe,
// as `crawl run s.yaml | head -1` does: crawl must stop quietly with 0.
func TestClosedPipe(t *testing.T) {
	srv, _ := pageServer(t)
	spec := writeSpec(t, t.TempDir(), pageSpec, srv.URL)
	statsPath := filepath.Join(t.TempDir(), "stats.json")
	cmd := command("run", spec, "--workers", "2", "--stats", statsPath)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, `{"title":"page `) {
		t.Fatalf("first line %q, %v", line, err)
	}
	stdout.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("crawl after closed pipe: %v; stderr:\n%s", err, errb.String())
	}
	if errb.Len() != 0 {
		t.Errorf("crawl did not stop quietly:\n%s", errb.String())
	}
	if b, err := os.ReadFile(statsPath); err != nil || !strings.Contains(string(b), `"reason": "output_closed"`) {
		t.Errorf("stats file does not say the output was closed: %v\n%s", err, b)
	}
}

// waitForLine polls path until it holds a complete line or the deadline.
func waitForLine(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(path)
		if line, _, ok := strings.Cut(string(b), "\n"); ok {
			return line
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no line appeared in %s", path)
	return ""
}

// TestOutputFileStreams holds the crawl's last page until the first item is
// in the output file, as `tail -f items.jsonl` would show it.
func TestOutputFileStreams(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/last" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		fmt.Fprintf(w, `<html><body><h1>%s</h1><a href="/last">last</a></body></html>`, r.URL.Path)
	}))
	defer srv.Close()
	dir := t.TempDir()
	spec := writeSpec(t, dir, "start_urls: [\"{{URL}}/first\"]\nfollow: [{css: a}]\nitems: [{fields: {title: h1}}]\n", srv.URL)
	out := filepath.Join(dir, "items.jsonl")
	cmd := command("run", spec, "-o", out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := waitForLine(t, out)
	close(release)
	if line != `{"title":"/first"}` {
		t.Errorf("first line %q", line)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "{\"title\":\"/first\"}\n{\"title\":\"/last\"}\n" {
		t.Errorf("output file:\n%s", b)
	}
}

func TestAppendAndOverwrite(t *testing.T) {
	srv, _ := pageServer(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, "start_urls: [\"{{URL}}/p/7\"]\nitems: [{fields: {title: \"h1::text\"}}]\n", srv.URL)
	out := filepath.Join(dir, "items.jsonl")
	for _, args := range [][]string{{"-o", out}, {"-o", out}, {"-O", out}, {"-o", out}} {
		if r := runCrawl(t, nil, append([]string{"run", spec}, args...)...); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	}
	b, _ := os.ReadFile(out)
	if got, want := string(b), strings.Repeat("{\"title\":\"page 7\"}\n", 2); got != want {
		t.Errorf("after -o, -o, -O, -o the file holds:\n%s\nwant:\n%s", got, want)
	}
}

// TestInterruptFlushesAndReports sends SIGINT mid-crawl: crawl stops
// scheduling, keeps what was crawled, prints the summary, exits 130.
func TestInterruptFlushesAndReports(t *testing.T) {
	srv, _ := pageServer(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, pageSpec, srv.URL)
	out := filepath.Join(dir, "items.jsonl")
	cmd := command("run", spec, "-o", out, "--rate", "50", "--workers", "2")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForLine(t, out)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
		t.Fatalf("exit: %v, want status 130; stderr:\n%s", err, errb.String())
	}
	b, _ := os.ReadFile(out)
	written := strings.Count(string(b), "\n")
	if written == 0 || !strings.HasSuffix(string(b), "}\n") {
		t.Errorf("output after interrupt is empty or cut mid-line:\n%s", b)
	}
	if !strings.Contains(errb.String(), "crawl: interrupted") {
		t.Errorf("no summary after interrupt:\n%s", errb.String())
	}
	if !regexp.MustCompile(fmt.Sprintf(`items written\s+%d\n`, written)).MatchString(errb.String()) {
		t.Errorf("summary does not count the %d items in the file:\n%s", written, errb.String())
	}
}

// endless is a start-URL stream that never ends.
type endless struct {
	url string
	n   int
}

func (e *endless) Read(p []byte) (int, error) {
	line := fmt.Sprintf("%s/p/%d\n", e.url, e.n)
	e.n++
	return copy(p, line), nil
}

// TestStdinStartURLsAreLazy gives crawl an endless stream of start URLs on
// standard input: with --max-pages it must finish, having read only a little.
func TestStdinStartURLsAreLazy(t *testing.T) {
	srv, hits := pageServer(t)
	spec := writeSpec(t, t.TempDir(), "start_urls_file: \"-\"\nitems: [{fields: {title: \"h1::text\"}}]\n", srv.URL)
	src := &endless{url: srv.URL}
	r := runCrawl(t, src, "run", spec, "--max-pages", "5")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if hits.Load() != 5 || strings.Count(r.stdout, "\n") != 5 {
		t.Errorf("%d requests and %d items, want 5 and 5", hits.Load(), strings.Count(r.stdout, "\n"))
	}
}
