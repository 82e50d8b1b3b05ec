package downloader_test

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"crawl/downloader"
	"crawl/stats"

	"github.com/andybalholm/brotli"
)

func zlibbed(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflated(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func brotlied(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	bw := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	bw.Write(data)
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestContentEncoding(t *testing.T) {
	// A bomb is 8 MiB of zeros against a limit of 64 KiB: compressed it
	// is smaller than the limit, so only decompression can exceed it.
	const limit = 64 << 10
	plain := []byte("<p>hello, compressed world</p>")
	zeros := make([]byte, 8<<20)
	tests := []struct {
		name          string
		encoding      string // Content-Encoding sent
		body          func(t *testing.T) []byte
		want          []byte // the start of the body wanted
		wantLen       int
		wantTruncated bool
		wantEncoding  string // Content-Encoding left in the Response header
	}{
		{"gzip", "gzip", func(t *testing.T) []byte { return gzipped(t, plain) }, plain, len(plain), false, ""},
		{"x-gzip", "x-gzip", func(t *testing.T) []byte { return gzipped(t, plain) }, plain, len(plain), false, ""},
		{"deflate as zlib", "deflate", func(t *testing.T) []byte { return zlibbed(t, plain) }, plain, len(plain), false, ""},
		{"deflate raw", "deflate", func(t *testing.T) []byte { return deflated(t, plain) }, plain, len(plain), false, ""},
		{"gzip twice", "gzip, gzip", func(t *testing.T) []byte { return gzipped(t, gzipped(t, plain)) }, plain, len(plain), false, ""},
		{"gzip then deflate", "gzip, deflate", func(t *testing.T) []byte { return zlibbed(t, gzipped(t, plain)) }, plain, len(plain), false, ""},
		{"upper case", "GZIP", func(t *testing.T) []byte { return gzipped(t, plain) }, plain, len(plain), false, ""},
		{"identity", "identity", func(t *testing.T) []byte { return plain }, plain, len(plain), false, "identity"},
		{"brotli", "br", func(t *testing.T) []byte { return brotlied(t, plain) }, plain, len(plain), false, ""},
		{"unknown coding: left as it came", "zstd", func(t *testing.T) []byte { return []byte("\x28\xb5\x2f\xfdopaque") }, []byte("\x28\xb5\x2f\xfdopaque"), 10, false, "zstd"},
		{"gzip bomb", "gzip", func(t *testing.T) []byte { return gzipped(t, zeros) }, make([]byte, limit), limit, true, ""},
		{"deflate bomb (zlib)", "deflate", func(t *testing.T) []byte { return zlibbed(t, zeros) }, make([]byte, limit), limit, true, ""},
		{"deflate bomb (raw)", "deflate", func(t *testing.T) []byte { return deflated(t, zeros) }, make([]byte, limit), limit, true, ""},
		{"brotli bomb", "br", func(t *testing.T) []byte { return brotlied(t, zeros) }, make([]byte, limit), limit, true, ""},
		{"empty gzip body", "gzip", func(t *testing.T) []byte { return nil }, nil, 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body(t)
			if len(body) >= limit {
				t.Fatalf("compressed size %d: want it under MaxBody so that only decompression can exceed it", len(body))
			}
			var acceptEncoding atomic.Value
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				acceptEncoding.Store(r.Header.Get("Accept-Encoding"))
				w.Header().Set("Content-Encoding", tt.encoding)
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Write(body)
			}))
			d, _, _ := fakeDownloader(t, downloader.Config{MaxBody: limit})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if got := acceptEncoding.Load(); got != "gzip, deflate, br" {
				t.Errorf("Accept-Encoding sent: got %q, want %q", got, "gzip, deflate, br")
			}
			if len(resp.Body) != tt.wantLen || !bytes.HasPrefix(resp.Body, tt.want) {
				t.Errorf("Body: got %d bytes %q…, want %d bytes %q…", len(resp.Body), resp.Body[:min(20, len(resp.Body))], tt.wantLen, tt.want[:min(20, len(tt.want))])
			}
			if resp.Truncated != tt.wantTruncated {
				t.Errorf("Truncated: got %v, want %v", resp.Truncated, tt.wantTruncated)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tt.wantEncoding {
				t.Errorf("Content-Encoding left in the header: got %q, want %q", got, tt.wantEncoding)
			}
			if tt.wantEncoding == "" && tt.encoding != "" && resp.Header.Get("Content-Length") != "" {
				t.Errorf("Content-Length %q of the encoded body left in the header", resp.Header.Get("Content-Length"))
			}
		})
	}
}

// A request that names its own Accept-Encoding keeps it.
func TestAcceptEncodingOfTheRequest(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Accept-Encoding"))
	}))
	d, _, _ := fakeDownloader(t, downloader.Config{})
	resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL, Header: http.Header{"Accept-Encoding": {"identity"}}})
	if err != nil || string(resp.Body) != "identity" {
		t.Errorf("got %q, %v; want the request's own identity", resp.Body, err)
	}
}

