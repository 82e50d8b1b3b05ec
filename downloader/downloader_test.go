package downloader_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"crawl/downloader"
)

// TestMain fails the package if a test leaves a goroutine behind: a fetch
// that timed out or failed must not strand the transport's or a handler's
// goroutines.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testCtx is a safety net against a hung test, not a timing assertion.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newDownloader is registered after the servers it talks to, so its idle
// connections are closed before the servers wait for them.
func newDownloader(t *testing.T, cfg downloader.Config) *downloader.Downloader {
	t.Helper()
	d := downloader.New(cfg)
	t.Cleanup(d.Close)
	return d
}

func fileURL(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

func TestFetchGET(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "want GET, got "+r.Method, http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Served-By", "test")
		w.Header().Add("X-Multi", "one")
		w.Header().Add("X-Multi", "two")
		fmt.Fprintf(w, "<p>path=%s query=%s</p>", r.URL.Path, r.URL.RawQuery)
	}))
	d := newDownloader(t, downloader.Config{})

	req := &downloader.Request{URL: srv.URL + "/a/b?x=1"}
	resp, err := d.Fetch(testCtx(t), req)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("Status: got %d, want %d", resp.Status, http.StatusOK)
	}
	if got, want := string(resp.Body), "<p>path=/a/b query=x=1</p>"; got != want {
		t.Errorf("Body: got %q, want %q", got, want)
	}
	if resp.URL != req.URL {
		t.Errorf("URL: got %q, want %q", resp.URL, req.URL)
	}
	if resp.Request != req {
		t.Errorf("Request: got %p, want the request fetched %p", resp.Request, req)
	}
	if got, want := resp.Header.Get("X-Served-By"), "test"; got != want {
		t.Errorf("X-Served-By header: got %q, want %q", got, want)
	}
	if got, want := strings.Join(resp.Header.Values("X-Multi"), ","), "one,two"; got != want {
		t.Errorf("X-Multi header: got %q, want %q", got, want)
	}
	if got, want := resp.ContentType(), "text/html"; got != want {
		t.Errorf("ContentType(): got %q, want %q", got, want)
	}
	if resp.Truncated {
		t.Errorf("Truncated: got true, want false")
	}
}

func TestFetchUserAgent(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Join(r.Header.Values("User-Agent"), "|"))
	}))
	tests := []struct {
		name   string
		cfgUA  string
		header http.Header
		want   string
	}{
		{"default", "", nil, downloader.DefaultUserAgent},
		{"config overrides default", "mybot/2.0 (+http://127.0.0.1/bot)", nil, "mybot/2.0 (+http://127.0.0.1/bot)"},
		{"request header wins over config", "mybot/2.0", http.Header{"User-Agent": {"per-request/1"}}, "per-request/1"},
		{"request header wins over default", "", http.Header{"User-Agent": {"per-request/1"}}, "per-request/1"},
		{"other request headers keep the config agent", "mybot/2.0", http.Header{"Accept": {"text/html"}}, "mybot/2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDownloader(t, downloader.Config{UserAgent: tt.cfgUA})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL, Header: tt.header})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if got := string(resp.Body); got != tt.want {
				t.Errorf("User-Agent sent: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFetchPOST(t *testing.T) {
	type echo struct {
		Method string
		Body   string
		Header http.Header
	}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(echo{Method: r.Method, Body: string(body), Header: r.Header})
	}))
	d := newDownloader(t, downloader.Config{})

	header := http.Header{
		"Content-Type": {"application/x-www-form-urlencoded"},
		"X-Token":      {"abc", "def"},
	}
	req := &downloader.Request{
		URL:    srv.URL + "/search",
		Method: http.MethodPost,
		Body:   []byte("q=go+crawler&page=2"),
		Header: header,
	}
	resp, err := d.Fetch(testCtx(t), req)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	var got echo
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatalf("decode echo %q: %v", resp.Body, err)
	}
	if got.Method != http.MethodPost {
		t.Errorf("method: got %q, want %q", got.Method, http.MethodPost)
	}
	if got.Body != "q=go+crawler&page=2" {
		t.Errorf("body: got %q, want %q", got.Body, "q=go+crawler&page=2")
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type sent: got %q, want %q", ct, "application/x-www-form-urlencoded")
	}
	if tok := strings.Join(got.Header.Values("X-Token"), ","); tok != "abc,def" {
		t.Errorf("X-Token sent: got %q, want %q", tok, "abc,def")
	}
	if ua := got.Header.Get("User-Agent"); ua != downloader.DefaultUserAgent {
		t.Errorf("User-Agent sent: got %q, want %q", ua, downloader.DefaultUserAgent)
	}
	// A Request is immutable once handed over: the default User-Agent goes
	// on the outgoing request, not into the caller's header map.
	if _, ok := header["User-Agent"]; ok || len(header) != 2 {
		t.Errorf("request header after Fetch: got %v, want it unchanged", header)
	}
}

