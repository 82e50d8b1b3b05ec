package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestParseWithoutSpider runs crawl parse on a page with the spider from
// --field, --follow or -c, and with a spider file that has no start URLs.
func TestParseWithoutSpider(t *testing.T) {
	srv := fetchSite(t)
	page, api := srv.URL+"/shop/", srv.URL+"/shop.json"
	dir := t.TempDir()
	noStart := filepath.Join(dir, "nostart.yaml")
	if err := os.WriteFile(noStart, []byte("items: [{fields: {title: h1::text}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stdout, or stderr when the exit status is not 0
	}{
		{"fields and follow", []string{page, "--field", "title=h1::text", "--field", "books={css: li h3, all: true}", "--follow", "a.next", "--follow", "{css: li a, deny: '/2$'}"}, 0, []string{
			"items (1)\n{\"title\":\"Books & more\",\"books\":[\"Dune\",\"Emma\"]}\n",
			"follow (2)\n  follow[0]  " + srv.URL + "/shop/page/2?b=2&a=1\n  follow[1]  " + srv.URL + "/book/1\n",
			"denied  follow[1]  " + srv.URL + "/book/2",
		}},
		{"a JSON page", []string{api, "--field", "name=name", "--field", "ids={json: 'items[*].id', all: true}", "--follow", "next"}, 0, []string{
			"read as   json", "{\"name\":\"Shop\",\"ids\":[1,2]}", "follow[0]  " + srv.URL + "/api?page=2",
		}},
		{"a saved page", []string{"testdata/shell/shop.html", "--field", "title=h1"}, 0, []string{`{"title":"Books & more"}`}},
		{"only follow", []string{page, "--follow", "a.next"}, 0, []string{"follow (1)"}},
		{"the spider as -c", []string{page, "-c", "items: [{each: li, fields: {title: h3}}]\nfollow: [{css: a.next}]"}, 0, []string{
			"items (2)\n{\"title\":\"Dune\"}\n{\"title\":\"Emma\"}\n", "follow (1)",
		}},
		{"a spider without start URLs", []string{noStart, page}, 0, []string{`{"title":"Books & more"}`}},

		{"nothing to parse with", []string{page}, 2, []string{"parse takes a spider file and a URL or file, or a URL or file and --field, --follow or -c"}},
		{"both", []string{noStart, page, "--field", "t=h1"}, 2, []string{"stand in for a spider file: give one or the other"}},
		{"field without a name", []string{page, "--field", "h1::text"}, 2, []string{`--field "h1::text": want NAME=EXPR`}},
		{"field twice", []string{page, "--field", "t=h1", "--field", "t=h2"}, 2, []string{"--field t: given twice"}},
		{"rule", []string{page, "--field", "t=h1", "--rule", "book"}, 2, []string{"--rule names an item rule of a spider file"}},
		{"-c and --field", []string{page, "-c", "items: []", "--field", "t=h1"}, 2, []string{"-c gives the whole spider"}},
		{"-c not a spider", []string{page, "-c", "h1::text"}, 2, []string{"-c: want a spider file's text"}},
		{"-c with a problem", []string{page, "-c", "items: [{fields: {t: {css: h1, regex: '('}}}]"}, 2, []string{"-c:1:39: items[0].fields.t.regex: invalid regex"}},
		{"css on a JSON page", []string{api, "--field", "t={css: h1}"}, 2, []string{"t: css selects in HTML, and the page is read as JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCrawl(t, nil, append([]string{"parse"}, tt.args...)...)
			out := r.stdout
			if tt.code != 0 {
				out = r.stderr
			}
			for _, want := range tt.want {
				if r.code != tt.code || !strings.Contains(out, want) {
					t.Errorf("exit %d, want %d; output lacks %q:\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, want, r.stdout, r.stderr)
				}
			}
		})
	}
}

// TestParseFlagsBeforeRequest checks that a --field that is wrong for any
// page fails before the page is requested.
func TestParseFlagsBeforeRequest(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "<h1>x</h1>")
	}))
	defer srv.Close()
	for _, field := range []string{"t={css: h1, regex: '('}", "t={json: 'a[', all: true}", "t={cs: h1}"} {
		r := runCrawl(t, nil, "parse", srv.URL+"/", "--field", field)
		if r.code != 2 {
			t.Errorf("--field %s: exit %d, want 2; stderr %q", field, r.code, r.stderr)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests for flags that fit no page, want none", n)
	}
}