// A Content-Length that lies: longer than the body is a failed read (and
// retried), shorter gives what it promised.
func TestWrongContentLength(t *testing.T) {
	lie := func(length string, body string) (*hitCounter, string) {
		hits := new(hitCounter)
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.add(r.URL.Path)
			if r.URL.Path == "/honest" {
				io.WriteString(w, "honest")
				return
			}
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + length + "\r\n\r\n" + body)
			buf.Flush()
		}))
		return hits, srv.URL
	}

	t.Run("longer than the body", func(t *testing.T) {
		hits, u := lie("1000", "only ten b")
		d, _, st := fakeDownloader(t, downloader.Config{})
		resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: u + "/lie"})
		if err == nil {
			t.Fatalf("Fetch: got %d bytes and no error, want the short body to fail", len(resp.Body))
		}
		if !errors.Is(err, downloader.ErrBody) || !errors.Is(err, io.ErrUnexpectedEOF) || downloader.ErrorKind(err) != "connection_reset" {
			t.Errorf("error %v: want ErrBody, io.ErrUnexpectedEOF, kind connection_reset", err)
		}
		if n := hits.get("/lie"); n != 3 {
			t.Errorf("requests: got %d, want 3 (retried twice)", n)
		}
		wantStats(t, st, map[string]int64{stats.Retries + "connection_reset": 2, stats.RetriesExhausted: 1})
	})

	t.Run("shorter than the body", func(t *testing.T) {
		hits, u := lie("5", "hello, and bytes nobody asked for")
		d, _, _ := fakeDownloader(t, downloader.Config{})
		resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: u + "/lie"})
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if string(resp.Body) != "hello" || resp.Truncated {
			t.Errorf("Body: got %q (truncated %v), want the 5 bytes promised", resp.Body, resp.Truncated)
		}
		// The bytes after the promised length must not be read as the
		// next response.
		resp, err = d.Fetch(testCtx(t), &downloader.Request{URL: u + "/honest"})
		if err != nil {
			t.Fatalf("next Fetch: %v", err)
		}
		if string(resp.Body) != "honest" {
			t.Errorf("next Fetch: got %q, want honest", resp.Body)
		}
		if n := hits.get("/lie"); n != 1 {
			t.Errorf("requests: got %d, want 1", n)
		}
	})
}

// Bytes a server sends after an answer, on a connection kept for the next
// request, are read as the answer to that request: it fails, and is tried
// again at once on a new connection.
func TestGarbageOnKeptConnection(t *testing.T) {
	var first atomic.Bool
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !first.CompareAndSwap(false, true) {
			io.WriteString(w, "fresh")
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
		buf.Flush()
		// Wait for the next request on this connection, then answer it
		// with the rest of a body longer than its Content-Length said.
		if _, err := http.ReadRequest(buf.Reader); err != nil {
			return // the client closed the connection instead: fine too
		}
		buf.WriteString(" and the rest of a body longer than promised")
		buf.Flush()
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	d, clock, st := fakeDownloader(t, downloader.Config{})
	for _, want := range []string{"hello", "fresh"} {
		resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if string(resp.Body) != want {
			t.Errorf("Body: got %q, want %q", resp.Body, want)
		}
	}
	if n := st.Get(stats.Retries + "stale_connection"); n != 1 || conns.Load() != 2 {
		t.Errorf("got %d stale_connection retries over %d connections, want 1 over 2", n, conns.Load())
	}
	if w := clock.Waits(); len(w) != 1 || w[0] != 0 {
		t.Errorf("waits: got %v, want one of 0", w)
	}
}

// Real bytes of each encoding.
const (
	shiftJIS    = "\x93\xfa\x96{\x8c\xea\x82\xcc\x83y\x81[\x83W" // 日本語のページ
	windows1251 = "\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0"       // Привет, мир
	latin1      = "Caf\xe9 Ol\xe9, na\xefve"                     // Café Olé, naïve
)

func TestCharsets(t *testing.T) {
	longASCII := strings.Repeat("<p>plain ascii text</p>\n", 60) // past the 1024 bytes sniffed
	tests := []struct {
		name        string
		contentType string
		body        string
		want        string
		wantCharset string
		wantType    string // Content-Type after decoding
	}{
		{
			"Shift_JIS from the Content-Type", "text/html; charset=Shift_JIS",
			"<html><title>" + shiftJIS + "</title></html>",
			"<html><title>日本語のページ</title></html>", "shift_jis", "text/html; charset=utf-8",
		},
		{
			"windows-1251 from <meta charset>", "text/html",
			`<html><head><meta charset="windows-1251"><title>` + windows1251 + `</title>`,
			`<html><head><meta charset="windows-1251"><title>Привет, мир</title>`, "windows-1251", "text/html; charset=utf-8",
		},
		{
			"ISO-8859-1 from <meta http-equiv>", "text/html",
			`<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><h1>` + latin1 + `</h1>`,
			`<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><h1>Café Olé, naïve</h1>`,
			"windows-1252", "text/html; charset=utf-8", // as WHATWG and browsers read ISO-8859-1
		},
		{
			"the header wins over <meta>", "text/html; charset=windows-1251",
			`<meta charset="shift_jis"><p>` + windows1251, `<meta charset="shift_jis"><p>Привет, мир`, "windows-1251", "text/html; charset=utf-8",
		},
		{
			"a BOM wins over the header", "text/html; charset=iso-8859-1",
			"\xef\xbb\xbf<p>café</p>", "<p>café</p>", "utf-8", "text/html; charset=utf-8",
		},
		{
			"UTF-16LE with a BOM", "text/html",
			"\xff\xfe<\x00p\x00>\x00h\x00\xe9\x00", "<p>hé", "utf-16le", "text/html; charset=utf-8",
		},
		{
			"undeclared UTF-8 past the bytes sniffed", "text/html",
			longASCII + "<p>日本</p>", longASCII + "<p>日本</p>", "utf-8", "text/html",
		},
		{
			"undeclared and not UTF-8: windows-1252", "text/html",
			"<p>" + latin1 + "</p>", "<p>Café Olé, naïve</p>", "windows-1252", "text/html; charset=utf-8",
		},
		{
			"UTF-8 declared", "text/html; charset=utf-8",
			"<p>日本</p>", "<p>日本</p>", "utf-8", "text/html; charset=utf-8",
		},
		{
			"other Content-Type parameters kept", "text/html; charset=koi8-r; level=1",
			"<p>\xf0\xd2\xc9\xd7\xc5\xd4</p>", "<p>Привет</p>", "koi8-r", "text/html; charset=utf-8; level=1",
		},
		{
			"XHTML", "application/xhtml+xml; charset=windows-1251",
			"<p>" + windows1251 + "</p>", "<p>Привет, мир</p>", "windows-1251", "application/xhtml+xml; charset=utf-8",
		},
		{
			"not HTML: left alone", "text/plain; charset=iso-8859-1",
			latin1, latin1, "", "text/plain; charset=iso-8859-1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				io.WriteString(w, tt.body)
			}))
			d, _, st := fakeDownloader(t, downloader.Config{})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if string(resp.Body) != tt.want {
				t.Errorf("Body:\n got %q\nwant %q", resp.Body, tt.want)
			}
			if resp.Charset != tt.wantCharset {
				t.Errorf("Charset: got %q, want %q", resp.Charset, tt.wantCharset)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type: got %q, want %q", got, tt.wantType)
			}
			var wantCount int64
			if tt.wantCharset != "" && tt.wantCharset != "utf-8" {
				wantCount = 1
			}
			wantStats(t, st, map[string]int64{stats.Charset + tt.wantCharset: wantCount})
		})
	}
}

