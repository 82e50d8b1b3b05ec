package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"crawl/stats"
)

// wholeItems counts the items in an output of the given format, failing
// on any line that is not a whole item.
func wholeItems(t *testing.T, format string, b []byte) int64 {
	t.Helper()
	lines := strings.Split(string(b), "\n")
	if last := lines[len(lines)-1]; last != "" {
		t.Errorf("the output ends with a partial line: %.80q", last)
	}
	lines = lines[:len(lines)-1]
	var n int64
	for i, line := range lines {
		switch {
		case format == "csv" && i == 0:
			continue // the header
		case format == "csv":
			if !strings.HasPrefix(line, "page ") {
				t.Errorf("line %d is not a row: %.80q", i+1, line)
			}
			n++
			continue
		case format == "json" && (line == "[" || line == "]"):
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSuffix(line, ",")), &v); err != nil {
			t.Errorf("line %d is not a whole item: %.80q", i+1, line)
			continue
		}
		n++
	}
	return n
}

// TestOutputFillsDisk writes to a file system that fills up: the crawl
// stops with status 1, and the summary's and --stats' count of items
// written is exactly the whole items in the file, which ends with a whole
// line (an item cut short by the full disk is cut back).
func TestOutputFillsDisk(t *testing.T) {
	srv, _ := pageServer(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, `start_urls: ["{{URL}}/p/0"]
follow: [{css: a}]
items: [{fields: {title: "h1::text", url: "@url", pad: {css: "a::attr(href)", all: true}}}]
`, srv.URL)
	for _, format := range []string{"jsonl", "csv", "json"} {
		t.Run(format, func(t *testing.T) {
			fs := smallDisk(t, 96<<10)
			out := filepath.Join(fs, "items."+format)
			statsPath := filepath.Join(dir, format+".stats.json")
			r := runCrawl(t, nil, "run", spec, "-o", out, "--stats", statsPath, "--workers", "4")
			if r.code != 1 || !strings.Contains(r.stderr, "no space left on device") {
				t.Fatalf("exit %d, want 1 and the cause:\n%s", r.code, r.stderr)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			whole := wholeItems(t, format, b)
			var sf statsFile
			sb, err := os.ReadFile(statsPath)
			if err != nil || json.Unmarshal(sb, &sf) != nil {
				t.Fatalf("stats file: %v\n%s", err, sb)
			}
			if got := sf.Counters[stats.ItemsWritten]; got != whole || whole == 0 {
				t.Errorf("--stats counts %d items written, the file holds %d whole ones", got, whole)
			}
			m := regexp.MustCompile(`items written\s+(\d+)`).FindStringSubmatch(r.stderr)
			if m == nil || m[1] != strconv.FormatInt(whole, 10) {
				t.Errorf("summary %q, the file holds %d whole items", m, whole)
			}
			if !strings.Contains(r.stderr, "(items written before the failure: "+strconv.FormatInt(whole, 10)+")") {
				t.Errorf("the error does not give the count %d:\n%s", whole, r.stderr)
			}
			t.Logf("%d whole items; %s", whole, r.stderr[strings.LastIndex(r.stderr[:len(r.stderr)-1], "\n")+1:])
			if format == "json" && !json.Valid(b) && !bytes.HasSuffix(b, []byte("}\n")) {
				t.Errorf("the JSON array ends neither whole nor after an item: %q", b[max(0, len(b)-80):])
			}
		})
	}
}
