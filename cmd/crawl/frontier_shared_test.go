package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"crawl/engine/shared"
	"crawl/engine/shared/redistest"
)

// sharedSite serves pages /p/0 to /p/N-1: page i has an <h1> "page i" and
// links to its children 2i+1 and 2i+2, its parent and the first page, so
// that most links are to pages already seen. The first page waits for
// gate to close. Once trap is armed, requests whose User-Agent starts with
// "victim" are held, each announced on trapped, until the client goes
// away.
type sharedSite struct {
	n       int
	gate    chan struct{}
	armed   atomic.Bool
	trapped chan struct{}
}

func newSharedSite(t *testing.T, n int) (*sharedSite, *httptest.Server) {
	s := &sharedSite{n: n, gate: make(chan struct{}), trapped: make(chan struct{}, 1)}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *sharedSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var i int
	if _, err := fmt.Sscanf(r.URL.Path, "/p/%d", &i); err != nil || i < 0 || i >= s.n {
		http.NotFound(w, r)
		return
	}
	if i == 0 {
		select {
		case <-s.gate:
		case <-r.Context().Done():
			return
		}
	}
	if s.armed.Load() && strings.HasPrefix(r.UserAgent(), "victim") {
		select {
		case s.trapped <- struct{}{}:
		default:
		}
		<-r.Context().Done()
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<html><body><h1>page %d</h1><a href=\"/p/0\">home</a> <a href=\"/p/%d\">up</a>", i, (i-1)/2)
	for _, c := range []int{2*i + 1, 2*i + 2} {
		if c < s.n {
			fmt.Fprintf(&b, " <a href=\"/p/%d\">%d</a>", c, c)
		}
	}
	b.WriteString("</body></html>")
	w.Header().Set("Content-Type", "text/html")
	w.Write([]byte(b.String()))
}

const treeSpec = `name: tree
start_urls: ["{{URL}}/p/0"]
follow: [{css: a}]
items: [{fields: {title: "h1::text"}}]
`

// sharedRun is one crawl run process of a shared crawl.
type sharedRun struct {
	cmd    *exec.Cmd
	out    string
	stderr bytes.Buffer
	exited chan struct{}
	err    error
}

func startShared(t *testing.T, dir, name, spec string, args ...string) *sharedRun {
	t.Helper()
	r := &sharedRun{out: filepath.Join(dir, name+".jsonl"), exited: make(chan struct{})}
	r.cmd = command(append([]string{"run", spec, "-o", r.out, "--workers", "4", "--per-host", "16", "--log-level", "warn"}, args...)...)
	r.cmd.Stderr = &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		<-r.exited
	})
	return r
}

// wait waits for r to exit and fails the test unless it exited 0.
func (r *sharedRun) wait(t *testing.T) {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s: crawl run still running after 2 minutes; stderr:\n%s", r.out, r.stderr.String())
	}
	if r.err != nil {
		t.Fatalf("%s: %v; stderr:\n%s", r.out, r.err, r.stderr.String())
	}
}

// titles reads the titles of the items in a JSON Lines file. A last line
// cut short, as a killed process may leave, is not an item.
func readTitles(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	lines := strings.SplitAfter(string(b), "\n")
	for _, line := range lines {
		if !strings.HasSuffix(line, "\n") {
			continue // empty, or cut short by kill -9
		}
		var it struct{ Title string }
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatalf("%s: %v in %q", path, err, line)
		}
		out = append(out, it.Title)
	}
	return out
}

