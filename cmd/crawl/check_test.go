package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite the .golden files of cmd/crawl/testdata")

// golden compares got with the golden file testdata/<name>, or rewrites it
// with -update-golden.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update-golden to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestCheckValid(t *testing.T) {
	r := runCrawl(t, nil, "check", "../../examples/books-detail-offline.yaml")
	if r.code != 0 || r.stdout != "ok: 1 item rule, 2 follow rules\n" || r.stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and the summary", r.code, r.stdout, r.stderr)
	}
}

// TestCheckProblems checks that every problem of a spider file, settings
// included, is listed at once with its file and line, and the exit status
// is 2.
func TestCheckProblems(t *testing.T) {
	for _, name := range []string{"bad_spec", "bad_settings", "spec_and_settings"} {
		t.Run(name, func(t *testing.T) {
			r := runCrawl(t, nil, "check", "testdata/check/"+name+".yaml")
			if r.code != 2 || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", r.code, r.stdout)
			}
			golden(t, "check/"+name+".golden", r.stderr)
		})
	}
	t.Run("no such file", func(t *testing.T) {
		r := runCrawl(t, nil, "check", "testdata/check/nope.yaml")
		if r.code != 2 || !strings.Contains(r.stderr, "nope.yaml: no such file") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("arguments", func(t *testing.T) {
		r := runCrawl(t, nil, "check")
		if r.code != 2 || !strings.Contains(r.stderr, "check takes one spider file") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestContracts runs the tests of a spider, against an httptest server and
// a saved page, and checks the report of each failing expectation.
func TestContracts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/list":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<div class="p"><h2>Dune</h2><span>9.50</span></div><div class="p"><h2>Emma</h2></div><a href="/next">next</a>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "saved.html"), []byte(`<div class="p"><h2>Saved</h2><span>1</span></div>`), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := writeSpec(t, dir, `start_urls: ["{{URL}}/list"]
follow: [{css: a}]
items:
  - name: product
    each: div.p
    fields:
      title: h2
      price: {css: span, type: float}
    required: [title]
tests:
  - url: {{URL}}/list
    count: 2
    items: [{title: Dune, price: 9.5}, {title: Emma}]
    links: [/next]
  - page: saved.html
    items: [{title: Saved, price: 1}]
  - url: {{URL}}/list
    count: {min: 3}
    items: [{title: Dune, price: "9.50"}, {title: Emma, price: 1}]
    fields: [price]
    links: [/other]
  - url: {{URL}}/gone
`, srv.URL)

	r := runCrawl(t, nil, "check", "--run", spec)
	if r.code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	out := strings.ReplaceAll(r.stdout, srv.URL, "{{URL}}")
	out = strings.ReplaceAll(out, dir, "{{DIR}}")
	golden(t, "check/contracts.golden", out)
	if want := "crawl: 2 of 4 tests failed\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// offlineExamples are the examples that run with no network, and how many
// items each writes.
var offlineExamples = map[string]int{
	"books-offline.yaml":        8,
	"books-detail-offline.yaml": 8,
	"quotes-offline.yaml":       9,
	"api-offline.yaml":          5,
	"sitemap-offline.yaml":      4,
}

// TestExamples checks every example spider; the offline ones must also
// pass their tests and write the items they promise. The examples that
// name a real site are never run.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	var offline []string
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := runCheck(context.Background(), &checkOptions{specPath: f}, &stdout, &stderr); err != nil {
				t.Fatalf("check: %v\n%s", err, stderr.String())
			}
			n, ok := offlineExamples[name]
			if !ok {
				if !strings.Contains(readFile(t, f), "fetches a real site") {
					t.Errorf("%s names no offline twin and does not say it fetches a real site", name)
				}
				return
			}
			offline = append(offline, name)
			if err := runCheck(context.Background(), &checkOptions{specPath: f, run: true, timeout: 10e9}, &stdout, &stderr); err != nil {
				t.Errorf("check --run: %v\n%s", err, stdout.String())
			}
			r := runCrawl(t, nil, "run", f)
			if r.code != 0 {
				t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
			}
			if got := strings.Count(r.stdout, "\n"); got != n {
				t.Errorf("run wrote %d items, want %d:\n%s", got, n, r.stdout)
			}
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				if !json.Valid([]byte(line)) {
					t.Errorf("not JSON: %s", line)
				}
			}
		})
	}
	sort.Strings(offline)
	if len(offline) != len(offlineExamples) {
		t.Errorf("offline examples found: %q, want the %d of offlineExamples", offline, len(offlineExamples))
	}
}

// TestRunJSONAPI crawls a paginated JSON API with crawl run: the items of
// each page, the next page from "next", and POSTed detail requests.
func TestRunJSONAPI(t *testing.T) {
	var (
		mu    sync.Mutex
		posts []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.RequestURI() {
		case "/robots.txt":
			http.NotFound(w, r)
			return
		case "/api?page=1":
			io.WriteString(w, `{"data": [{"id": 1, "name": "a", "detail": "/detail/1"}, {"id": 2, "name": "b", "detail": "/detail/2"}], "links": {"next": "/api?page=2"}}`)
		case "/api?page=2":
			io.WriteString(w, `{"data": [{"id": 3, "name": "c", "detail": "/detail/3"}], "links": {"next": null}}`)
		default:
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			posts = append(posts, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
			mu.Unlock()
			io.WriteString(w, `{"id": "`+strings.TrimPrefix(r.URL.Path, "/detail/")+`", "ok": true}`)
		}
	}))
	defer srv.Close()
	spec := writeSpec(t, t.TempDir(), `start_urls: ["{{URL}}/api?page=1"]
follow:
  - json: links.next
  - json: "data[*].detail"
    body: {fields: all}
    callback: detail
items:
  - name: row
    each: {json: data}
    fields: {id: id, name: name}
  - name: detail
    fields: {id: {json: id, type: int}, ok: ok}
    unique: [id]
`, srv.URL)
	r := runCrawl(t, nil, "run", spec, "--workers", "2")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	sort.Strings(lines)
	want := []string{
		`{"id":1,"name":"a"}`, `{"id":1,"ok":true}`, `{"id":2,"name":"b"}`, `{"id":2,"ok":true}`,
		`{"id":3,"name":"c"}`, `{"id":3,"ok":true}`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	sort.Strings(posts)
	if len(posts) != 3 || posts[0] != "POST /detail/1 application/x-www-form-urlencoded fields=all" {
		t.Errorf("detail requests: %q", posts)
	}
}
