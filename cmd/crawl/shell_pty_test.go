package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// screen collects what a child process writes to its terminal.
type screen struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // a value after each write
	seen    int           // where the next expect starts looking
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.buf.Write(p)
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

// expect waits until want appears after what earlier expects found.
func (s *screen) expect(t *testing.T, want string) {
	t.Helper()
	guard := time.NewTimer(30 * time.Second) // a hang guard, not a timing assertion
	defer guard.Stop()
	for {
		s.mu.Lock()
		i := strings.Index(s.buf.String()[s.seen:], want)
		if i >= 0 {
			s.seen += i + len(want)
		}
		all := s.buf.String()
		s.mu.Unlock()
		if i >= 0 {
			return
		}
		select {
		case <-s.changed:
		case <-guard.C:
			t.Fatalf("the terminal never showed %q:\n%q", want, all)
		}
	}
}

// TestShellPrompt types at crawl shell's prompt on a pseudo-terminal:
// expressions, a follow, the history and line editing keys.
func TestShellPrompt(t *testing.T) {
	srv := fetchSite(t)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 200})
	cmd := command("shell", srv.URL+"/shop/")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close() // the child has its own copy
	scr := &screen{changed: make(chan struct{}, 1)}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(scr, ptmx) // until the child exits and the terminal hangs up
	}()
	typeLine := func(s string) {
		if _, err := io.WriteString(ptmx, s); err != nil {
			t.Fatal(err)
		}
	}

	scr.expect(t, "read as HTML")
	scr.expect(t, "crawl> ")
	typeLine("h1::text\r")
	scr.expect(t, "\r\nBooks & more\r\n")
	scr.expect(t, "crawl> ")
	typeLine("{css: li h3, all: true}\r")
	scr.expect(t, "\r\nDune\r\nEmma\r\n")
	scr.expect(t, "crawl> ")
	typeLine("\x1b[A\x1b[A\r") // up twice: h1::text again
	scr.expect(t, "Books & more\r\n")
	scr.expect(t, "crawl> ")
	typeLine("1::text\x01h\r") // Ctrl-A goes to the start of the line
	scr.expect(t, "Books & more\r\n")
	scr.expect(t, "crawl> ")
	typeLine("follow a.next\r")
	scr.expect(t, srv.URL+"/shop/page/2?b=2&a=1")
	scr.expect(t, "crawl> ")
	typeLine("{css: h1, regex: '('}\r")
	scr.expect(t, "expression.regex: invalid regex")
	scr.expect(t, "crawl> ")
	typeLine("quit\r")
	if err := cmd.Wait(); err != nil {
		t.Errorf("crawl shell: %v", err)
	}
	ptmx.Close()
	<-copied
}

// TestShellInterruptFetch presses Ctrl-C while the shell fetches a page
// that never answers: the fetch stops, and the shell goes on with the
// page it had.
func TestShellInterruptFetch(t *testing.T) {
	srv := fetchSite(t)
	arrived := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		arrived <- struct{}{}
		<-r.Context().Done() // until the client gives up
	}))
	t.Cleanup(slow.Close)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd := command("shell", srv.URL+"/shop/", "--retries", "0")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	// Its own session, with the terminal as its controlling terminal, so
	// that Ctrl-C there is a SIGINT to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	scr := &screen{changed: make(chan struct{}, 1)}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(scr, ptmx)
	}()
	scr.expect(t, "crawl> ")
	io.WriteString(ptmx, "fetch "+slow.URL+"/never\r")
	select {
	case <-arrived:
	case <-time.After(30 * time.Second): // a hang guard
		t.Fatal("the request never arrived")
	}
	io.WriteString(ptmx, "\x03")
	scr.expect(t, "interrupted")
	scr.expect(t, "crawl> ")
	io.WriteString(ptmx, "h1::text\r")
	scr.expect(t, "Books & more\r\n")
	scr.expect(t, "crawl> ")
	io.WriteString(ptmx, "\x04") // Ctrl-D
	if err := cmd.Wait(); err != nil {
		t.Errorf("crawl shell: %v", err)
	}
	ptmx.Close()
	<-copied
}

// TestShellTerminate sends SIGTERM to the shell waiting at its prompt: a
// read from a terminal does not end for it, so the shell puts the terminal
// back and dies of the signal.
func TestShellTerminate(t *testing.T) {
	srv := fetchSite(t)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd := command("shell", srv.URL+"/shop/")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	scr := &screen{changed: make(chan struct{}, 1)}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(scr, ptmx)
	}()
	scr.expect(t, "crawl> ")
	guard := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() }) // a hang guard
	defer guard.Stop()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("crawl shell after SIGTERM: %v, want death by the signal", err)
	}
	ptmx.Close()
	<-copied
}
