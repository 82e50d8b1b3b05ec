package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestHelperAppender is not a test: run as a child process with
// CRAWL_TEST_APPENDER=FILE, it is a plain program appending lines to FILE
// (O_APPEND, one write a line, as a shell's >> does) until its standard
// input closes, and then prints how many it wrote.
func TestHelperAppender(t *testing.T) {
	path := os.Getenv("CRAWL_TEST_APPENDER")
	if path == "" {
		t.Skip("a child process of TestConcurrentAppenders")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	pad := strings.Repeat("x", 300)
	n := 0
	for {
		select {
		case <-stop:
			f.Close()
			fmt.Println(n)
			return
		default:
		}
		if _, err := fmt.Fprintf(f, "{\"appender\":%d,\"pad\":%q}\n", n, pad); err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// TestConcurrentAppenders has two crawls append JSON Lines to one file
// while a third, plain program appends its own lines in a loop: every line
// of the file must be whole JSON, every item of both crawls and every line
// of the program present exactly once, and both crawls exit 0.
func TestConcurrentAppenders(t *testing.T) {
	srv, _ := pageServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "items.jsonl")
	const perCrawl = 600
	var specs []string
	for i := range 2 {
		sub := filepath.Join(dir, fmt.Sprint(i))
		os.Mkdir(sub, 0o755)
		// Long titles make each flush carry many kilobytes, so that writes
		// that were not whole lines would show.
		specs = append(specs, writeSpec(t, sub, fmt.Sprintf(`start_urls_range: {template: "{{URL}}/p/{n}", from: %d, to: %d}
items: [{fields: {title: "h1::text", url: "@url", body: {css: "body", all: true}}}]
`, i*perCrawl+1, (i+1)*perCrawl), srv.URL))
	}

	appender := exec.Command(os.Args[0], "-test.run=^TestHelperAppender$")
	appender.Env = append(os.Environ(), "CRAWL_TEST_APPENDER="+out)
	stopAppender, err := appender.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var count bytes.Buffer
	appender.Stdout, appender.Stderr = &count, os.Stderr
	if err := appender.Start(); err != nil {
		t.Fatal(err)
	}
	waitForLine(t, out) // the program is appending

	var wg sync.WaitGroup
	results := make([]result, len(specs))
	for i, spec := range specs {
		wg.Go(func() {
			results[i] = runCrawl(t, nil, "run", spec, "-o", out, "--workers", "8", "--log-level", "warn")
		})
	}
	wg.Wait()
	stopAppender.Close()
	if err := appender.Wait(); err != nil {
		t.Fatalf("appender: %v", err)
	}
	appended, err := strconv.Atoi(strings.Fields(count.String())[0])
	if err != nil {
		t.Fatalf("appender printed %q", count.String())
	}
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("crawl %d: exit %d\n%s", i, r.code, r.stderr)
		}
	}

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	titles, lines := map[string]int{}, map[int]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	damaged := 0
	for sc.Scan() {
		var v struct {
			Title    string `json:"title"`
			Appender *int   `json:"appender"`
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			if damaged++; damaged <= 3 {
				t.Errorf("damaged line: %.120q: %v", sc.Text(), err)
			}
			continue
		}
		if v.Appender != nil {
			lines[*v.Appender]++
		} else {
			titles[v.Title]++
		}
	}
	if damaged > 3 {
		t.Errorf("%d damaged lines in all", damaged)
	}
	wrong := 0
	for n := 1; n <= 2*perCrawl; n++ {
		if c := titles[fmt.Sprintf("page %d", n)]; c != 1 {
			if wrong++; wrong <= 3 {
				t.Errorf("item page %d appears %d times, want 1", n, c)
			}
		}
	}
	for n := range appended {
		if lines[n] != 1 {
			if wrong++; wrong <= 6 {
				t.Errorf("the program's line %d appears %d times, want 1", n, lines[n])
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d items or lines missing or repeated in all", wrong)
	}
	t.Logf("%d items and %d lines of the program in one file", len(titles), appended)
}

// TestRefuseFileAnotherCrawlOwns runs a crawl that must be the only writer
// of its file (a JSON array, -O, --state) and starts a second crawl on the
// same file: the second exits 2 at once with one line saying so, and the
// first, stopped with Ctrl-C, leaves a valid file.
func TestRefuseFileAnotherCrawlOwns(t *testing.T) {
	srv, _ := pageServer(t)
	tests := []struct {
		name          string
		file          string
		first, second []string
	}{
		{"json array, then append", "items.json", []string{"-o", "items.json"}, []string{"-o", "items.json"}},
		{"-O, then append", "items.jsonl", []string{"-O", "items.jsonl"}, []string{"-o", "items.jsonl"}},
		{"state, then append", "items.jsonl", []string{"-o", "items.jsonl", "--state", "state"}, []string{"-o", "items.jsonl"}},
		{"append, then json array", "items.json", []string{"-o", "items.json:jsonl"}, []string{"-o", "items.json"}},
		{"append, then state", "items.jsonl", []string{"-o", "items.jsonl"}, []string{"-o", "items.jsonl", "--state", "state"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := writeSpec(t, dir, pageSpec, srv.URL)
			first := command(append([]string{"run", spec, "--rate", "20", "--log-level", "warn"}, tt.first...)...)
			first.Dir = dir
			var firstErr strings.Builder
			first.Stderr = &firstErr
			if err := first.Start(); err != nil {
				t.Fatal(err)
			}
			defer first.Process.Kill()
			waitForLine(t, filepath.Join(dir, tt.file))

			// --max-time: a hang guard, should the second crawl run.
			second := command(append([]string{"run", spec, "--max-time", "5s", "--log-level", "warn"}, tt.second...)...)
			second.Dir = dir
			var stderr strings.Builder
			second.Stderr = &stderr
			second.Run()
			msg := strings.TrimRight(stderr.String(), "\n")
			if code := second.ProcessState.ExitCode(); code != 2 || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "another crawl is writing it") {
				t.Errorf("second crawl: exit %d, stderr %q; want 2 and one line saying another crawl writes the file", code, msg)
			}

			first.Process.Signal(syscall.SIGINT)
			first.Wait()
			if code := first.ProcessState.ExitCode(); code != 130 {
				t.Errorf("first crawl: exit %d, want 130\n%s", code, firstErr.String())
			}
			b, _ := os.ReadFile(filepath.Join(dir, tt.file))
			if tt.first[1] == "items.json" { // the first crawl writes a JSON array
				if !json.Valid(b) {
					t.Errorf("the first crawl's JSON array is not valid:\n%.200s", b)
				}
			} else if len(b) == 0 || b[len(b)-1] != '\n' || bytes.Count(b, []byte("\n")) != len(readJSONL(t, string(b))) {
				t.Errorf("the first crawl's JSON Lines are not whole:\n%.200s", b)
			}
		})
	}
}