func TestFetchNon2xxIsAResponse(t *testing.T) {
	tests := []struct {
		status int
		body   string
	}{
		{http.StatusNotFound, "no such page"},
		{http.StatusInternalServerError, "boom"},
		{http.StatusForbidden, "go away"},
		{http.StatusServiceUnavailable, "later"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			d := newDownloader(t, downloader.Config{})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
			if err != nil {
				t.Fatalf("Fetch: got error %v, want a Response", err)
			}
			if resp.Status != tt.status {
				t.Errorf("Status: got %d, want %d", resp.Status, tt.status)
			}
			if string(resp.Body) != tt.body {
				t.Errorf("Body: got %q, want %q", resp.Body, tt.body)
			}
		})
	}
}

func TestFetchTimeout(t *testing.T) {
	tests := []struct {
		name string
		// handler must return once the request's context is done.
		handler http.HandlerFunc
		// inBody says whether the deadline hits while the body is read, after
		// the headers arrived.
		inBody bool
	}{
		{
			name: "headers then a byte every 100ms forever",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusOK)
				rc := http.NewResponseController(w)
				rc.Flush()
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-r.Context().Done():
						return
					case <-tick.C:
						if _, err := w.Write([]byte("x")); err != nil {
							return
						}
						if err := rc.Flush(); err != nil {
							return
						}
					}
				}
			},
			inBody: true,
		},
		{
			name: "never answers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			d := newDownloader(t, downloader.Config{Timeout: 300 * time.Millisecond})
			ctx := testCtx(t)
			resp, err := d.Fetch(ctx, &downloader.Request{URL: srv.URL})
			if ctx.Err() != nil {
				t.Fatalf("the test's own 30 s safety net ended the fetch (%v): Config.Timeout did not", err)
			}
			if err == nil {
				t.Fatalf("Fetch: got a response (status %d, %d body bytes), want a timeout", resp.Status, len(resp.Body))
			}
			if resp != nil {
				t.Errorf("Fetch: got a response with the error %v, want nil", err)
			}
			if got := downloader.ErrorKind(err); got != "timeout" {
				t.Errorf("ErrorKind(%v): got %q, want %q", err, got, "timeout")
			}
			if got := errors.Is(err, downloader.ErrBody); got != tt.inBody {
				t.Errorf("errors.Is(%v, ErrBody): got %v, want %v", err, got, tt.inBody)
			}
			if !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error %q does not name the URL %s", err, srv.URL)
			}
		})
	}
}

func TestFetchCancelledContext(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	d := newDownloader(t, downloader.Config{})
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	_, err := d.Fetch(ctx, &downloader.Request{URL: srv.URL})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch with a cancelled context: got %v, want an error wrapping context.Canceled", err)
	}
}

