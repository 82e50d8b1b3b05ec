package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"crawl/render"
	"crawl/render/rendertest"
)

// needBrowser returns the browser the render tests use; it skips the test
// when there is none, and fails it under CI.
func needBrowser(t *testing.T) string {
	t.Helper()
	path, err := rendertest.Browser()
	if err != nil {
		t.Fatal(err)
	}
	if path == "" {
		t.Skip(render.ErrNoBrowser.Error())
	}
	return path
}

// jsSite serves testdata/render, whose content scripts build. The first
// request for /api/gate.json waits until the test calls open (or the
// client goes away); reached is closed when it arrives.
type jsSite struct {
	*httptest.Server
	reached chan struct{}
	gate    chan struct{}
	first   sync.Once
	opened  sync.Once
}

func newJSSite(t *testing.T) *jsSite {
	s := &jsSite{reached: make(chan struct{}), gate: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.Handle("/", http.FileServer(http.Dir("testdata/render")))
	mux.HandleFunc("/api/gate.json", func(w http.ResponseWriter, r *http.Request) {
		first := false
		s.first.Do(func() { first = true })
		if first {
			close(s.reached)
			select {
			case <-s.gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"name": "through the gate"}`))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(func() { s.open(); s.Close() })
	return s
}

func (s *jsSite) open() { s.opened.Do(func() { close(s.gate) }) }

// renderRun is a crawl run in a child process whose browser profiles go to
// a TMPDIR of its own, so that the test can find its browser processes.
type renderRun struct {
	tmp, stats string
}

func newRenderRun(t *testing.T) *renderRun {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	rr := &renderRun{tmp: tmp, stats: filepath.Join(dir, "stats.json")}
	t.Cleanup(func() {
		// Whatever happened, no browser of the run may outlive it.
		if pids, _ := rendertest.Running(tmp); len(pids) > 0 {
			t.Errorf("browser processes %v still running after the crawl", pids)
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return rr
}

func (rr *renderRun) env() []string {
	return append(os.Environ(), "CRAWL_TEST_MAIN=1", "TMPDIR="+rr.tmp)
}

func (rr *renderRun) run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := command(append(args, "--stats", rr.stats)...)
	cmd.Env = rr.env()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("run crawl: %v", err)
	}
	return result{code, out.String(), errb.String()}
}

const renderSpec = `start_urls: ["{{URL}}/index.html"]
render:
  wait_for: a.item
  capture: /api/list
follow:
  - css: a.item
    render: {wait_for: h1.title, block: [image]}
items:
  - name: item
    urls: ['/item\.html']
    fields: {title: "h1.title::text", price: "span.price::text"}
  - name: listed
    urls: ['/api/list']
    each: {json: items}
    fields: {id: id, name: name}
`

// TestRenderCrawl crawls a site built by scripts: links that a fetch of a
// JSON endpoint adds, pages whose content a timer writes, and the JSON
// behind the start page scraped from what the page captured. It crawls
// with --cache, then again with the site gone: the pages and every request
// their scripts made were kept, so the second crawl renders the same items
// offline.
func TestRenderCrawl(t *testing.T) {
	needBrowser(t)
	site := newJSSite(t)
	cache := filepath.Join(t.TempDir(), "cache")
	spec := writeSpec(t, t.TempDir(), renderSpec, site.URL)
	want := strings.Join([]string{
		`{"id":1,"name":"one"}`, `{"id":2,"name":"two"}`, `{"id":3,"name":"three"}`,
		`{"title":"Item 1","price":"10"}`, `{"title":"Item 2","price":"20"}`, `{"title":"Item 3","price":"30"}`,
	}, "\n")
	for _, name := range []string{"online", "offline"} {
		rr := newRenderRun(t)
		r := rr.run(t, "run", spec, "--render-workers", "2", "--cache", cache, "--obey-robots=false")
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", name, r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		sort.Strings(lines)
		if got := strings.Join(lines, "\n"); got != want {
			t.Errorf("%s: items:\n%s\nwant:\n%s\nstderr:\n%s", name, got, want, r.stderr)
		}
		c := counters(t, rr.stats)
		if c[render.StatPages] != 4 || c[render.StatCaptured] != 1 {
			t.Errorf("%s: counters %v: want 4 pages rendered, 1 response captured", name, c)
		}
		site.Close()
	}
}

// TestRenderTimeoutCounted: a page whose wait_for never matches fails as a
// timeout, counted, and the crawl goes on.
func TestRenderTimeoutCounted(t *testing.T) {
	needBrowser(t)
	site := newJSSite(t)
	rr := newRenderRun(t)
	spec := writeSpec(t, t.TempDir(), `start_urls: ["{{URL}}/never.html", "{{URL}}/item.html?id=7"]
render: {wait_for: h1.title, timeout: 1s}
items: [{fields: {title: "h1.title::text"}}]
`, site.URL)
	r := rr.run(t, "run", spec)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if strings.TrimSpace(r.stdout) != `{"title":"Item 7"}` {
		t.Errorf("items:\n%s", r.stdout)
	}
	c := counters(t, rr.stats)
	if c[render.StatTimeout] != 1 || c["errors/timeout"] != 1 {
		t.Errorf("counters %v: want one render/timeout, one errors/timeout", c)
	}
}

// TestRenderBrowserKilled kills the browser while a page waits on its
// script's request: the page is rendered again in a new browser and the
// crawl finishes with every item.
func TestRenderBrowserKilled(t *testing.T) {
	needBrowser(t)
	site := newJSSite(t)
	rr := newRenderRun(t)
	spec := writeSpec(t, t.TempDir(), `start_urls: ["{{URL}}/gate.html", "{{URL}}/item.html?id=1"]
render: {wait_for: h1.title}
items: [{fields: {title: "h1.title::text"}}]
`, site.URL)
	done := make(chan result, 1)
	go func() { done <- rr.run(t, "run", spec, "--render-workers", "1") }()
	select {
	case <-site.reached:
	case r := <-done:
		t.Fatalf("crawl ended before its page reached the gate: exit %d\n%s", r.code, r.stderr)
	}
	pids, leader := rendertest.Running(rr.tmp)
	killed := 0
	for i, pid := range pids {
		if leader[i] {
			syscall.Kill(-pid, syscall.SIGKILL)
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("found %d browsers among %v, want 1", killed, pids)
	}
	site.open()
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	sort.Strings(lines)
	if strings.Join(lines, "\n") != `{"title":"Item 1"}`+"\n"+`{"title":"through the gate"}` {
		t.Errorf("items:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if c := counters(t, rr.stats); c[render.StatRestarts] != 1 {
		t.Errorf("counters %v: want one render/restarts", c)
	}
}

// TestRenderInterrupted interrupts a crawl while a page renders: on
// Ctrl-C it exits 130 and stops its browser; killed outright, it takes its
// browser with it (the kernel's parent-death signal, and the browser's
// end of the DevTools pipe closing).
func TestRenderInterrupted(t *testing.T) {
	needBrowser(t)
	for _, tc := range []struct {
		sig  os.Signal
		code int
	}{
		{os.Interrupt, 130},
		{os.Kill, -1},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			site := newJSSite(t)
			rr := newRenderRun(t)
			spec := writeSpec(t, t.TempDir(), `start_urls: ["{{URL}}/gate.html"]
render: {wait_for: h1.title}
items: [{fields: {title: "h1.title::text"}}]
`, site.URL)
			cmd := command("run", spec, "--grace", "1s")
			cmd.Env = rr.env()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-site.reached:
			case <-time.After(time.Minute): // a hang guard
				cmd.Process.Kill()
				t.Fatal("the page never reached the gate")
			}
			cmd.Process.Signal(tc.sig)
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			// newRenderRun's cleanup checks that no browser process is
			// left: at once after Ctrl-C, which Close waits for; after a
			// kill, once the browser has seen its pipe close (10s is a
			// hang guard).
			deadline := time.Now().Add(10 * time.Second)
			for pids, _ := rendertest.Running(rr.tmp); tc.sig == os.Kill && len(pids) > 0 && time.Now().Before(deadline); pids, _ = rendertest.Running(rr.tmp) {
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestRenderNoBrowser: a spider that renders, with no browser to be found,
// fails at once with exit status 2 and one line saying how to get one.
func TestRenderNoBrowser(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	spec := writeSpec(t, dir, "start_urls: [\"{{URL}}/\"]\nfollow: [{css: a, render: true}]\n", srv.URL)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
	}{
		{"flag", []string{"--browser", filepath.Join(dir, "no-such-browser")}, nil},
		{"env", nil, []string{"CRAWL_BROWSER=" + filepath.Join(dir, "no-such-browser")}},
		{"path", nil, []string{"CRAWL_BROWSER=", "PATH=" + dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := command(append([]string{"run", spec}, tc.args...)...)
			cmd.Env = append(cmd.Env, tc.env...)
			var errb strings.Builder
			cmd.Stderr = &errb
			cmd.Run()
			stderr := strings.TrimSpace(errb.String())
			if code := cmd.ProcessState.ExitCode(); code != 2 || strings.Count(stderr, "\n") != 0 ||
				!strings.Contains(stderr, "apt-get install chromium-headless-shell") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and one line saying how to install a browser", code, stderr)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestRenderDenyPrivate renders a "public" page on 127.0.0.2 whose script
// and image reach for a "private" site on 127.0.0.1 (--private-nets makes
// only 127.0.0.1 private): the browser's requests go through the
// downloader, so --deny-private keeps them out as it keeps out links.
func TestRenderDenyPrivate(t *testing.T) {
	needBrowser(t)
	pubL, pub := listenAt(t, "127.0.0.2:0")
	privL, priv := listenAt(t, "127.0.0.1:0")
	pubSeen, privSeen := new(paths), new(paths)
	serve(t, pubL, pagesHandler(pubSeen, map[string]string{
		"/": `<div id="app"></div><img src="` + priv + `/secret.png">
			<script>
			fetch("` + priv + `/secret.json").catch(function () {}).finally(function () {
				document.getElementById("app").innerHTML = '<h1 class="title">public page</h1>';
			});
			</script>`,
	}))
	serve(t, privL, pagesHandler(privSeen, map[string]string{}))
	spec := writeSpec(t, t.TempDir(), `start_urls: ["{{URL}}/"]
render: {wait_for: h1.title, wait: networkidle}
items: [{fields: {title: "h1.title::text"}}]
`, pub)
	rr := newRenderRun(t)
	r := rr.run(t, "run", spec, "--private-nets", "127.0.0.1/32,::1/128")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if strings.TrimSpace(r.stdout) != `{"title":"public page"}` {
		t.Errorf("items:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if got := privSeen.get("/secret.json") + privSeen.get("/secret.png"); got != 0 {
		t.Errorf("the private site got %d requests from the page", got)
	}
	// Both were asked for, and refused: the test saw them.
	if c := counters(t, rr.stats); c[render.StatDenied] != 2 {
		t.Errorf("counters %v: want the page's 2 requests to the private site refused", c)
	}
}

// TestParseRender shows what a spider makes of one page built by a
// script: rendered, as the spider renders its start pages, it sees the
// page's content; with --render=false it does not.
func TestParseRender(t *testing.T) {
	needBrowser(t)
	site := newJSSite(t)
	spec := writeSpec(t, t.TempDir(), `start_urls: ["{{URL}}/index.html"]
render: {wait_for: h1.title}
items: [{fields: {title: "h1.title::text", price: "span.price::text"}}]
`, site.URL)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--render=false"}, []string{"items (1)\n{}\n"}},
		{nil, []string{"rendered  0 responses captured", "items (1)\n{\"title\":\"Item 5\",\"price\":\"50\"}\n"}},
	} {
		t.Run(strings.Join(append([]string{"args"}, tc.args...), " "), func(t *testing.T) {
			rr := newRenderRun(t)
			cmd := command(append([]string{"parse", spec, site.URL + "/item.html?id=5"}, tc.args...)...)
			cmd.Env = rr.env()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, want := range tc.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestTryPageRender: crawl fetch and crawl shell with --render show the
// page a script built; without it, the page the server sent. --render on
// a file, or with --raw, is a usage error. (newRenderRun checks that no
// browser is left.)
func TestTryPageRender(t *testing.T) {
	needBrowser(t)
	site := newJSSite(t)
	page := site.URL + "/inline.html"
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout, or stderr for a failure
		not  string
	}{
		{[]string{"fetch", page}, 0, `<div id="app">loading</div>`, `<div id="app"><h1`},
		{[]string{"fetch", "--render", page}, 0, `<div id="app"><h1 class="title">built by a script</h1></div>`, "loading"},
		{[]string{"shell", page, "-c", "h1.title::text"}, 1, "", "built by a script"},
		{[]string{"shell", "--render", page, "-c", "h1.title::text"}, 0, "built by a script\n", ""},
		{[]string{"fetch", "--render", "--raw", page}, 2, "--raw writes the bytes the server sent", ""},
		{[]string{"shell", "--render", "testdata/render/inline.html", "-c", "h1"}, 2, "--render: only http(s) pages are rendered", ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			rr := newRenderRun(t)
			cmd := command(tc.args...)
			cmd.Env = rr.env()
			var out, errb strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errb
			cmd.Run()
			r := result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
			got := r.stdout
			if tc.code != 0 {
				got += r.stderr
			}
			if r.code != tc.code || !strings.Contains(got, tc.want) || tc.not != "" && strings.Contains(got, tc.not) {
				t.Errorf("exit %d, want %d; output has %q, want %q and not %q; stderr:\n%s", r.code, tc.code, got, tc.want, tc.not, r.stderr)
			}
		})
	}
}
