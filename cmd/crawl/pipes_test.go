package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// checkItems parses out as format and checks it holds the offline
// example's eight books.
func checkItems(t *testing.T, format string, out []byte) {
	t.Helper()
	var got []map[string]any
	switch format {
	case "json":
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("not a JSON array: %v\n%s", err, out)
		}
	case "csv":
		rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil || len(rows) == 0 || rows[0][0] != "title" {
			t.Fatalf("not CSV with a header: %v\n%s", err, out)
		}
		for _, row := range rows[1:] {
			got = append(got, map[string]any{"title": row[0]})
		}
	default:
		got = readJSONL(t, string(out))
	}
	if n := titles(got); len(got) != 8 || len(n) != 8 {
		t.Errorf("%d items, %d titles; want 8 and 8:\n%s", len(got), len(n), out)
	}
}

// TestOutputToPipes writes to a FIFO, to /dev/stdout when it is a pipe, and
// to a pipe handed down as >(cmd) does (/dev/fd/3): none can seek, each
// gets the items whole in every format.
func TestOutputToPipes(t *testing.T) {
	for _, format := range []string{"jsonl", "json", "csv"} {
		t.Run("fifo "+format, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "items")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			got := make(chan []byte, 1)
			go func() {
				f, err := os.Open(fifo) // waits for the crawl, as the crawl waits for it
				if err != nil {
					got <- nil
					return
				}
				b, _ := io.ReadAll(f)
				f.Close()
				got <- b
			}()
			r := runCrawl(t, nil, "run", books, "-o", fifo+":"+format)
			if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Close() // the crawl never opened it: let the reader go
			}
			out := <-got
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			checkItems(t, format, out)
		})
		t.Run("stdout pipe "+format, func(t *testing.T) {
			r := runCrawl(t, nil, "run", books, "-o", "/dev/stdout:"+format)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			checkItems(t, format, []byte(r.stdout))
		})
		t.Run("process substitution "+format, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(pr)
				got <- b
			}()
			cmd := command("run", books, "-o", "/dev/fd/3:"+format)
			cmd.ExtraFiles = []*os.File{pw}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err = cmd.Run()
			pw.Close()
			out := <-got
			pr.Close()
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			checkItems(t, format, out)
		})
	}
}

// TestStateRefusesPipes gives --state an output that cannot be cut back:
// one line saying it needs a regular file, exit status 2.
func TestStateRefusesPipes(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "items.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"fifo": fifo, "stdout pipe": "/dev/stdout"} {
		t.Run(name, func(t *testing.T) {
			r := runCrawl(t, nil, "run", books, "-o", out, "--state", filepath.Join(dir, "state"))
			msg := strings.TrimRight(r.stderr, "\n")
			if r.code != 2 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "--state needs its output to be a regular file") || !strings.Contains(msg, "is a pipe") {
				t.Errorf("exit %d, stderr %q; want 2 and one line saying why", r.code, msg)
			}
		})
	}
}
