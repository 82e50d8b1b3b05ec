package render_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"crawl/downloader"
	"crawl/render"
	"crawl/render/rendertest"
	"crawl/stats"
)

// shared is the one browser most tests of the package render in: starting
// one is the slow part.
var (
	shared      *render.Pool
	sharedStats = new(stats.Stats)
)

func TestMain(m *testing.M) {
	path, err := rendertest.Browser()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if path != "" {
		shared = render.New(render.Config{Browser: path, Tabs: 2, Stats: sharedStats})
	}
	code := m.Run()
	if shared != nil {
		pid := shared.PID()
		shared.Close()
		if pid != 0 && rendertest.Alive(pid) {
			fmt.Fprintf(os.Stderr, "browser process group %d still running after Close\n", pid)
			code = 1
		}
	}
	os.Exit(code)
}

// site serves testdata/site, and counts the requests under /counted/.
type site struct {
	*httptest.Server
	counted atomic.Int64
}

func newSite(t *testing.T) *site {
	s := &site{}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir("testdata/site")))
	mux.HandleFunc("/counted/", func(w http.ResponseWriter, r *http.Request) {
		s.counted.Add(1)
		w.Write([]byte("x"))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func pool(t *testing.T) *render.Pool {
	t.Helper()
	if shared == nil {
		t.Skip("no browser: " + render.ErrNoBrowser.Error())
	}
	return shared
}

// fetch fetches and renders u through a downloader, as the crawl does.
func fetch(t *testing.T, p *render.Pool, u string, r *downloader.Render) (*downloader.Response, error) {
	t.Helper()
	d := downloader.New(downloader.Config{Retries: downloader.NoRetries})
	t.Cleanup(d.Close)
	f := &render.Fetcher{Next: d, Pool: p}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
	defer cancel()
	return f.Fetch(ctx, &downloader.Request{URL: u, Render: r})
}

func TestRender(t *testing.T) {
	p := pool(t)
	s := newSite(t)
	for _, tc := range []struct {
		name, page string
		render     downloader.Render
		want       []string
	}{
		{"timer", "late.html", downloader.Render{WaitFor: "p.late"}, []string{`<p class="late">built by a timer</p>`}},
		{"fetch", "books.html", downloader.Render{WaitFor: "#books[data-done]"}, []string{`<li class="book">Dune</li>`, `<li class="book">Emma</li>`}},
		{"networkidle", "books.html", downloader.Render{Wait: downloader.WaitNetworkIdle}, []string{`<li class="book">Emma</li>`}},
		{"click", "more.html", downloader.Render{Actions: []downloader.RenderAction{
			{Kind: "click", Selector: "#more"}, {Kind: "wait_for", Selector: "li.loaded"},
		}}, []string{`<li class="row loaded">row 1</li>`, `<li class="row loaded">row 2</li>`}},
		{"scroll", "scroll.html", downloader.Render{WaitFor: "li.post", Scroll: 2}, []string{`post 0.a`, `post 1.b`, `post 2.c`}},
		{"type", "search.html", downloader.Render{Actions: []downloader.RenderAction{
			{Kind: "type", Selector: "#q", Text: "dune"}, {Kind: "click", Selector: "#go"}, {Kind: "wait_for", Selector: "li.hit"},
		}}, []string{`<li class="hit">dune: Dune</li>`}},
		{"domcontentloaded", "late.html", downloader.Render{Wait: downloader.WaitDOMContentLoaded, WaitFor: "p.late"}, []string{`built by a timer`}},
		{"delay", "late.html", downloader.Render{Wait: downloader.WaitDelay, Delay: 10 * time.Millisecond, WaitFor: "p.late"}, []string{`built by a timer`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := fetch(t, p, s.URL+"/"+tc.page, &tc.render)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(resp.Body), w) {
					t.Errorf("rendered page lacks %s:\n%s", w, resp.Body)
				}
			}
		})
	}
}

func TestRenderUnrenderedRequestIsUntouched(t *testing.T) {
	p := pool(t)
	s := newSite(t)
	resp, err := fetch(t, p, s.URL+"/late.html", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), `<div id="app"></div>`) {
		t.Errorf("a request without Render was rendered:\n%s", resp.Body)
	}
}

