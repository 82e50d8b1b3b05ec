package downloader_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"crawl/downloader"
)

// A proxy on loopback that answers every request itself and records the
// request line it got: through an HTTP proxy, a request names the absolute
// URL, so the origin's host is never resolved or contacted.
func TestProxy(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	proxy := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.RequestURI+" ua="+r.UserAgent())
		mu.Unlock()
		if r.URL.Path == "/robots.txt" {
			io.WriteString(w, "User-agent: *\nDisallow: /private/\n")
			return
		}
		io.WriteString(w, "via proxy: "+r.URL.String())
	}))
	d, _, _ := fakeDownloader(t, downloader.Config{Proxy: proxy.URL, ObeyRobots: true})
	resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: "http://origin.test/page?x=1"})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if want := "via proxy: http://origin.test/page?x=1"; string(resp.Body) != want {
		t.Errorf("Body: got %q, want %q", resp.Body, want)
	}
	if _, err := d.Fetch(testCtx(t), &downloader.Request{URL: "http://origin.test/private/x"}); err == nil {
		t.Errorf("Fetch /private/x: want robots.txt, fetched through the proxy, to deny it")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"GET http://origin.test/robots.txt ua=crawl/0.1",
		"GET http://origin.test/page?x=1 ua=crawl/0.1",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("the proxy saw:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseProxy(t *testing.T) {
	tests := []struct {
		raw string
		ok  bool
	}{
		{"http://127.0.0.1:3128", true},
		{"https://user:pw@proxy.test:8443", true},
		{"socks5://127.0.0.1:1080", true},
		{"socks5h://127.0.0.1:1080", true},
		{"127.0.0.1:3128", false}, // no scheme
		{"ftp://127.0.0.1", false},
		{"http://", false},
		{"http://[::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := downloader.ParseProxy(tt.raw)
			if (err == nil) != tt.ok {
				t.Errorf("ParseProxy(%q): got %v, want ok=%v", tt.raw, err, tt.ok)
			}
		})
	}
	// A Downloader given a bad proxy fails every HTTP fetch, naming it.
	d, _, _ := fakeDownloader(t, downloader.Config{Proxy: "ftp://127.0.0.1"})
	_, err := d.Fetch(testCtx(t), &downloader.Request{URL: "http://origin.test/"})
	if err == nil || !strings.Contains(err.Error(), "proxy") {
		t.Errorf("Fetch with a bad proxy: got %v, want an error naming the proxy", err)
	}
}

// HTTP/2 is used where the server offers it, and one connection carries
// every request.
func TestHTTP2(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig
	d := newDownloader(t, downloader.Config{TLSConfig: &tls.Config{RootCAs: roots.RootCAs}})

	fetch := func() {
		resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
		if err != nil {
			t.Errorf("Fetch: %v", err)
			return
		}
		if string(resp.Body) != "HTTP/2.0" {
			t.Errorf("protocol: got %q, want HTTP/2.0", resp.Body)
		}
	}
	fetch() // the connection, then requests at once over it
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(fetch)
	}
	wg.Wait()
	if n := conns.Load(); n != 1 {
		t.Errorf("connections: got %d, want 1", n)
	}
}

func TestCookies(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc123", Path: "/"})
		http.Redirect(w, r, "/whoami", http.StatusFound) // the cookie counts on the redirect too
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "cookie="+r.Header.Get("Cookie"))
	})
	srv := newServer(t, mux)
	other := newServer(t, mux) // another origin: 127.0.0.1 on another port shares the cookies, as browsers do
	tests := []struct {
		name  string
		cfg   downloader.Config
		want  string
		other string
	}{
		{"kept", downloader.Config{}, "cookie=session=abc123", "cookie=session=abc123"},
		{"disabled", downloader.Config{DisableCookies: true}, "cookie=", "cookie="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _, _ := fakeDownloader(t, tt.cfg)
			fetch := func(u string) string {
				resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: u})
				if err != nil {
					t.Fatalf("Fetch %s: %v", u, err)
				}
				return string(resp.Body)
			}
			if got := fetch(srv.URL + "/login"); got != tt.want {
				t.Errorf("after the redirect: got %q, want %q", got, tt.want)
			}
			if got := fetch(srv.URL + "/whoami"); got != tt.want {
				t.Errorf("next request: got %q, want %q", got, tt.want)
			}
			if got := fetch(other.URL + "/whoami"); got != tt.other {
				t.Errorf("same host, other port: got %q, want %q", got, tt.other)
			}
		})
	}
	// Each Downloader, each crawl, has its own jar.
	fresh, _, _ := fakeDownloader(t, downloader.Config{})
	resp, err := fresh.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/whoami"})
	if err != nil || string(resp.Body) != "cookie=" {
		t.Errorf("a new Downloader: got %q, %v; want no cookie", resp.Body, err)
	}
}

// IdleConnsPerHost connections stay open for reuse: a second round of as
// many requests at once opens no new connection.
func TestIdleConnsPerHost(t *testing.T) {
	const n = 6 // more than Go's default of 2 idle connections per host
	var (
		conns   atomic.Int32
		mu      sync.Mutex
		waiting int
		all     = make(chan struct{})
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Hold each request until n are in flight, so that n connections
		// are open at once.
		mu.Lock()
		ch := all
		if waiting++; waiting == n {
			close(all)
			all, waiting = make(chan struct{}), 0
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-r.Context().Done():
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	d := newDownloader(t, downloader.Config{IdleConnsPerHost: n})
	round := func() {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if _, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL}); err != nil {
					t.Errorf("Fetch: %v", err)
				}
			})
		}
		wg.Wait()
	}
	round()
	round()
	if got := conns.Load(); got != n {
		t.Errorf("connections after two rounds of %d: got %d, want %d", n, got, n)
	}
}

func TestDefaultHeaders(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, k := range []string{"User-Agent", "Accept", "Accept-Language", "Accept-Encoding"} {
			io.WriteString(w, k+": "+r.Header.Get(k)+"\n")
		}
	}))
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"defaults", nil, "User-Agent: crawl/0.1\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\nAccept-Language: en\nAccept-Encoding: gzip, deflate, br\n"},
		{"the request's own win", http.Header{"Accept": {"application/json"}, "Accept-Language": {"fr"}},
			"User-Agent: crawl/0.1\nAccept: application/json\nAccept-Language: fr\nAccept-Encoding: gzip, deflate, br\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _, _ := fakeDownloader(t, downloader.Config{})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL, Header: tt.header})
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tt.want {
				t.Errorf("headers sent:\n%s\nwant:\n%s", resp.Body, tt.want)
			}
		})
	}
}
