package downloader_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"crawl/downloader"
	"crawl/stats"
)

func TestPrivateNets(t *testing.T) {
	tests := []struct {
		addr    string
		private bool
	}{
		{"127.0.0.1", true},
		{"127.255.0.9", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"172.32.0.1", false},
		{"192.168.1.1", true},
		{"100.64.0.1", true},
		{"100.128.0.1", false},
		{"169.254.169.254", true},
		{"0.0.0.0", true},
		{"224.0.0.251", true},
		{"255.255.255.255", true},
		{"8.8.8.8", false},
		{"93.184.216.34", false},
		{"::", true},
		{"::1", true},
		{"fe80::1%eth0", true},
		{"fd00:ec2::254", true},
		{"ff02::1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:8.8.8.8", false},
		{"64:ff9b::a00:1", true},    // NAT64 of 10.0.0.1
		{"64:ff9b::808:808", false}, // NAT64 of 8.8.8.8
		{"2001:4860:4860::8888", false},
	}
	for _, tt := range tests {
		if got := downloader.IsPrivate(netip.MustParseAddr(tt.addr)); got != tt.private {
			t.Errorf("%s: private %v, want %v", tt.addr, got, tt.private)
		}
	}
}

// loopbackNets are the private networks for tests, which can only use
// loopback: 127.0.0.1 (and ::1, where localhost may also resolve) is
// private, the rest of 127/8 stands for the public internet.
var loopbackNets = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}

// serveAt starts an HTTP server listening on addr, such as "127.0.0.2:0".
func serveAt(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// privatePair starts a "public" server on 127.0.0.2 and a "private" one on
// 127.0.0.1. Each serves robots.txt as a 404, /to?u=URL as a redirect to
// URL, and any other path as a page naming it; each counts what it serves.
func privatePair(t *testing.T) (pub, priv *httptest.Server, pubHits, privHits *hitCounter) {
	t.Helper()
	handler := func(hits *hitCounter) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.add(r.URL.Path)
			switch r.URL.Path {
			case "/robots.txt":
				http.NotFound(w, r)
			case "/to":
				http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
			default:
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, "<p>"+r.URL.Path+"</p>")
			}
		})
	}
	pubHits, privHits = new(hitCounter), new(hitCounter)
	pub = serveAt(t, "127.0.0.2:0", handler(pubHits))
	priv = serveAt(t, "127.0.0.1:0", handler(privHits))
	return pub, priv, pubHits, privHits
}

// TestDenyPrivate fetches with and without PublicOnly, from and to a public
// and a private server, and checks what was refused, what was sent, and
// what the response says of its address.
func TestDenyPrivate(t *testing.T) {
	pub, priv, pubHits, privHits := privatePair(t)
	_, privPort, _ := net.SplitHostPort(strings.TrimPrefix(priv.URL, "http://"))
	to := func(from *httptest.Server, target string) string {
		return from.URL + "/to?u=" + url.QueryEscape(target)
	}
	deny := downloader.Config{DenyPrivate: true, PrivateNets: loopbackNets}
	robots := deny
	robots.ObeyRobots = true
	tests := []struct {
		name       string
		cfg        downloader.Config
		url        string
		publicOnly bool
		refused    bool // with an error of kind private_address
		public     bool // Response.Public, when not refused
		privHits   int  // requests the private server sees, robots.txt included
		pubHits    int
	}{
		{"public only, to private", deny, priv.URL + "/a", true, true, false, 0, 0},
		{"public only, to public", deny, pub.URL + "/a", true, false, true, 0, 1},
		{"public only, to localhost", deny, "http://localhost:" + privPort + "/a", true, true, false, 0, 0},
		{"public only, redirect to private", deny, to(pub, priv.URL+"/a"), true, true, false, 0, 1},
		{"start, to private", deny, priv.URL + "/a", false, false, false, 1, 0},
		{"start, to public", deny, pub.URL + "/a", false, false, true, 0, 1},
		{"start, public redirects to private", deny, to(pub, priv.URL+"/a"), false, true, false, 0, 1},
		{"start, public redirects to localhost", deny, to(pub, "http://localhost:"+privPort+"/a"), false, true, false, 0, 1},
		{"start, private redirects to private", deny, to(priv, priv.URL+"/a"), false, false, false, 2, 0},
		{"start, private redirects to public", deny, to(priv, pub.URL+"/a"), false, false, true, 1, 1},
		{"public only, to private, robots.txt obeyed", robots, priv.URL + "/a", true, true, false, 0, 0},
		{"public only, to public, robots.txt obeyed", robots, pub.URL + "/a", true, false, true, 0, 2},
		{"off, public only, to private", downloader.Config{PrivateNets: loopbackNets}, priv.URL + "/a", true, false, false, 1, 0},
		{"off, public redirects to private", downloader.Config{PrivateNets: loopbackNets}, to(pub, priv.URL+"/a"), false, false, false, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pubHits.reset()
			privHits.reset()
			d, clock, st := fakeDownloader(t, tt.cfg)
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: tt.url, PublicOnly: tt.publicOnly})
			if tt.refused {
				if !errors.Is(err, downloader.ErrPrivateAddress) || downloader.ErrorKind(err) != "private_address" {
					t.Fatalf("got %v (kind %q), want a private_address error", err, downloader.ErrorKind(err))
				}
				if len(clock.Waits()) != 0 || st.Sum(stats.Retries) != 0 || st.Get(stats.RetriesExhausted) != 0 {
					t.Errorf("refused request was retried: waits %v, stats %v", clock.Waits(), st.Snapshot())
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if resp.Status != 200 || !strings.HasPrefix(string(resp.Body), "<p>/a") {
					t.Errorf("got %d %q, want 200 and page /a", resp.Status, resp.Body)
				}
				if resp.Public != tt.public {
					t.Errorf("Public: got %v, want %v", resp.Public, tt.public)
				}
			}
			if n := privHits.total(); n != tt.privHits {
				t.Errorf("private server saw %d requests (%v), want %d", n, privHits.all(), tt.privHits)
			}
			if n := pubHits.total(); n != tt.pubHits {
				t.Errorf("public server saw %d requests (%v), want %d", n, pubHits.all(), tt.pubHits)
			}
		})
	}
}

