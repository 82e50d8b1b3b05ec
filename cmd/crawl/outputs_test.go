package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputFormatRefused gives -o names whose format crawl cannot write,
// or whose ":FORMAT" suffix is empty or unknown: each is exit status 2, one
// line listing the formats, and no file created; a name with a colon that is
// not a format suffix is still written.
func TestOutputFormatRefused(t *testing.T) {
	srv, _ := pageServer(t)
	tests := []struct {
		arg  string // -o argument, relative to a fresh directory
		want string // in the one line on stderr; "" means the run must succeed
		file string // the file the run must write, when it succeeds
	}{
		{"out.xml", `crawl does not write .xml files (formats: jsonl, json or csv)`, ""},
		{"out.csv:", `no format named (want jsonl, json or csv)`, ""},
		{"x.jsonl:yaml", `unknown format "yaml" (want jsonl, json or csv)`, ""},
		{"a:b", `unknown format "b" (want jsonl, json or csv); a file name with a colon takes its format after it, as in a:b:jsonl`, ""},
		{"./a:b.jsonl", "", "a:b.jsonl"},
		{"a:b:jsonl", "", "a:b"},
		{"items.out:csv", "", "items.out"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			dir := t.TempDir()
			spec := writeSpec(t, dir, "start_urls: [\"{{URL}}/p/1\"]\nitems: [{fields: {title: \"h1::text\"}}]\n", srv.URL)
			cmd := command("run", spec, "-o", tt.arg, "--log-level", "warn")
			cmd.Dir = dir
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			entries, _ := os.ReadDir(dir)
			var files []string
			for _, e := range entries {
				if e.Name() != "spider.yaml" {
					files = append(files, e.Name())
				}
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("exit %d, want 0:\n%s", code, stderr.String())
				}
				if len(files) != 1 || files[0] != tt.file {
					t.Errorf("files written %q, want [%q]", files, tt.file)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, tt.file)); !strings.Contains(string(b), "page 1") {
					t.Errorf("%s holds %q, want the item", tt.file, b)
				}
				return
			}
			msg := strings.TrimRight(stderr.String(), "\n")
			if code != 2 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, msg, tt.want)
			}
			if len(files) != 0 {
				t.Errorf("a refused run created %q", files)
			}
		})
	}
}