// A local file is decoded as a page from a server without a charset would
// be: the charset mime guesses from ".html" is no evidence.
func TestCharsetFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "saved.html")
	if err := os.WriteFile(p, []byte(`<meta charset="shift_jis"><title>`+shiftJIS+`</title>`), 0o600); err != nil {
		t.Fatal(err)
	}
	d, _, _ := fakeDownloader(t, downloader.Config{})
	resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: fileURL(p)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `<meta charset="shift_jis"><title>日本語のページ</title>`; string(resp.Body) != want {
		t.Errorf("Body: got %q, want %q", resp.Body, want)
	}
	if resp.Charset != "shift_jis" || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("Charset %q, Content-Type %q: want shift_jis, text/html; charset=utf-8", resp.Charset, resp.Header.Get("Content-Type"))
	}
}

// Bytes that are not UTF-8 in a UTF-8 page become U+FFFD, one for each bad
// sequence as the WHATWG decoder has it, and the page is counted.
func TestInvalidUTF8(t *testing.T) {
	const bad = "Caf\xe9 \xff\xfe \xed\xa0\x80 \xc0\xaf \xe2\x82 ok"
	const fixed = "Caf\uFFFD \uFFFD\uFFFD \uFFFD\uFFFD\uFFFD \uFFFD\uFFFD \uFFFD ok"
	tests := []struct {
		name        string
		contentType string
		body        string
		want        string
		wantInvalid int64
		wantCharset string
	}{
		{"declared in the header", "text/html; charset=utf-8", "<p>" + bad, "<p>" + fixed, 1, "utf-8"},
		{"declared in <meta>", "text/html", `<meta charset="utf-8"><p>` + bad, `<meta charset="utf-8"><p>` + fixed, 1, "utf-8"},
		{"after a BOM", "text/html", "\xef\xbb\xbf<p>" + bad, "<p>" + fixed, 1, "utf-8"},
		{"valid", "text/html; charset=utf-8", "<p>Café ok", "<p>Café ok", 0, "utf-8"},
		{"undeclared: windows-1252", "text/html", "<p>Caf\xe9", "<p>Café", 0, "windows-1252"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				io.WriteString(w, tt.body)
			}))
			d, _, st := fakeDownloader(t, downloader.Config{})
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if string(resp.Body) != tt.want || !utf8.Valid(resp.Body) {
				t.Errorf("Body:\n got %q\nwant %q", resp.Body, tt.want)
			}
			if resp.Charset != tt.wantCharset {
				t.Errorf("Charset: got %q, want %q", resp.Charset, tt.wantCharset)
			}
			wantStats(t, st, map[string]int64{downloader.InvalidUTF8: tt.wantInvalid})
		})
	}
}