// waitForLines polls path until it holds n complete lines.
func waitForLines(t *testing.T, r *sharedRun, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(r.out)
		if bytes.Count(b, []byte("\n")) >= n {
			return
		}
		select {
		case <-r.exited:
			t.Fatalf("%s exited (%v) before writing %d items; stderr:\n%s", r.out, r.err, n, r.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("%s holds fewer than %d items after a minute", r.out, n)
}

// openGate lets the crawl at url start once n processes have joined it,
// so that it is shared from its first page.
func openGate(t *testing.T, site *sharedSite, url string, n int) {
	t.Helper()
	ro, name, err := shared.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	ro.DisableIdentity = true
	c := redis.NewClient(ro)
	defer c.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		k, err := c.ZCard(context.Background(), "crawl:"+name+":procs").Result()
		if err != nil {
			t.Fatal(err)
		}
		if k >= int64(n) {
			close(site.gate)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d processes joined the crawl after a minute, want %d", k, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sharedStats reads the shared counters of the crawl at url.
func sharedStats(t *testing.T, url string) map[string]string {
	t.Helper()
	ro, name, err := shared.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	ro.DisableIdentity = true
	c := redis.NewClient(ro)
	defer c.Close()
	m, err := c.HGetAll(context.Background(), "crawl:"+name+":stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSharedCrawl runs three crawl processes on one shared frontier over
// a site of 2000 pages. Without a kill, their outputs together hold every
// page's item exactly once. With one process killed (SIGKILL) while it
// has a request in flight, the other two still write every item, once the
// dead process's lease runs out; the only items written twice are ones
// the killed process wrote before it could record them as written.
func TestSharedCrawl(t *testing.T) {
	const n = 2000
	want := make(map[string]bool, n)
	for i := range n {
		want[fmt.Sprintf("page %d", i)] = true
	}
	// count adds up the titles of the outputs and fails on any item not
	// of the site or missing.
	count := func(t *testing.T, runs []*sharedRun) map[string]int {
		t.Helper()
		got := make(map[string]int)
		for _, r := range runs {
			for _, title := range readTitles(t, r.out) {
				if !want[title] {
					t.Errorf("%s: item %q is not of the site", r.out, title)
				}
				got[title]++
			}
		}
		for title := range want {
			if got[title] == 0 {
				t.Errorf("no process wrote %q", title)
			}
		}
		return got
	}

	t.Run("exactly once", func(t *testing.T) {
		site, srv := newSharedSite(t, n)
		dir := t.TempDir()
		spec := writeSpec(t, dir, treeSpec, srv.URL)
		url := redistest.URL(t)
		var runs []*sharedRun
		for i := range 3 {
			runs = append(runs, startShared(t, dir, fmt.Sprintf("out%d", i), spec, "--frontier", url))
		}
		openGate(t, site, url, len(runs))
		for _, r := range runs {
			r.wait(t)
		}
		got := count(t, runs)
		for title, k := range got {
			if k != 1 {
				t.Errorf("%q written %d times, want once", title, k)
			}
		}
		for i, r := range runs {
			t.Logf("process %d wrote %d items", i, len(readTitles(t, r.out)))
			if len(readTitles(t, r.out)) == 0 {
				t.Errorf("process %d wrote nothing: the crawl was not shared", i)
			}
		}
		if st := sharedStats(t, url); st["items/written"] != fmt.Sprint(n) {
			t.Errorf("shared stats: items/written = %q, want %d", st["items/written"], n)
		}
	})

	t.Run("kill -9", func(t *testing.T) {
		site, srv := newSharedSite(t, n)
		dir := t.TempDir()
		spec := writeSpec(t, dir, treeSpec, srv.URL)
		url := redistest.URL(t)
		args := []string{"--frontier", url, "--lease", "3s"}
		victim := startShared(t, dir, "victim", spec, append(args, "--user-agent", "victim/1")...)
		runs := []*sharedRun{victim}
		for i := range 2 {
			runs = append(runs, startShared(t, dir, fmt.Sprintf("out%d", i), spec, args...))
		}
		openGate(t, site, url, len(runs))
		waitForLines(t, victim, 20)
		// Hold the victim's next request, so that it dies with a request
		// taken and not finished.
		site.armed.Store(true)
		select {
		case <-site.trapped:
		case <-victim.exited:
			t.Fatalf("the victim finished before it was killed; stderr:\n%s", victim.stderr.String())
		case <-time.After(time.Minute):
			t.Fatal("the victim sent no request after a minute")
		}
		if err := victim.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-victim.exited
		for _, r := range runs[1:] {
			r.wait(t)
		}
		got := count(t, runs)
		wrote := make(map[string]bool)
		for _, title := range readTitles(t, victim.out) {
			wrote[title] = true
		}
		dups := 0
		for title, k := range got {
			if k > 1 {
				dups++
				if k > 2 || !wrote[title] {
					t.Errorf("%q written %d times, not by the killed process: want once", title, k)
				}
			}
		}
		t.Logf("the killed process wrote %d items; %d written again by the others", len(wrote), dups)
		if st := sharedStats(t, url); st[shared.Requeued] == "" || st[shared.Requeued] == "0" {
			t.Errorf("shared stats: %s = %q, want the killed process's requests", shared.Requeued, st[shared.Requeued])
		}
		stopped := regexp.MustCompile(`a crawl process stopped answering.*requests=[1-9]`)
		if !stopped.MatchString(runs[1].stderr.String() + runs[2].stderr.String()) {
			t.Errorf("no process logged taking back the killed process's requests; stderr:\n%s\n%s", runs[1].stderr.String(), runs[2].stderr.String())
		}
	})
}

// TestFrontierBadInput: a bad --frontier or --lease, or a Redis that does
// not answer, is one line on stderr and exit status 2, before any request.
func TestFrontierBadInput(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"scheme", []string{"--frontier", "http://127.0.0.1:1/0"}, `^crawl: --frontier: bad Redis URL http://127.0.0.1:1/0: redis: invalid URL scheme: http$`},
		{"db", []string{"--frontier", "redis://127.0.0.1:1/x"}, `invalid database number: "x"`},
		{"option", []string{"--frontier", "redis://127.0.0.1:1/0?colour=red"}, `unexpected option: colour`},
		{"lease", []string{"--frontier", "redis://127.0.0.1:1/0", "--lease", "0s"}, `--lease must be positive, got 0s`},
		{"unreachable", []string{"--frontier", "redis://:hunter2@" + closed + "/0"}, `^crawl: --frontier: connect to Redis at redis://` + regexp.QuoteMeta(closed) + `: .*connection refused$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := writeSpec(t, t.TempDir(), "start_urls: [\"{{URL}}/\"]\n", srv.URL)
			r := runCrawl(t, nil, append([]string{"run", spec}, tt.args...)...)
			msg := strings.TrimRight(r.stderr, "\n")
			if r.code != 2 || strings.Contains(msg, "\n") {
				t.Errorf("exit %d, want 2 and one line; stderr:\n%s", r.code, r.stderr)
			}
			if !regexp.MustCompile(tt.want).MatchString(msg) {
				t.Errorf("stderr = %q, want match for %q", msg, tt.want)
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("stderr shows the password: %q", msg)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

// TestFrontierAndStateExclusive: --frontier and --state name two homes
// for one crawl.
func TestFrontierAndStateExclusive(t *testing.T) {
	flags := pflag.NewFlagSet("run", pflag.ContinueOnError)
	var o frontierOptions
	addFrontierFlags(flags, &o)
	state := flags.String("state", "", "")
	if err := flags.Parse([]string{"--frontier", "redis://127.0.0.1:1/0"}); err != nil {
		t.Fatal(err)
	}
	if err := o.validate(flags); err != nil {
		t.Fatalf("--frontier alone: %v", err)
	}
	*state = "crawl.state"
	err := o.validate(flags)
	if err == nil || !strings.Contains(err.Error(), "--frontier and --state cannot be used together") {
		t.Errorf("--frontier with --state: %v", err)
	}
}
