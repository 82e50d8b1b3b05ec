package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// gatedServer serves pageServer's endless site, but holds the page at
// /p/gate until open is closed.
func gatedServer(t *testing.T, gate int, open <-chan struct{}) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		var i int
		fmt.Sscanf(r.URL.Path, "/p/%d", &i)
		if i == gate {
			select {
			case <-open:
			case <-r.Context().Done():
				return
			case <-time.After(time.Minute): // a hang guard, not a timing
			}
		}
		fmt.Fprintf(w, `<html><body><h1>page %d</h1><a href="/p/%d">n</a></body></html>`, i, i+1)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// watchScreen copies the terminal's output into a buffer and closes drawn
// once it shows want. It returns when the terminal hangs up.
func watchScreen(ptmx io.Reader, screen *bytes.Buffer, want string, drawn chan<- struct{}) {
	buf := make([]byte, 4096)
	closed := false
	for {
		n, err := ptmx.Read(buf)
		screen.Write(buf[:n])
		if !closed && bytes.Contains(screen.Bytes(), []byte(want)) {
			close(drawn)
			closed = true
		}
		if err != nil {
			if !closed {
				close(drawn)
			}
			return
		}
	}
}

// TestTerminalItemsAndLiveLine puts stdout and stderr on one terminal:
// every item must start on a clean line, never glued to the live line.
// The site holds a page until the live line is on the screen, so that
// items are written while it is there.
func TestTerminalItemsAndLiveLine(t *testing.T) {
	open := make(chan struct{})
	srv := gatedServer(t, 3, open)
	spec := writeSpec(t, t.TempDir(), "start_urls: [\"{{URL}}/p/0\"]\nfollow: [{css: a}]\nitems: [{fields: {title: \"h1::text\"}}]\n", srv.URL)
	cmd := command("run", spec, "--max-pages", "8", "--workers", "1")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd.Stdout, cmd.Stderr = tty, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var screen bytes.Buffer
	drawn := make(chan struct{})
	copied := make(chan struct{})
	go func() { defer close(copied); watchScreen(ptmx, &screen, " pages/s ", drawn) }()
	<-drawn
	close(open)
	<-copied
	if err := cmd.Wait(); err != nil {
		t.Fatalf("crawl: %v\n%q", err, screen.String())
	}
	out := screen.String()
	if n := strings.Count(out, `{"title":`); n != 8 {
		t.Fatalf("%d items on the terminal, want 8:\n%q", n, out)
	}
	if m := regexp.MustCompile(`[^\n\x1b]{0,20}[^\nK]\{"title"`).FindString(out); m != "" {
		t.Errorf("an item glued to what was before it on the line: %q\nscreen:\n%q", m, out)
	}
	if !strings.Contains(out, "crawl: max_pages") {
		t.Errorf("no summary:\n%q", out)
	}
}

// TestTerminalStdoutPipe runs crawl as in `crawl run s.yaml | jq` with
// stderr a terminal: the reader of the pipe may print to that terminal at
// any moment, so progress is whole log lines and no live line is drawn.
func TestTerminalStdoutPipe(t *testing.T) {
	srv, _ := pageServer(t)
	spec := writeSpec(t, t.TempDir(), pageSpec, srv.URL)
	cmd := command("run", spec, "--rate", "20", "--max-pages", "10", "--progress-interval", "50ms")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	pw.Close()
	items := make(chan []byte)
	go func() { b, _ := io.ReadAll(pr); items <- b }()
	var screen bytes.Buffer
	io.Copy(&screen, ptmx)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("crawl: %v\n%q", err, screen.String())
	}
	if n := bytes.Count(<-items, []byte("\n")); n != 10 {
		t.Errorf("%d items in the pipe, want 10", n)
	}
	out := screen.String()
	if strings.Contains(out, "\x1b[K") {
		t.Errorf("a live line drawn while a pipe reader may write to the terminal:\n%q", out)
	}
	if !strings.Contains(out, "msg=progress") || !strings.Contains(out, "crawl: max_pages") {
		t.Errorf("no progress lines or summary on the terminal:\n%q", out)
	}
}

// TestTerminalLiveLineOnePage holds the second page until the live line
// shows the first: it counts one page and one item in the singular.
func TestTerminalLiveLineOnePage(t *testing.T) {
	open := make(chan struct{})
	srv := gatedServer(t, 1, open)
	spec := writeSpec(t, t.TempDir(), "start_urls: [\"{{URL}}/p/0\"]\nfollow: [{css: a}]\nitems: [{fields: {title: \"h1::text\"}}]\n", srv.URL)
	cmd := command("run", spec, "--max-pages", "2", "--workers", "1", "-o", filepath.Join(t.TempDir(), "items.jsonl"))
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd.Stdout, cmd.Stderr = tty, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var screen bytes.Buffer
	drawn := make(chan struct{})
	copied := make(chan struct{})
	go func() { defer close(copied); watchScreen(ptmx, &screen, "1 page  1 item  ", drawn) }()
	<-drawn
	close(open)
	<-copied
	cmd.Wait()
	if out := screen.String(); !strings.Contains(out, "\x1b[K1 page  1 item  ") || strings.Contains(out, "1 pages") {
		t.Errorf("the live line does not count one page in the singular:\n%q", out)
	}
}

// TestStatusWriterHoldsLineForCutItem writes an item in two pieces, as a
// full output buffer does: the live line must not be drawn between them.
func TestStatusWriterHoldsLineForCutItem(t *testing.T) {
	var screen bytes.Buffer
	s := &statusWriter{w: &screen}
	items := termItems{s, &screen}
	s.setStatus("3 pages")
	io.WriteString(items, "{\"a\":1}\n{\"b\":")
	s.setStatus("4 pages") // a redraw while the item is cut
	io.WriteString(items, "2}\n")
	s.setStatus("")
	want := "\r\x1b[K3 pages" + "\r\x1b[K{\"a\":1}\n{\"b\":" + "2}\n4 pages" + "\r\x1b[K"
	if got := screen.String(); got != want {
		t.Errorf("screen:\ngot  %q\nwant %q", got, want)
	}
}