func TestFetchMaxBody(t *testing.T) {
	const max = 1000
	tests := []struct {
		size          int
		wantLen       int
		wantTruncated bool
	}{
		{0, 0, false},
		{max - 1, max - 1, false},
		{max, max, false},
		{max + 1, max, true},
		{10 * max, max, true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.size), func(t *testing.T) {
			body := bytes.Repeat([]byte("0123456789"), tt.size/10+1)[:tt.size]
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write(body)
			}))
			d := newDownloader(t, downloader.Config{MaxBody: max})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(resp.Body) != tt.wantLen {
				t.Errorf("len(Body): got %d, want %d", len(resp.Body), tt.wantLen)
			}
			if !bytes.Equal(resp.Body, body[:len(resp.Body)]) {
				t.Errorf("Body is not the start of what was sent")
			}
			if resp.Truncated != tt.wantTruncated {
				t.Errorf("Truncated: got %v, want %v", resp.Truncated, tt.wantTruncated)
			}
		})
	}
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The limit protects memory, so it counts bytes after the transport inflates
// a gzip body: a small bomb must not become 50 MB in the crawler. The bomb is
// one gzip member of 1 MiB of zeros repeated: a gzip stream may hold many
// members, and Go's reader inflates them all as one body.
func TestFetchMaxBodyCountsDecompressedBytes(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name          string
		chunk         []byte // compressed as one gzip member
		repeat        int    // members sent back to back
		wantLen       int
		wantTruncated bool
	}{
		{"bomb of 50 MB", make([]byte, mib), 50, mib, true},
		{"small", []byte("hello, gzip"), 1, len("hello, gzip"), false},
		{"two members", []byte("hello, gzip"), 2, 2 * len("hello, gzip"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gz := bytes.Repeat(gzipped(t, tt.chunk), tt.repeat)
			plain := bytes.Repeat(tt.chunk, tt.repeat)
			if len(gz) >= mib {
				t.Fatalf("compressed size %d: want it under MaxBody so that only decompression can exceed it", len(gz))
			}
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
					http.Error(w, "client did not accept gzip", http.StatusNotAcceptable)
					return
				}
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Write(gz)
			}))
			d := newDownloader(t, downloader.Config{MaxBody: mib})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if resp.Status != http.StatusOK {
				t.Fatalf("Status: got %d (%s), want 200", resp.Status, resp.Body)
			}
			if len(resp.Body) != tt.wantLen {
				t.Errorf("len(Body): got %d, want %d", len(resp.Body), tt.wantLen)
			}
			if !bytes.Equal(resp.Body, plain[:len(resp.Body)]) {
				t.Errorf("Body is not the decompressed data (first bytes %q)", resp.Body[:min(8, len(resp.Body))])
			}
			if resp.Truncated != tt.wantTruncated {
				t.Errorf("Truncated: got %v, want %v", resp.Truncated, tt.wantTruncated)
			}
		})
	}
}

// redirectServer serves /hop/N, which redirects to /hop/N-1 down to /hop/0,
// which redirects to /final; /loop/a and /loop/b redirect to each other; and
// /to?u=X redirects to X. It counts the requests it serves in hits.
func redirectServer(t *testing.T, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if n == 0 {
			http.Redirect(w, r, "/final", http.StatusFound)
			return
		}
		http.Redirect(w, r, "/hop/"+strconv.Itoa(n-1), http.StatusMovedPermanently)
	})
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "landed")
	})
	mux.HandleFunc("/loop/a", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop/b", http.StatusFound)
	})
	mux.HandleFunc("/loop/b", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop/a", http.StatusFound)
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	return newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
}

// hops returns the path of a chain of n redirects ending at /final.
func hops(n int) string { return "/hop/" + strconv.Itoa(n-1) }

