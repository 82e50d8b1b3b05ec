package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestFailedStartChangesNothing fails a run at start in each order: an
// output that cannot be opened, is not what its format needs, or is
// locked by another crawl, before or after good outputs, or a --state
// directory that belongs to another output. Every run exits 2 and leaves
// every file byte for byte as it was, and creates none.
func TestFailedStartChangesNothing(t *testing.T) {
	srv, hits := pageServer(t)
	files := map[string]string{
		"good.json":    "[\n{\"title\":\"old\"}\n]\n",
		"good.csv":     "title\nold\n",
		"good.jsonl":   "{\"title\":\"old\"}\n",
		"object.json":  `{"a": 1}`,
		"cut.jsonl":    "{\"title\":\"old\"}\n{\"tit",
		"locked.jsonl": "{\"title\":\"old\"}\n",
	}
	tests := []struct {
		name string
		args []string // file names are relative to the test's directory
		want string
	}{
		{"array, then missing directory", []string{"-o", "good.json", "-o", "missing/x.jsonl"}, "no such file or directory"},
		{"missing directory, then array", []string{"-o", "missing/x.jsonl", "-o", "good.json"}, "no such file or directory"},
		{"new file, then missing directory", []string{"-o", "new.jsonl", "-O", "good.csv", "-o", "missing/x.jsonl"}, "no such file or directory"},
		{"replace, then missing directory", []string{"-O", "good.jsonl", "-O", "good.json", "-O", "missing/x.jsonl"}, "no such file or directory"},
		{"array, then not an array", []string{"-o", "good.json", "-o", "good.csv", "-o", "object.json"}, "does not end a JSON array"},
		{"not an array, then array", []string{"-o", "object.json", "-o", "good.json"}, "does not end a JSON array"},
		{"array, then a cut line", []string{"-o", "good.json", "-o", "cut.jsonl"}, "does not end with a newline"},
		{"array, then locked", []string{"-O", "good.json", "-o", "locked.jsonl"}, "another crawl is writing it"},
		{"locked, then replace", []string{"-o", "locked.jsonl", "-O", "good.csv"}, "another crawl is writing it"},
		{"given twice", []string{"-O", "good.jsonl", "-o", "./good.jsonl"}, "given twice"},
		{"state of another output", []string{"-O", "good.jsonl", "--state", "state"}, "belongs to a crawl with output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := writeSpec(t, dir, "start_urls: [\"{{URL}}/p/1\"]\nitems: [{fields: {title: \"h1::text\"}}]\n", srv.URL)
			other := filepath.Join(dir, "other.jsonl")
			if r := runCrawl(t, nil, "run", spec, "-o", other, "--state", filepath.Join(dir, "state")); r.code != 0 {
				t.Fatalf("a crawl with the state: exit %d\n%s", r.code, r.stderr)
			}
			for name, content := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			lock, err := os.Open(filepath.Join(dir, "locked.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Close()
			if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
				t.Fatal(err) // as a crawl writing a JSON array or with -O holds it
			}
			before := snapshot(t, dir)
			hitsBefore := hits.Load()

			cmd := command(append([]string{"run", spec}, tt.args...)...)
			cmd.Dir = dir
			var stderr strings.Builder
			cmd.Stderr = &stderr
			cmd.Run()
			msg := strings.TrimRight(stderr.String(), "\n")
			if code := cmd.ProcessState.ExitCode(); code != 2 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, msg, tt.want)
			}
			after := snapshot(t, dir)
			for name, b := range before {
				if after[name] != b {
					t.Errorf("%s changed:\n%q\nbecame\n%q", name, b, after[name])
				}
			}
			for name := range after {
				if _, ok := before[name]; !ok {
					t.Errorf("the failed run created %s", name)
				}
			}
			if n := hits.Load() - hitsBefore; n != 0 {
				t.Errorf("the failed run sent %d requests", n)
			}
		})
	}
}

// snapshot returns the content of every regular file under dir, but the
// --state store's, by path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if strings.HasPrefix(rel, "state") {
			return nil
		}
		b, err := os.ReadFile(path)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
