package downloader

import (
	"bytes"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"crawl/stats"
)

// FuzzToUTF8 checks that toUTF8's shortcut for bodies declared UTF-8
// changes nothing that the full algorithm would not: the body, the charset
// recorded, the Content-Type and the counts.
func FuzzToUTF8(f *testing.F) {
	for _, ct := range []string{
		"text/html; charset=utf-8", "TEXT/HTML; Charset=UTF-8", "text/html;charset=utf-8", "text/html; charset=\"utf-8\"",
		"text/html; charset=utf8", "text/html; charſet=utf-8", "text/html; charset=utf-8; level=1", "text/html",
		"text/html; charset=iso-8859-1", "application/xhtml+xml; charset=utf-8", "text/html; charset=utf-8;", "text/html; charset=",
		"text/html; charset=utf-8; charset=latin1", "text/html; charset= utf-8", "text/html; charset=\"utf-8 \"",
	} {
		for _, body := range []string{"<p>café</p>", "\xef\xbb\xbf<p>a</p>", "\xff\xfe<\x00p\x00>\x00", "\xfe\xff\x00<", "<p>caf\xe9</p>", ""} {
			f.Add(ct, []byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		run := func(convert func(*Downloader, *Response, string)) (*Response, map[string]int64) {
			st := new(stats.Stats)
			d := &Downloader{st: st}
			resp := &Response{Header: http.Header{"Content-Type": {ct}}, Body: bytes.Clone(body)}
			convert(d, resp, ct)
			return resp, st.Snapshot()
		}
		got, gotStats := run((*Downloader).toUTF8)
		want, wantStats := run((*Downloader).toUTF8Slow)
		if !bytes.Equal(got.Body, want.Body) || got.Charset != want.Charset || got.Header.Get("Content-Type") != want.Header.Get("Content-Type") {
			t.Fatalf("Content-Type %q, body %q: got %q, %q, %q; the full algorithm gives %q, %q, %q", ct, body,
				got.Body, got.Charset, got.Header.Get("Content-Type"), want.Body, want.Charset, want.Header.Get("Content-Type"))
		}
		if !reflect.DeepEqual(gotStats, wantStats) {
			t.Fatalf("Content-Type %q, body %q: counted %v, the full algorithm %v", ct, body, gotStats, wantStats)
		}
	})
}

// FuzzMediaType checks mediaType against what it stands for: the media
// type mime.ParseMediaType finds, or, when the Content-Type does not parse,
// the part before the parameters, lower-cased and trimmed.
func FuzzMediaType(f *testing.F) {
	for _, ct := range []string{"", "text/html", "Text/HTML; Charset=UTF-8", " text/html ;", "text/html; charset", "text/html; a=b; a=c",
		"text", "text/", "te xt/html", "TEXT/\xffHTML", "\u00a0text/html\u2000; x=1", "application/ld+json", "a/b;c=\"", "ſ/ſ"} {
		f.Add(ct)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		want := ""
		if ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil {
				mt, _, _ = strings.Cut(ct, ";")
			}
			want = strings.ToLower(strings.TrimSpace(mt))
		}
		if got := mediaType(ct); got != want {
			t.Fatalf("mediaType(%q) = %q, want %q", ct, got, want)
		}
	})
}