func TestFetchRedirects(t *testing.T) {
	var hits atomic.Int32
	srv := redirectServer(t, &hits)
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("TOP-SECRET-CONTENT"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		wantKind string // "" means success landing on /final
		wantHits int32  // requests the server saw; 0 means not checked
	}{
		{"one", hops(1), "", 2},
		{"chain of 3", hops(3), "", 4},
		// DefaultMaxRedirects is 10: ten are followed, the eleventh is
		// refused before it is requested.
		{"chain of 10", hops(10), "", 11},
		{"chain of 11", hops(11), "redirect", 11},
		{"chain of 30", hops(30), "redirect", 0},
		// The loop is caught when it comes back to a, not by the count.
		{"loop a->b->a", "/loop/a", "redirect", 2},
		{"to file://", "/to?u=" + url.QueryEscape(fileURL(secret)), "redirect", 1},
		{"to ftp://", "/to?u=" + url.QueryEscape("ftp://127.0.0.1/pub/x"), "redirect", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDownloader(t, downloader.Config{})
			hits.Store(0)
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + tt.path})
			if got := hits.Load(); tt.wantHits != 0 && got != tt.wantHits {
				t.Errorf("requests served: got %d, want %d", got, tt.wantHits)
			}
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if want := srv.URL + "/final"; resp.URL != want {
					t.Errorf("final URL: got %q, want %q", resp.URL, want)
				}
				if string(resp.Body) != "landed" {
					t.Errorf("Body: got %q, want %q", resp.Body, "landed")
				}
				return
			}
			if err == nil {
				t.Fatalf("Fetch: got a response from %s (%q), want a %s error", resp.URL, resp.Body, tt.wantKind)
			}
			if resp != nil {
				t.Errorf("Fetch: got a response with the error %v, want nil", err)
			}
			if got := downloader.ErrorKind(err); got != tt.wantKind {
				t.Errorf("ErrorKind(%v): got %q, want %q", err, got, tt.wantKind)
			}
			if !errors.Is(err, downloader.ErrRedirect) {
				t.Errorf("errors.Is(%v, ErrRedirect): got false, want true", err)
			}
			if strings.Contains(err.Error(), "TOP-SECRET") {
				t.Errorf("error %q carries the file's content", err)
			}
		})
	}
}

func TestFetchCheckRedirect(t *testing.T) {
	var blockedHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/middle?x=1", http.StatusFound)
	})
	mux.HandleFunc("/middle", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/blocked", http.StatusFound)
	})
	mux.HandleFunc("/blocked", func(w http.ResponseWriter, r *http.Request) {
		blockedHits.Add(1)
		io.WriteString(w, "should not be fetched")
	})
	srv := newServer(t, mux)

	errOffsite := errors.New("off the allowed domains")
	var (
		mu      sync.Mutex
		targets []string
	)
	d := newDownloader(t, downloader.Config{CheckRedirect: func(target string) error {
		mu.Lock()
		defer mu.Unlock()
		targets = append(targets, target)
		if strings.HasSuffix(target, "/blocked") {
			return errOffsite
		}
		return nil
	}})

	resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL + "/start"})
	if err == nil {
		t.Fatalf("Fetch: got a response from %s, want the redirect refused", resp.URL)
	}
	if got := downloader.ErrorKind(err); got != "redirect" {
		t.Errorf("ErrorKind(%v): got %q, want %q", err, got, "redirect")
	}
	if !errors.Is(err, errOffsite) {
		t.Errorf("errors.Is(%v, CheckRedirect's error): got false, want true", err)
	}
	if !errors.Is(err, downloader.ErrRedirect) {
		t.Errorf("errors.Is(%v, ErrRedirect): got false, want true", err)
	}
	if n := blockedHits.Load(); n != 0 {
		t.Errorf("refused target was requested %d times, want 0", n)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{srv.URL + "/middle?x=1", srv.URL + "/blocked"}
	if strings.Join(targets, " ") != strings.Join(want, " ") {
		t.Errorf("CheckRedirect called with: got %q, want %q", targets, want)
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	d := newDownloader(t, downloader.Config{})
	_, err = d.Fetch(testCtx(t), &downloader.Request{URL: "http://" + addr + "/"})
	if err == nil {
		t.Fatalf("Fetch from a closed port: got no error")
	}
	if got := downloader.ErrorKind(err); got != "connection_refused" {
		t.Errorf("ErrorKind(%v): got %q, want %q", err, got, "connection_refused")
	}
}

// A connection closed before the promised Content-Length arrives surfaces as
// io.ErrUnexpectedEOF while the body is read; ErrorKind sorts that under
// connection_reset, ahead of the generic "body".
func TestFetchConnectionClosedMidBody(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n")
		buf.WriteString("only ten b")
		buf.Flush()
	}))
	d := newDownloader(t, downloader.Config{})
	resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
	if err == nil {
		t.Fatalf("Fetch: got %d body bytes and no error, want the short body to fail", len(resp.Body))
	}
	if got := downloader.ErrorKind(err); got != "connection_reset" {
		t.Errorf("ErrorKind(%v): got %q, want %q", err, got, "connection_reset")
	}
	if !errors.Is(err, downloader.ErrBody) {
		t.Errorf("errors.Is(%v, ErrBody): got false, want true", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("errors.Is(%v, io.ErrUnexpectedEOF): got false, want true", err)
	}
}

