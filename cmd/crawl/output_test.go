package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

const books = "../../examples/books-offline.yaml"

// bookTitles are the titles the offline example writes, in any order.
var bookTitles = []string{
	"A Light in the Attic", "Café Olé & Friends", "Sapiens", "Sharp Objects",
	"Soumission", "The Dirty Little Secrets", "The Requiem Red", "Tipping the Velvet",
}

func readJSONL(t *testing.T, data string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func readJSONArray(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s is not a JSON array: %v\n%s", path, err, b)
	}
	return out
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s is not CSV: %v", path, err)
	}
	return rows
}

func titles(items []map[string]any) map[string]int {
	n := map[string]int{}
	for _, it := range items {
		n[it["title"].(string)]++
	}
	return n
}

func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := runCrawl(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("crawl %q: exit %d\n%s", args, r.code, r.stderr)
	}
	return r
}

// TestFormats writes the example's items as JSON Lines, a JSON array and
// CSV at once, and reads each back with the standard library.
func TestFormats(t *testing.T) {
	dir := t.TempDir()
	jsonPath, csvPath, anyPath := filepath.Join(dir, "items.json"), filepath.Join(dir, "items.csv"), filepath.Join(dir, "items.out")
	r := mustRun(t, "run", books, "-o", jsonPath, "-o", csvPath, "-o", anyPath+":csv", "-o", "-")

	for name, items := range map[string][]map[string]any{
		"stdout (JSON Lines)": readJSONL(t, r.stdout),
		"items.json":          readJSONArray(t, jsonPath),
	} {
		got := titles(items)
		if len(items) != 8 || len(got) != 8 {
			t.Errorf("%s: %d items, %d titles; want 8 and 8", name, len(items), len(got))
		}
		for _, title := range bookTitles {
			if got[title] != 1 {
				t.Errorf("%s: %q appears %d times", name, title, got[title])
			}
		}
	}
	for _, path := range []string{csvPath, anyPath} {
		rows := readCSV(t, path)
		if want := []string{"title", "price", "rating", "url"}; strings.Join(rows[0], ",") != strings.Join(want, ",") {
			t.Errorf("%s header %q, want %q", path, rows[0], want)
		}
		if len(rows) != 9 {
			t.Errorf("%s has %d rows, want a header and 8 items", path, len(rows))
		}
		found := false
		for _, row := range rows[1:] {
			if row[0] == "Café Olé & Friends" && row[1] == "17.93" && row[2] == "Two" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s lacks the Café Olé row:\n%q", path, rows)
		}
	}
}

// TestCSVColumnsAreTheSpidersFields gives the first item fewer fields than
// the spider declares, and has two item rules: the header still has every
// field of both, in file order.
func TestCSVColumnsAreTheSpidersFields(t *testing.T) {
	srv, _ := pageServer(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, `start_urls: ["{{URL}}/p/1"]
items:
  - name: page
    fields: {title: "h1::text", missing: "h2::text", url: "@url"}
  - name: link
    fields: {first: "a::attr(href)", title: "h1::text"}
`, srv.URL)
	out := filepath.Join(dir, "items.csv")
	mustRun(t, "run", spec, "-o", out)
	rows := readCSV(t, out)
	if got, want := strings.Join(rows[0], ","), "title,missing,url,first"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	if len(rows) != 3 || rows[1][1] != "" || rows[2][3] != "/p/2" {
		t.Errorf("rows %q", rows)
	}
}

func TestCSVListsAndNested(t *testing.T) {
	srv, _ := pageServer(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, "start_urls: [\"{{URL}}/p/3\"]\nitems: [{fields: {title: \"h1::text\", links: {css: \"a::attr(href)\", all: true}}}]\n", srv.URL)
	out := filepath.Join(dir, "items.csv")
	mustRun(t, "run", spec, "-o", out)
	rows := readCSV(t, out)
	if len(rows) != 2 || rows[1][0] != "page 3" || rows[1][1] != "/p/4,/p/5" {
		t.Errorf("rows %q, want the list joined with commas", rows)
	}
}

