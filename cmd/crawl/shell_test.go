package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShellCommand drives crawl shell through -c with every form a field
// takes, on a page from a server and on saved HTML and JSON files.
func TestShellCommand(t *testing.T) {
	srv := fetchSite(t)
	page, api := srv.URL+"/shop/", srv.URL+"/shop.json"
	html, js := "testdata/shell/shop.html", "testdata/shell/shop.json"
	abs, _ := filepath.Abs(html)
	tests := []struct {
		name   string
		target string
		expr   string
		code   int
		stdout string
		stderr string // in stderr
	}{
		{"css text", page, "h1::text", 0, "Books & more\n", ""},
		{"css in a file", html, "h1::text", 0, "Books & more\n", ""},
		{"all, one per line", page, "{css: li h3, all: true}", 0, "Dune\nEmma\n", ""},
		{"join", page, "{css: li h3, join: ', '}", 0, "Dune, Emma\n", ""},
		{"xpath and regex", page, `{xpath: '//p[@class="price"]', regex: '[\d.]+'}`, 0, "9.50\n", ""},
		{"type", page, `{css: .price, regex: '[\d.]+', type: float}`, 0, "9.5\n", ""},
		{"named groups", page, `{css: .price, regex: '(?P<currency>\D+)(?P<amount>[\d.]+)'}`, 0, "currency: £\namount: 9.50\n", ""},
		{"absolute", page, "{css: 'li a::attr(href)', all: true, absolute: true}", 0, srv.URL + "/book/1\n" + srv.URL + "/book/2\n", ""},
		{"fallbacks", page, "[h2, h1]", 0, "Books & more\n", ""},
		{"default", page, "{css: h2, default: none}", 0, "none\n", ""},
		{"page URL", html, `"@url"`, 0, "file://" + filepath.ToSlash(abs) + "\n", ""},
		{"sub-items", page, "{each: li, fields: {title: h3}}", 0, "{\"title\":\"Dune\"}\n{\"title\":\"Emma\"}\n", ""},
		{"json path", api, "name", 0, "Shop\n", ""},
		{"json path in a file", js, "items[1].title", 0, "Emma\n", ""},
		{"json all", js, "{json: 'items[*].id', all: true}", 0, "1\n2\n", ""},
		{"json object", api, "items[0]", 0, "{\"id\":1,\"title\":\"Dune\"}\n", ""},
		{"follow", page, "follow a.next", 0, srv.URL + "/shop/page/2?b=2&a=1\n", ""},
		{"follow a mapping", page, "follow {css: li a, deny: '/2$'}", 0, srv.URL + "/book/1\n", "not followed (denied): " + srv.URL + "/book/2"},
		{"headers", srv.URL + "/latin1", "headers", 0, "200 OK\nContent-Length: 11\nContent-Type: text/html; charset=utf-8\nDate: ", ""},
		{"follow in JSON", api, "follow next", 0, srv.URL + "/api?page=2\n", ""},
		{"--json", srv.URL + "/plain.json", "--json\x00name", 0, "Shop\n", ""},
		{"read as HTML without --json", srv.URL + "/plain.json", "name", 1, "", "nothing matched"},

		{"nothing matched", page, "h2", 1, "", "crawl: nothing matched"},
		{"no link", page, "follow a.prev", 1, "", "crawl: nothing matched: no link to follow"},
		{"comment", page, "#price", 2, "", "quote the selector, as in a spider file: '#price'"},
		{"bad regex", page, "{css: h1, regex: '('}", 2, "", "crawl: expression.regex: invalid regex"},
		{"misspelt key", page, "{css: h1, alll: true}", 2, "", `unknown key "alll" (did you mean "all"?)`},
		{"css on JSON", api, "{css: h1}", 2, "", "css selects in HTML, and the page is read as JSON"},
		{"bad follow", page, "follow {css: a, alow: x}", 2, "", `unknown key "alow" (did you mean "allow"?)`},
		{"not a type", page, "{css: h1, type: int}", 1, "", `"Books & more" is not an int`},
		{"fetch in -c", page, "fetch /", 2, "", "-c runs an expression, a follow or headers, not fetch"},
		{"page not fetched", srv.URL + "/private", "h1", 1, "", "denied by robots.txt"},
		{"an error page", srv.URL + "/missing", "body", 0, "not here\n", "crawl: warning: the page answered 404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"shell", tt.target}
			if flag, expr, ok := strings.Cut(tt.expr, "\x00"); ok {
				args, tt.expr = append(args, flag), expr
			}
			r := runCrawl(t, nil, append(args, "-c", tt.expr)...)
			stdout := r.stdout
			if strings.HasSuffix(tt.stdout, "Date: ") {
				stdout, _, _ = strings.Cut(stdout, "Date: ")
				stdout += "Date: "
			}
			if r.code != tt.code || stdout != tt.stdout || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d, %q and %q", tt.expr, r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}
}

// TestShellScript runs lines read from a pipe: each value printed, and
// problems noted without ending the shell.
func TestShellScript(t *testing.T) {
	srv := fetchSite(t)
	in := strings.NewReader("h1::text\n{css: h1, regex: '('}\n\nfetch page/2\n\"@url\"\nfetch " + srv.URL + "/shop.json\nname\nquit\nh1\n")
	r := runCrawl(t, in, "shell", srv.URL+"/shop/")
	want := "Books & more\n" + srv.URL + "/shop/page/2\nShop\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout %q; want 0 and %q\nstderr:\n%s", r.code, r.stdout, want, r.stderr)
	}
	for _, note := range []string{"200, text/html, ", "read as HTML", "expression.regex: invalid regex", "read as JSON"} {
		if !strings.Contains(r.stderr, note) {
			t.Errorf("stderr lacks %q:\n%s", note, r.stderr)
		}
	}
}

// TestShellView checks that view hands the page, with a <base> for its
// links, to the command in BROWSER, and says so when there is none.
func TestShellView(t *testing.T) {
	srv := fetchSite(t)
	dir := t.TempDir()
	got := filepath.Join(dir, "got.html")
	script := filepath.Join(dir, "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncp \"$1\" "+got+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := command("shell", srv.URL+"/shop/")
	cmd.Env = append(cmd.Env, "BROWSER=no-such-browser:"+script)
	cmd.Stdin = strings.NewReader("view\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	page := readFile(t, got)
	if !strings.Contains(page, `<head><base href="`+srv.URL+`/shop/"><title>Shop</title>`) {
		t.Errorf("the browser got no <base> for the page:\n%s", page)
	}
	if !strings.Contains(stderr.String(), "opened ") {
		t.Errorf("view said nothing of what it did:\n%s", stderr.String())
	}

	cmd = command("shell", srv.URL+"/shop/")
	cmd.Env = append(cmd.Env, "BROWSER=", "PATH="+dir+"/empty")
	cmd.Stdin = strings.NewReader("view\n")
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "no browser found (set BROWSER): the page is in ") {
		t.Errorf("no word of the missing browser:\n%s", stderr.String())
	}
}
