package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listenAt listens on addr, such as "127.0.0.2:0" (all of 127/8 is
// loopback), and returns the listener and its base URL, so that handlers
// can be written knowing the URLs of every server before any starts.
func listenAt(t *testing.T, addr string) (net.Listener, string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	return l, "http://" + l.Addr().String()
}

// serve serves h on l until the test ends.
func serve(t *testing.T, l net.Listener, h http.Handler) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
}

// pagesHandler serves pages by path: robots.txt as a 404, /to?u=URL as a
// redirect to URL, a path in pages as that HTML, and counts every request.
func pagesHandler(seen *paths, pages map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.add(r.URL.Path)
		switch page, ok := pages[r.URL.Path]; {
		case r.URL.Path == "/to":
			http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
		case ok:
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, page)
		default:
			http.NotFound(w, r)
		}
	})
}

// itemTitles returns the sorted titles of the JSON Lines items in out.
func itemTitles(t *testing.T, out string) []string {
	t.Helper()
	var got []string
	for _, it := range readJSONL(t, out) {
		got = append(got, fmt.Sprint(it["title"]))
	}
	slices.Sort(got)
	return got
}

const titleSpec = `start_urls: ["{{URL}}"]
follow: [{css: a}]
items: [{fields: {title: "h1::text"}}]
`