// TestAppendAndOverwriteKeepFormatsValid appends to JSON and CSV outputs
// and replaces them: each stays valid, with one header.
func TestAppendAndOverwriteKeepFormatsValid(t *testing.T) {
	dir := t.TempDir()
	jsonPath, csvPath := filepath.Join(dir, "items.json"), filepath.Join(dir, "items.csv")
	mustRun(t, "run", books, "-o", jsonPath, "-o", csvPath)
	mustRun(t, "run", books, "-o", jsonPath, "-o", csvPath)
	if n := len(readJSONArray(t, jsonPath)); n != 16 {
		t.Errorf("JSON array after two appends holds %d items, want 16", n)
	}
	if rows := readCSV(t, csvPath); len(rows) != 17 {
		t.Errorf("CSV after two appends has %d rows, want one header and 16 items", len(rows))
	}
	mustRun(t, "run", books, "-O", jsonPath, "-O", csvPath)
	if n := len(readJSONArray(t, jsonPath)); n != 8 {
		t.Errorf("JSON array after -O holds %d items, want 8", n)
	}
	if rows := readCSV(t, csvPath); len(rows) != 9 {
		t.Errorf("CSV after -O has %d rows, want 9", len(rows))
	}

	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, []byte("[]\n"), 0o644)
	mustRun(t, "run", books, "-o", empty)
	if n := len(readJSONArray(t, empty)); n != 8 {
		t.Errorf("appending to [] gave %d items, want 8", n)
	}

	notArray := filepath.Join(dir, "object.json")
	os.WriteFile(notArray, []byte(`{"a": 1}`), 0o644)
	r := runCrawl(t, nil, "run", books, "-o", notArray)
	if r.code != 2 || !strings.Contains(r.stderr, "does not end a JSON array") {
		t.Errorf("appending to a JSON object: exit %d, %q; want 2 and a clear message", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(notArray); string(b) != `{"a": 1}` {
		t.Errorf("the file was changed: %q", b)
	}
}

// TestJSONArrayValidAfterInterrupt interrupts a crawl writing a JSON array:
// the file must still parse.
func TestJSONArrayValidAfterInterrupt(t *testing.T) {
	srv, _ := pageServer(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, pageSpec, srv.URL)
	out := filepath.Join(dir, "items.json")
	cmd := command("run", spec, "-o", out, "--rate", "50")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForLine(t, out) // "[" and the first item
	cmd.Process.Signal(syscall.SIGINT)
	var exitErr *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
		t.Fatalf("exit: %v, want 130", err)
	}
	if items := readJSONArray(t, out); len(items) == 0 {
		t.Error("no items in the array")
	}
}

// TestMaxItemsIsExact stops an endless crawl after exactly N items, with
// many workers racing to produce more.
func TestMaxItemsIsExact(t *testing.T) {
	srv, _ := pageServer(t)
	spec := writeSpec(t, t.TempDir(), pageSpec, srv.URL)
	for _, n := range []string{"1", "7", "50"} {
		r := mustRun(t, "run", spec, "--max-items", n, "--workers", "8")
		if got := strings.Count(r.stdout, "\n"); got != atoi(n) {
			t.Errorf("--max-items %s wrote %d items", n, got)
		}
		if !strings.Contains(r.stderr, "crawl: max_items after") {
			t.Errorf("--max-items %s: summary does not name the reason:\n%s", n, r.stderr)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestWriteFailureStopsTheCrawl writes to /dev/full, which fails every
// write as a full disk does: crawl must stop with an error naming the
// cause and the count written, not carry on dropping items.
func TestWriteFailureStopsTheCrawl(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	srv, hits := pageServer(t)
	spec := writeSpec(t, t.TempDir(), pageSpec, srv.URL)
	r := runCrawl(t, nil, "run", spec, "-o", "/dev/full")
	if r.code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	if !regexp.MustCompile(`crawl: .*no space left on device \(items written before the failure: 0\)`).MatchString(r.stderr) {
		t.Errorf("stderr does not give the cause and the count:\n%s", r.stderr)
	}
	if n := hits.Load(); n > 1000 {
		t.Errorf("the crawl went on for %d requests after the output failed", n)
	}
	if !strings.Contains(r.stderr, "crawl: output_failed after") {
		t.Errorf("summary does not say the output failed:\n%s", r.stderr)
	}
}
