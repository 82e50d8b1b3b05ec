package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parseSite serves one page of each kind the parse command shows.
func parseSite(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/list":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, `<html><body>
<article><h2><a href="/book/1">Dune</a></h2><p class="price">£9.50</p></article>
<article><h2><a href="/book/2">Emma</a></h2><p class="price">n/a</p></article>
<article><h2><a href="/category/sf">SF</a></h2></article>
<form action="/search"></form>
<ul class="pager"><li class="next"><a href="/list?page=2">next</a></li></ul>
<footer><a href="https://elsewhere.example/">elsewhere</a> <a href="mailto:x@example.com">mail</a>
<a href="/login" rel="nofollow">log in</a> <a href="/book/1">Dune again</a></footer>
</body></html>`)
		case "/api":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"results": [{"id": 1, "tags": ["a", "b"]}, {"id": 2, "tags": []}], "next": "/api?page=2"}`)
		case "/sitemap.xml.gz":
			w.Header().Set("Content-Type", "application/gzip")
			zw := gzip.NewWriter(w)
			io.WriteString(zw, `<urlset><url><loc>/book/3</loc><lastmod>2024-02-01</lastmod></url><url><loc>/about</loc></url></urlset>`)
			zw.Close()
		case "/image":
			w.Header().Set("Content-Type", "image/png")
			io.WriteString(w, "PNG")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

const parseSpec = `start_urls: ["{{URL}}/list"]
sitemap_urls: ["{{URL}}/sitemap.xml.gz"]
sitemap_rules: [{allow: '/book/', callback: book}]
respect_nofollow: true
allowed_domains: [127.0.0.1]
follow:
  - css: "li.next a"
  - css: "article h2 a"
    deny: '/category/'
    callback: book
  - css: "form::attr(action)"
    body: {q: dune}
  - css: "footer a"
  - json: next
items:
  - name: listing
    urls: '/list'
    each: article
    fields:
      title: h2
      price: {css: p.price, regex: '£?(\S+)', type: float}
    required: [price]
  - name: book
    fields: {title: h1, url: "@url"}
  - name: api
    each: {json: results}
    fields: {id: id, tags: {json: tags, all: true}}
`

func TestParseOutput(t *testing.T) {
	srv := parseSite(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, parseSpec, srv.URL)
	for _, tt := range []struct {
		name, path, rule string
		sitemap          bool
	}{
		{"html", "/list", "", false},
		{"html_rule", "/list", "book", false},
		{"json", "/api", "", false},
		{"sitemap", "/sitemap.xml.gz", "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := &parseOptions{specPath: spec, target: srv.URL + tt.path, rule: tt.rule, sitemap: tt.sitemap, timeout: 10e9}
			if err := o.prepare(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := runParse(context.Background(), o, &out); err != nil {
				t.Fatal(err)
			}
			golden(t, "parse/"+tt.name+".golden", strings.ReplaceAll(out.String(), srv.URL, "{{URL}}"))
		})
	}
}

func TestParseCommand(t *testing.T) {
	srv := parseSite(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, parseSpec, srv.URL)
	page := filepath.Join(dir, "saved.html")
	if err := os.WriteFile(page, []byte(`<h1>Saved</h1>`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout, or stderr when the exit status is not 0
	}{
		{"a local file", []string{spec, page, "--rule", "book"}, 0, `{"title":"Saved","url":"file://`},
		{"a relative file: URL", []string{spec, "file:" + page}, 0, "items (0)"},
		{"not found", []string{spec, srv.URL + "/missing"}, 1, "page not parsed: status 404"},
		{"not readable", []string{spec, srv.URL + "/image"}, 1, "page not parsed: content type image/png"},
		{"no such file", []string{spec, filepath.Join(dir, "nope.html")}, 2, "is not a URL, nor a file"},
		{"unknown rule", []string{spec, page, "--rule", "bok"}, 2, `no item rule "bok" (did you mean "book"?)`},
		{"bad spec", []string{page, page}, 2, "saved.html:1:1: want a mapping"},
		{"arguments", []string{spec}, 2, "parse takes a spider file and a URL or file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCrawl(t, nil, append([]string{"parse"}, tt.args...)...)
			out := r.stdout
			if tt.code != 0 {
				out = r.stderr
			}
			if r.code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
}

func TestTargetURL(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "p.html")
	os.WriteFile(page, nil, 0o644)
	for _, tt := range []struct {
		in, want string
		err      bool
	}{
		{"https://example.com/a", "https://example.com/a", false},
		{"file:///srv/x.html", "file:///srv/x.html", false},
		{page, "file://" + filepath.ToSlash(page), false},
		{"file:" + page, "file://" + filepath.ToSlash(page), false},
		{"http:///nohost", "", true},
		{dir, "", true},
	} {
		got, err := targetURL(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("targetURL(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "books")
	var out bytes.Buffer
	o := &newOptions{}
	if err := o.prepare(path, "https://www.books.example/catalogue/?a=1"); err != nil {
		t.Fatal(err)
	}
	if err := runNew(o, &out); err != nil {
		t.Fatal(err)
	}
	if want := "wrote " + path + ".yaml"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("stdout = %q, want it to start %q", out.String(), want)
	}
	spec := readFile(t, path+".yaml")
	for _, want := range []string{`name: "books"`, `start_urls: ["https://www.books.example/catalogue/?a=1"]`, `allowed_domains: ["books.example"]`} {
		if !strings.Contains(spec, want) {
			t.Errorf("spider lacks %q:\n%s", want, spec)
		}
	}
	// The starter spider is valid as written.
	var stdout, stderr bytes.Buffer
	if err := runCheck(context.Background(), &checkOptions{specPath: path + ".yaml"}, &stdout, &stderr); err != nil {
		t.Errorf("check of the new spider: %v\n%s", err, stderr.String())
	}

	t.Run("never overwrites", func(t *testing.T) {
		before := readFile(t, path+".yaml")
		r := runCrawl(t, nil, "new", path+".yaml", "https://other.example/")
		if r.code != 2 || !strings.Contains(r.stderr, "already exists: not overwriting it") {
			t.Errorf("exit %d, stderr %q; want 2 and a refusal", r.code, r.stderr)
		}
		if readFile(t, path+".yaml") != before {
			t.Error("the file was changed")
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		for _, args := range [][]string{
			{"new", filepath.Join(dir, "x"), "books.example"},
			{"new", filepath.Join(dir, "x"), "ftp://books.example/"},
			{"new", filepath.Join(dir, "x")},
		} {
			r := runCrawl(t, nil, args...)
			if r.code != 2 {
				t.Errorf("%q: exit %d, want 2; stderr %q", args, r.code, r.stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "x.yaml")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a bad invocation wrote a file: %v", err)
		}
	})
}