// TestDenyPrivate crawls a "public" site on 127.0.0.2 whose home page leads
// to a "private" site on 127.0.0.1 by a link, by a link naming localhost
// (resolved here, to the private address: the address dialled is what is
// checked), and by a redirect. --private-nets makes only 127.0.0.1 (and
// ::1) private, since a test can only use loopback.
func TestDenyPrivate(t *testing.T) {
	pubL, pub := listenAt(t, "127.0.0.2:0")
	privL, priv := listenAt(t, "127.0.0.1:0")
	_, privPort, _ := net.SplitHostPort(privL.Addr().String())
	pubSeen, privSeen := new(paths), new(paths)
	serve(t, pubL, pagesHandler(pubSeen, map[string]string{
		"/": `<h1>public home</h1><a href="/about">about</a>
			<a href="` + priv + `/secret1">by address</a>
			<a href="http://localhost:` + privPort + `/secret2">by name</a>
			<a href="/to?u=` + priv + `/secret3">by redirect</a>`,
		"/about": `<h1>public about</h1>`,
	}))
	serve(t, privL, pagesHandler(privSeen, map[string]string{
		"/":        `<h1>private home</h1><a href="/inner">inner</a><a href="` + pub + `/">public</a>`,
		"/inner":   `<h1>private inner</h1>`,
		"/secret1": `<h1>secret1</h1>`,
		"/secret2": `<h1>secret2</h1>`,
		"/secret3": `<h1>secret3</h1>`,
	}))
	testNets := []string{"--private-nets", "127.0.0.1/32,::1/128"}
	tests := []struct {
		name        string
		start       string
		args        []string
		wantTitles  []string
		wantRefused int64 // errors/private_address
	}{
		{"public start", pub + "/", testNets,
			[]string{"public about", "public home"}, 3},
		{"public start, off", pub + "/", append([]string{"--deny-private=false"}, testNets...),
			[]string{"public about", "public home", "secret1", "secret2", "secret3"}, 0},
		{"private start", priv + "/", testNets,
			[]string{"private home", "private inner", "public about", "public home"}, 3},
		// Without --private-nets both sites are on loopback, private:
		// a crawl of one's own network follows its links there.
		{"all private", pub + "/", nil,
			[]string{"public about", "public home", "secret1", "secret2", "secret3"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pubSeen.reset()
			privSeen.reset()
			dir := t.TempDir()
			spec := writeSpec(t, dir, titleSpec, tt.start)
			statsPath := filepath.Join(dir, "stats.json")
			r := runCrawl(t, nil, append([]string{"run", spec, "--stats", statsPath}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if got := itemTitles(t, r.stdout); !slices.Equal(got, tt.wantTitles) {
				t.Errorf("items %q, want %q", got, tt.wantTitles)
			}
			if got := counters(t, statsPath)["errors/private_address"]; got != tt.wantRefused {
				t.Errorf("stats errors/private_address: got %d, want %d", got, tt.wantRefused)
			}
			if got := strings.Count(r.stderr, "kind=private_address"); int64(got) != tt.wantRefused {
				t.Errorf("%d log lines for refused requests, want %d:\n%s", got, tt.wantRefused, r.stderr)
			}
			secrets := privSeen.get("/secret1") + privSeen.get("/secret2") + privSeen.get("/secret3")
			if tt.wantRefused > 0 && secrets != 0 {
				t.Errorf("the private site served %d secret pages", secrets)
			}
			if tt.wantRefused == 0 && secrets != 3 {
				t.Errorf("the private site served %d secret pages, want 3", secrets)
			}
		})
	}
}

// TestWebPagesCannotReachFiles crawls an http site whose pages lead to a
// local file by a link, by a link relative to a <base> that names a file:
// URL, and by a redirect: none may make the crawler read the file.
func TestWebPagesCannotReachFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.html")
	if err := os.WriteFile(secret, []byte("<h1>FILE SECRET</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	fileURL := "file://" + filepath.ToSlash(secret)
	l, base := listenAt(t, "127.0.0.1:0")
	seen := new(paths)
	serve(t, l, pagesHandler(seen, map[string]string{
		"/":      `<h1>home</h1><a href="` + fileURL + `">link</a><a href="/to?u=` + fileURL + `">redirect</a><a href="/based">based</a>`,
		"/based": `<base href="file://` + filepath.ToSlash(dir) + `/"><h1>based</h1><a href="secret.html">relative</a>`,
	}))
	spec := writeSpec(t, dir, titleSpec, base+"/")
	statsPath := filepath.Join(dir, "stats.json")
	r := runCrawl(t, nil, "run", spec, "--stats", statsPath)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if got, want := itemTitles(t, r.stdout), []string{"based", "home"}; !slices.Equal(got, want) {
		t.Errorf("items %q, want %q", got, want)
	}
	c := counters(t, statsPath)
	if c["links/skipped/scheme"] != 2 || c["errors/redirect"] != 1 {
		t.Errorf("stats: links/skipped/scheme %d, errors/redirect %d; want 2 and 1", c["links/skipped/scheme"], c["errors/redirect"])
	}
	if seen.get("/to") != 1 {
		t.Errorf("the redirect was requested %d times, want 1", seen.get("/to"))
	}
}

// TestRedirectsStayInAllowedDomains crawls a site in allowed_domains whose
// home page leads to another host by a link and by a redirect: the other
// host must see no request at all, robots.txt included.
func TestRedirectsStayInAllowedDomains(t *testing.T) {
	inL, in := listenAt(t, "127.0.0.1:0")
	outL, out := listenAt(t, "127.0.0.2:0")
	inSeen, outSeen := new(paths), new(paths)
	serve(t, inL, pagesHandler(inSeen, map[string]string{
		"/": `<h1>home</h1><a href="` + out + `/page">link</a><a href="/to?u=` + out + `/page2">redirect</a>`,
	}))
	serve(t, outL, pagesHandler(outSeen, map[string]string{"/page": "<h1>off</h1>", "/page2": "<h1>off2</h1>"}))
	dir := t.TempDir()
	spec := writeSpec(t, dir, "allowed_domains: [127.0.0.1]\n"+titleSpec, in+"/")
	statsPath := filepath.Join(dir, "stats.json")
	r := runCrawl(t, nil, "run", spec, "--stats", statsPath)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if got, want := itemTitles(t, r.stdout), []string{"home"}; !slices.Equal(got, want) {
		t.Errorf("items %q, want %q", got, want)
	}
	c := counters(t, statsPath)
	if c["links/skipped/offsite"] != 1 || c["errors/redirect"] != 1 {
		t.Errorf("stats: links/skipped/offsite %d, errors/redirect %d; want 1 and 1", c["links/skipped/offsite"], c["errors/redirect"])
	}
	if inSeen.get("/to") != 1 {
		t.Errorf("the redirect was requested %d times, want 1", inSeen.get("/to"))
	}
	outSeen.mu.Lock()
	defer outSeen.mu.Unlock()
	if len(outSeen.m) != 0 {
		t.Errorf("the host outside allowed_domains saw %v", outSeen.m)
	}
}