// A robots.txt fetch refused for a PublicOnly request says nothing about
// the site: a start request to it fetches robots.txt and the page.
func TestDenyPrivateRobotsNotCached(t *testing.T) {
	_, priv, _, privHits := privatePair(t)
	d := newDownloader(t, downloader.Config{DenyPrivate: true, PrivateNets: loopbackNets, ObeyRobots: true})
	ctx := testCtx(t)
	if _, err := d.Fetch(ctx, &downloader.Request{URL: priv.URL + "/a", PublicOnly: true}); !errors.Is(err, downloader.ErrPrivateAddress) {
		t.Fatalf("public only: got %v, want ErrPrivateAddress", err)
	}
	if _, err := d.Fetch(ctx, &downloader.Request{URL: priv.URL + "/a"}); err != nil {
		t.Fatalf("start request after a refused one: %v", err)
	}
	if privHits.get("/robots.txt") != 1 || privHits.get("/a") != 1 {
		t.Errorf("private server saw %v, want robots.txt and /a once each", privHits.all())
	}
}

// A page stored in the cache from a private address is not served to a
// PublicOnly request: that would carry it past the check on the network.
func TestDenyPrivateCache(t *testing.T) {
	pub, priv, pubHits, privHits := privatePair(t)
	d := newDownloader(t, downloader.Config{DenyPrivate: true, PrivateNets: loopbackNets, CacheDir: t.TempDir()})
	ctx := testCtx(t)
	for _, u := range []string{priv.URL + "/a", pub.URL + "/b"} {
		if _, err := d.Fetch(ctx, &downloader.Request{URL: u}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Fetch(ctx, &downloader.Request{URL: priv.URL + "/a", PublicOnly: true}); !errors.Is(err, downloader.ErrPrivateAddress) {
		t.Errorf("public only, private page in the cache: got %v, want ErrPrivateAddress", err)
	}
	resp, err := d.Fetch(ctx, &downloader.Request{URL: pub.URL + "/b", PublicOnly: true})
	if err != nil || !resp.Public {
		t.Fatalf("public only, public page in the cache: %v, Public %v", err, resp != nil && resp.Public)
	}
	resp, err = d.Fetch(ctx, &downloader.Request{URL: priv.URL + "/a"})
	if err != nil || resp.Public {
		t.Fatalf("start request, private page in the cache: %v, Public %v", err, resp != nil && resp.Public)
	}
	if privHits.get("/a") != 1 || pubHits.get("/b") != 1 {
		t.Errorf("servers saw %v and %v, want /a and /b once each (the rest from the cache)", privHits.all(), pubHits.all())
	}
}

// Through a proxy the proxy connects, not the crawler: a PublicOnly request
// is judged by its host as written.
func TestDenyPrivateProxy(t *testing.T) {
	pub, priv, pubHits, privHits := privatePair(t)
	_, privPort, _ := net.SplitHostPort(strings.TrimPrefix(priv.URL, "http://"))
	proxied := new(hitCounter)
	proxy := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.add(r.URL.Host)
		out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	d := newDownloader(t, downloader.Config{DenyPrivate: true, PrivateNets: loopbackNets, Proxy: proxy.URL})
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	ctx := testCtx(t)
	for _, u := range []string{priv.URL + "/a", "http://localhost:" + privPort + "/a", "http://app.localhost:" + privPort + "/a"} {
		if _, err := d.Fetch(ctx, &downloader.Request{URL: u, PublicOnly: true}); !errors.Is(err, downloader.ErrPrivateAddress) {
			t.Errorf("%s through the proxy: got %v, want ErrPrivateAddress", u, err)
		}
	}
	resp, err := d.Fetch(ctx, &downloader.Request{URL: pub.URL + "/b", PublicOnly: true})
	if err != nil || resp.Status != 200 || !resp.Public {
		t.Fatalf("public page through the proxy: %v, %+v", err, resp)
	}
	resp, err = d.Fetch(ctx, &downloader.Request{URL: priv.URL + "/c"})
	if err != nil || resp.Status != 200 || resp.Public {
		t.Fatalf("start request to a private page through the proxy: %v, %+v", err, resp)
	}
	if privHits.get("/a") != 0 || privHits.get("/c") != 1 || pubHits.get("/b") != 1 {
		t.Errorf("servers saw %v and %v", privHits.all(), pubHits.all())
	}
	if n := len(proxied.all()); n != 2 {
		t.Errorf("the proxy was asked for %v, want the two allowed hosts", proxied.all())
	}
}