// bannerServer accepts connections on loopback and answers whatever arrives
// with a line that is neither TLS nor HTTP, as an SSH server would.
func bannerServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				buf := make([]byte, 512)
				if _, err := conn.Read(buf); err != nil { // the ClientHello
					return
				}
				io.WriteString(conn, "SSH-2.0-OpenSSH_9.6\r\n")
				io.Copy(io.Discard, conn) // until the client hangs up
			})
		}
	})
	return ln.Addr().String()
}

func TestFetchTLSErrors(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure")
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "plain")
	}))
	plain.Config.ErrorLog = log.New(io.Discard, "", 0)

	tests := []struct {
		name string
		url  string
	}{
		{"untrusted certificate", tlsSrv.URL},
		{"server that does not speak TLS", "https://" + bannerServer(t) + "/"},
		// net/http reports this one as http.ErrSchemeMismatch, not as the
		// tls.RecordHeaderError underneath.
		{"https to a plain http server", strings.Replace(plain.URL, "http://", "https://", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDownloader(t, downloader.Config{})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: tt.url})
			if err == nil {
				t.Fatalf("Fetch: got %q, want a TLS error", resp.Body)
			}
			if got := downloader.ErrorKind(err); got != "tls" {
				t.Errorf("ErrorKind(%v): got %q, want %q", err, got, "tls")
			}
		})
	}
}

func TestFetchFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	page := write("page.html", "<html><body>local</body></html>")
	sniffHTML := write("noext", "<!DOCTYPE html><html><body>sniffed</body></html>")
	sniffText := write("README", "just some words\n")
	spaced := write("with space.html", "<p>spaced</p>")
	jsonFile := write("data.json", `{"a":1}`)

	tests := []struct {
		name     string
		url      string
		wantBody string
		wantType string
	}{
		{"html by extension", fileURL(page), "<html><body>local</body></html>", "text/html; charset=utf-8"},
		{"json by extension", fileURL(jsonFile), `{"a":1}`, "application/json"},
		{"html sniffed", fileURL(sniffHTML), "<!DOCTYPE html><html><body>sniffed</body></html>", "text/html; charset=utf-8"},
		{"text sniffed", fileURL(sniffText), "just some words\n", "text/plain; charset=utf-8"},
		{"escaped path", fileURL(spaced), "<p>spaced</p>", "text/html; charset=utf-8"},
		{"localhost host", "file://localhost" + filepath.ToSlash(page), "<html><body>local</body></html>", "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDownloader(t, downloader.Config{})
			req := &downloader.Request{URL: tt.url}
			resp, err := d.Fetch(testCtx(t), req)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if resp.Status != http.StatusOK {
				t.Errorf("Status: got %d, want 200", resp.Status)
			}
			if string(resp.Body) != tt.wantBody {
				t.Errorf("Body: got %q, want %q", resp.Body, tt.wantBody)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type: got %q, want %q", got, tt.wantType)
			}
			if resp.URL != tt.url {
				t.Errorf("URL: got %q, want %q", resp.URL, tt.url)
			}
			if resp.Request != req {
				t.Errorf("Request: got %p, want %p", resp.Request, req)
			}
		})
	}
}

func TestFetchFileErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "there.html")
	if err := os.WriteFile(existing, []byte("LOCAL-CONTENT"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A named pipe nobody writes to: opening it to read would block.
	fifo := filepath.Join(dir, "pipe.html")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		url      string
		wantKind string
		wantText string // a piece the message must carry
	}{
		{"missing file", fileURL(filepath.Join(dir, "nope.html")), "not_found", "nope.html"},
		{"directory", fileURL(dir), "other", "directory"},
		{"named pipe", fileURL(fifo), "other", "not a regular file"},
		// The path exists, so only the host check can make this fail: the
		// file is not read for another host.
		{"other host", "file://otherhost" + filepath.ToSlash(existing), "other", `"otherhost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDownloader(t, downloader.Config{})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: tt.url})
			if err == nil {
				t.Fatalf("Fetch: got %q, want an error", resp.Body)
			}
			if resp != nil {
				t.Errorf("Fetch: got a response with the error %v, want nil", err)
			}
			if got := downloader.ErrorKind(err); got != tt.wantKind {
				t.Errorf("ErrorKind(%v): got %q, want %q", err, got, tt.wantKind)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q: want it to mention %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), "LOCAL-CONTENT") {
				t.Errorf("error %q carries the file's content", err)
			}
		})
	}
}

func TestFetchFileMaxBody(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		size          int
		wantTruncated bool
	}{
		{99, false},
		{100, false},
		{101, true},
		{5000, true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.size), func(t *testing.T) {
			content := bytes.Repeat([]byte("abcdefghij"), tt.size/10+1)[:tt.size]
			p := filepath.Join(dir, strconv.Itoa(tt.size)+".txt")
			if err := os.WriteFile(p, content, 0o600); err != nil {
				t.Fatal(err)
			}
			d := newDownloader(t, downloader.Config{MaxBody: 100})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: fileURL(p)})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want := content[:min(tt.size, 100)]
			if !bytes.Equal(resp.Body, want) {
				t.Errorf("Body: got %d bytes %q, want %d bytes %q", len(resp.Body), resp.Body, len(want), want)
			}
			if resp.Truncated != tt.wantTruncated {
				t.Errorf("Truncated: got %v, want %v", resp.Truncated, tt.wantTruncated)
			}
		})
	}
}

func TestFetchBadURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
	}{
		{"ftp", "ftp://127.0.0.1/x"},
		{"mailto", "mailto:someone@127.0.0.1"},
		{"no scheme", "127.0.0.1/x"},
		{"empty", ""},
		{"unparsable", "http://[::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDownloader(t, downloader.Config{})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: tt.url})
			if err == nil {
				t.Fatalf("Fetch(%q): got status %d, want an error", tt.url, resp.Status)
			}
			if resp != nil {
				t.Errorf("Fetch(%q): got a response with the error, want nil", tt.url)
			}
			if !strings.Contains(err.Error(), "fetch "+tt.url) {
				t.Errorf("error %q: want it to start with what was being fetched", err)
			}
		})
	}
}

func TestResponseContentType(t *testing.T) {
	tests := []struct {
		header string
		want   string
	}{
		{"text/HTML; charset=UTF-8", "text/html"},
		{"text/html", "text/html"},
		{"", ""},
		{"  Application/JSON  ", "application/json"},
		{"application/xhtml+xml;charset=utf-8", "application/xhtml+xml"},
		// Malformed: parameters that do not parse still leave the media type.
		{"text/html; charset", "text/html"},
		{"TEXT/HTML;;;", "text/html"},
		{"text/html; charset=\"unterminated", "text/html"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			r := &downloader.Response{Header: http.Header{}}
			if tt.header != "" {
				r.Header.Set("Content-Type", tt.header)
			}
			if got := r.ContentType(); got != tt.want {
				t.Errorf("ContentType() for %q: got %q, want %q", tt.header, got, tt.want)
			}
		})
	}
	t.Run("nil header", func(t *testing.T) {
		if got := (&downloader.Response{}).ContentType(); got != "" {
			t.Errorf("ContentType() with no header: got %q, want \"\"", got)
		}
	})
}

func TestErrorKind(t *testing.T) {
	// Kinds that loopback cannot produce for real (dns), and the order in
	// which overlapping causes are sorted.
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"dns", fmt.Errorf("fetch http://x.invalid/: %w", &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}), "dns"},
		{"redirect", fmt.Errorf("fetch u: %w: too many", downloader.ErrRedirect), "redirect"},
		{"deadline while reading body", fmt.Errorf("fetch u: %w: %w", downloader.ErrBody, context.DeadlineExceeded), "timeout"},
		{"short body", fmt.Errorf("fetch u: %w: %w", downloader.ErrBody, io.ErrUnexpectedEOF), "connection_reset"},
		{"other body error", fmt.Errorf("fetch u: %w: %w", downloader.ErrBody, errors.New("flate: corrupt input")), "body"},
		{"missing file", fmt.Errorf("fetch u: %w", os.ErrNotExist), "not_found"},
		{"plain", errors.New("something else"), "other"},
		{"tls record", fmt.Errorf("fetch u: %w", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := downloader.ErrorKind(tt.err); got != tt.want {
				t.Errorf("ErrorKind(%v): got %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// Close drops only idle connections: the Downloader still works afterwards,
// on a new connection.
func TestCloseKeepsDownloaderUsable(t *testing.T) {
	var newConns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	d := newDownloader(t, downloader.Config{})
	ctx := testCtx(t)

	fetch := func(path string) {
		t.Helper()
		resp, err := d.Fetch(ctx, &downloader.Request{URL: srv.URL + path})
		if err != nil {
			t.Fatalf("Fetch %s: %v", path, err)
		}
		if string(resp.Body) != path {
			t.Fatalf("Fetch %s: got body %q, want %q", path, resp.Body, path)
		}
	}
	fetch("/1")
	fetch("/2")
	if n := newConns.Load(); n != 1 {
		t.Errorf("connections before Close: got %d, want 1 (the idle one reused)", n)
	}
	d.Close()
	fetch("/3")
	if n := newConns.Load(); n != 2 {
		t.Errorf("connections after Close: got %d, want 2 (the idle one closed, a new one opened)", n)
	}
	d.Close()
	d.Close()
	fetch("/4")
}

func TestFetchConcurrent(t *testing.T) {
	const n = 50
	var hits atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintf(w, "page %s ua=%s", r.URL.Query().Get("i"), r.UserAgent())
	}))
	d := newDownloader(t, downloader.Config{UserAgent: "racer/1"})
	ctx := testCtx(t)
	// Every request shares one header map: Fetch must only read it.
	shared := http.Header{"Accept": {"text/html"}}

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := &downloader.Request{URL: fmt.Sprintf("%s/?i=%d", srv.URL, i), Header: shared}
			resp, err := d.Fetch(ctx, req)
			if err != nil {
				t.Errorf("Fetch %d: %v", i, err)
				return
			}
			if want := fmt.Sprintf("page %d ua=racer/1", i); string(resp.Body) != want {
				t.Errorf("Fetch %d: got body %q, want %q", i, resp.Body, want)
			}
		})
	}
	wg.Wait()
	if got := hits.Load(); got != n {
		t.Errorf("server hits: got %d, want %d", got, n)
	}
	if len(shared) != 1 {
		t.Errorf("shared header after Fetch: got %v, want only Accept", shared)
	}
}
