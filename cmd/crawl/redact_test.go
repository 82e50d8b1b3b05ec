package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fetch http://user:secret@a.test/x: refused", "fetch http://xxxxx@a.test/x: refused"},
		{"https://TOKEN@a.test/ and ftp://u:p@b.test", "https://xxxxx@a.test/ and ftp://xxxxx@b.test"},
		{"http://a.test/path@not-userinfo", "http://a.test/path@not-userinfo"},
		{"no url here: a@b", "no url here: a@b"},
		{"http://user:p@ss@a.test/x@y", "http://xxxxx@a.test/x@y"},
		{`url=http://u:p@a.test/ error="fetch http://v:q@b.test/: x"`, `url=http://xxxxx@a.test/ error="fetch http://xxxxx@b.test/: x"`},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCredentialsNeverLogged crawls URLs with credentials that fail in
// several ways, logging every request: the password and the token must
// appear nowhere on stderr.
func TestCredentialsNeverLogged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		case "/500":
			http.Error(w, "oops", http.StatusInternalServerError)
		default:
			http.Redirect(w, r, "http://other:hunter2@127.0.0.1:1/away", http.StatusFound)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	spec := writeSpec(t, t.TempDir(), `start_urls:
  - "http://alice:s3cret@`+host+`/500"
  - "http://TOKEN123@`+host+`/redirect"
  - "http://bob:pa55@127.0.0.1:1/refused"
  - "http://carol:at@sign99@127.0.0.1:1/refused"
`, "")
	for _, format := range []string{"text", "json"} {
		r := runCrawl(t, nil, "run", spec, "-v", "--retries", "0", "--log-format", format)
		for _, secret := range []string{"s3cret", "TOKEN123", "pa55", "hunter2", "alice", "bob", "carol", "sign99"} {
			if strings.Contains(r.stderr, secret) {
				t.Errorf("%s logs show %q:\n%s", format, secret, r.stderr)
			}
		}
		if !strings.Contains(r.stderr, "xxxxx@") {
			t.Errorf("%s logs show no redacted URL at all (did the requests run?):\n%s", format, r.stderr)
		}
	}
}

// TestCheckRedactsCredentials checks that crawl check, which prints the
// problems of a spider file itself, hides the credentials they quote.
func TestCheckRedactsCredentials(t *testing.T) {
	spec := writeSpec(t, t.TempDir(), "start_urls: [\"htp://alice:pw123@a.test/\"]\nfollow: [{allow: \"([\"}]\n", "")
	r := runCrawl(t, nil, "check", spec)
	if r.code != 2 || !strings.Contains(r.stderr, "htp://xxxxx@a.test/") {
		t.Errorf("exit %d, stderr:\n%s\nwant 2 and the start URL problem, redacted", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "pw123") || strings.Contains(r.stderr, "alice") {
		t.Errorf("crawl check shows the credentials:\n%s", r.stderr)
	}
}