func TestRenderWaitForTimesOut(t *testing.T) {
	p := pool(t)
	s := newSite(t)
	before := sharedStats.Get(render.StatTimeout)
	_, err := fetch(t, p, s.URL+"/never.html", &downloader.Render{WaitFor: "#absent", Timeout: 500 * time.Millisecond})
	if !errors.Is(err, render.ErrTimeout) || downloader.ErrorKind(err) != "timeout" {
		t.Fatalf("error %v, want one wrapping ErrTimeout, of kind timeout", err)
	}
	if got := sharedStats.Get(render.StatTimeout) - before; got != 1 {
		t.Errorf("%s counted %d, want 1", render.StatTimeout, got)
	}
	// The tab is usable again.
	if _, err := fetch(t, p, s.URL+"/late.html", &downloader.Render{WaitFor: "p.late"}); err != nil {
		t.Errorf("the page after a timeout: %v", err)
	}
}

func TestRenderBlock(t *testing.T) {
	p := pool(t)
	for _, tc := range []struct {
		block []string
		want  int64
	}{
		{nil, 2},
		{[]string{"image", "stylesheet"}, 0},
	} {
		t.Run(strings.Join(tc.block, ","), func(t *testing.T) {
			s := newSite(t)
			resp, err := fetch(t, p, s.URL+"/heavy.html", &downloader.Render{Block: tc.block, Wait: downloader.WaitNetworkIdle})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(resp.Body), `id="text"`) {
				t.Errorf("rendered page lacks its text:\n%s", resp.Body)
			}
			if got := s.counted.Load(); got != tc.want {
				t.Errorf("block %v: the server got %d requests for the image and the stylesheet, want %d", tc.block, got, tc.want)
			}
		})
	}
}

// TestRenderNoDirectConnection: the browser connects nowhere itself. A
// WebSocket, which the downloader cannot carry, fails without reaching the
// server.
func TestRenderNoDirectConnection(t *testing.T) {
	p := pool(t)
	s := newSite(t)
	resp, err := fetch(t, p, s.URL+"/ws.html", &downloader.Render{WaitFor: "#state[data-done]"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), `>failed</p>`) || s.counted.Load() != 0 {
		t.Errorf("the server got %d WebSocket requests; the page says:\n%s", s.counted.Load(), resp.Body)
	}
}

func TestRenderCapture(t *testing.T) {
	p := pool(t)
	s := newSite(t)
	resp, err := fetch(t, p, s.URL+"/books.html", &downloader.Render{WaitFor: "#books[data-done]", Capture: `/api/books`})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Captured) != 1 {
		t.Fatalf("captured %d responses, want 1", len(resp.Captured))
	}
	c := resp.Captured[0]
	if c.URL != s.URL+"/api/books.json" || c.Request == nil || c.Request.URL != c.URL || !strings.Contains(string(c.Body), `"Dune"`) {
		t.Errorf("captured %s (request %+v): %s", c.URL, c.Request, c.Body)
	}
}

// TestRenderBrowserKilled kills the browser while a page renders: the page
// is rendered again in a new browser, and Close leaves no process behind.
func TestRenderBrowserKilled(t *testing.T) {
	path, err := rendertest.Browser()
	if err != nil || path == "" {
		t.Skip("no browser")
	}
	st := new(stats.Stats)
	p := render.New(render.Config{Browser: path, Tabs: 1, Stats: st})
	reached := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir("testdata/site")))
	mux.HandleFunc("/api/books.json", func(w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if first {
			close(reached)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		http.ServeFile(w, r, "testdata/site/api/books.json")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)

	done := make(chan error, 1)
	go func() {
		resp, err := fetch(t, p, srv.URL+"/books.html", &downloader.Render{WaitFor: "#books[data-done]"})
		if err == nil && !strings.Contains(string(resp.Body), "Emma") {
			err = fmt.Errorf("rendered page lacks its books:\n%s", resp.Body)
		}
		done <- err
	}()
	<-reached
	pid := p.PID()
	if pid == 0 {
		t.Fatal("no browser process")
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	if err := <-done; err != nil {
		t.Fatalf("page after the browser was killed: %v", err)
	}
	if got := st.Get(render.StatRestarts); got != 1 {
		t.Errorf("%s = %d, want 1", render.StatRestarts, got)
	}
	second := p.PID()
	p.Close()
	for _, pid := range []int{pid, second} {
		if rendertest.Alive(pid) {
			t.Errorf("browser process group %d still running after Close", pid)
		}
	}
}
