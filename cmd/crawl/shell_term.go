package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/term"
)

// shellPrompt is the prompt of crawl shell on a terminal.
const shellPrompt = "crawl> "

// interact reads lines and runs them until quit or the end of the input.
// On a terminal it shows a prompt and edits lines with history (arrow
// keys, Ctrl-A, Ctrl-E, Ctrl-W and the like, from golang.org/x/term);
// otherwise it runs the lines it reads, without a prompt, as a script.
//
// The shell lives past Ctrl-C: at the prompt the terminal is in raw mode,
// where Ctrl-C ends the shell as Ctrl-D does, and during a fetch or view
// Ctrl-C stops only that. SIGTERM ends it at once.
func (sh *shell) interact(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	ctx = context.WithoutCancel(ctx) // the process's Ctrl-C is the line's, not the shell's
	raw := new(rawMode)
	defer onTerminate(raw.restore)()
	read, tty := sh.lineReader(stdin, stdout, raw)
	for {
		line, err := read()
		switch {
		case err == io.EOF:
			if tty {
				fmt.Fprintln(sh.note) // past the prompt
			}
			return nil
		case err != nil:
			return err
		}
		err = sh.run(ctx, line)
		switch {
		case errors.Is(err, errQuit):
			return nil
		case err != nil:
			fmt.Fprintf(sh.note, "%s\n", redact(err.Error()))
		}
	}
}

// lineReader returns the function that reads the next line, and whether
// it reads from a terminal.
func (sh *shell) lineReader(stdin io.Reader, stdout io.Writer, raw *rawMode) (func() (string, error), bool) {
	in, _ := stdin.(*os.File)
	out, _ := stdout.(*os.File)
	if in == nil || out == nil || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(nil, 1<<20)
		return func() (string, error) {
			if sc.Scan() {
				return sc.Text(), nil
			}
			if err := sc.Err(); err != nil {
				return "", fmt.Errorf("read input: %w", err)
			}
			return "", io.EOF
		}, false
	}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, shellPrompt)
	if w, h, err := term.GetSize(int(out.Fd())); err == nil && w > 0 && h > 0 { // a terminal of no size wraps every character
		t.SetSize(w, h)
	}
	// The terminal is raw only while a line is read: what is printed goes
	// straight out, the terminal turning \n into \r\n.
	return func() (string, error) {
		if err := raw.set(int(in.Fd())); err != nil {
			return "", fmt.Errorf("terminal: %w", err)
		}
		defer raw.restore()
		line, err := t.ReadLine()
		if errors.Is(err, term.ErrPasteIndicator) {
			err = nil // a pasted line is a line
		}
		return line, err
	}, true
}

// rawMode puts a terminal in raw mode and back. It is safe for concurrent
// use: the SIGTERM handler restores the terminal while a line is read.
type rawMode struct {
	mu  sync.Mutex
	fd  int
	old *term.State // nil when the terminal is not raw
}

func (r *rawMode) set(fd int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, err := term.MakeRaw(fd)
	if err != nil {
		return err
	}
	r.fd, r.old = fd, old
	return nil
}

func (r *rawMode) restore() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.old != nil {
		term.Restore(r.fd, r.old)
		r.old = nil
	}
}

// onTerminate makes SIGTERM end the process as it would without a handler,
// after restore has put the terminal back: a read from a terminal cannot
// be interrupted otherwise. It returns the function that stops watching.
func onTerminate(restore func()) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-sigs:
			restore()
			signal.Reset(syscall.SIGTERM)
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		case <-done:
		}
	})
	return func() {
		signal.Stop(sigs)
		close(done)
		wg.Wait()
	}
}

// interruptible returns a context that Ctrl-C (SIGINT) cancels, for one
// fetch or view, leaving the shell to go on, and the function that stops
// watching for it.
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt)
}

// headRE finds where a <base> can go: after <head>.
var headRE = regexp.MustCompile(`(?i)<head(\s[^>]*)?>`)

// view writes the page to a temporary file and opens it in a browser:
// the first command of $BROWSER (a list separated by colons, where %s
// stands for the file) that exists, else xdg-open (open on macOS). An HTML page
// gets a <base href> so that its links and images resolve as on the site.
// It waits for the command, which for xdg-open returns at once.
func (sh *shell) view(ctx context.Context) error {
	ext, body := ".html", sh.resp.Body
	if sh.json {
		ext = ".json"
	} else if !regexp.MustCompile(`(?i)<base\s`).Match(body) {
		tag := fmt.Sprintf(`<base href="%s">`, strings.ReplaceAll(sh.resp.URL, `"`, "%22"))
		if loc := headRE.FindIndex(body); loc != nil {
			body = append(append(append([]byte{}, body[:loc[1]]...), tag...), body[loc[1]:]...)
		} else {
			body = append([]byte(tag), body...)
		}
	}
	f, err := os.CreateTemp("", "crawl-view-*"+ext)
	if err != nil {
		return fmt.Errorf("view: %w", err)
	}
	_, werr := f.Write(body)
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return fmt.Errorf("view: write %s: %w", f.Name(), werr)
	}
	name, args := browser(f.Name())
	if name == "" {
		fmt.Fprintf(sh.note, "no browser found (set BROWSER): the page is in %s\n", f.Name())
		return nil
	}
	ictx, stop := interruptible(ctx)
	defer stop()
	cmd := exec.CommandContext(ictx, name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("view: %s: %w (the page is in %s)", filepath.Base(name), err, f.Name())
	}
	fmt.Fprintf(sh.note, "opened %s with %s\n", f.Name(), filepath.Base(name))
	return nil
}

// browser returns the command that opens file, or "" when there is none.
func browser(file string) (string, []string) {
	var cands []string
	if b := os.Getenv("BROWSER"); b != "" {
		cands = strings.Split(b, ":")
	}
	cands = append(cands, "xdg-open")
	if runtime.GOOS == "darwin" {
		cands = append(cands, "open") // elsewhere, open may be openvt
	}
	for _, c := range cands {
		fields := strings.Fields(c)
		if len(fields) == 0 {
			continue
		}
		path, err := exec.LookPath(fields[0])
		if err != nil {
			continue
		}
		args, put := fields[1:], false
		for i, a := range args {
			if strings.Contains(a, "%s") {
				args[i], put = strings.ReplaceAll(a, "%s", file), true
			}
		}
		if !put {
			args = append(args, file)
		}
		return path, args
	}
	return "", nil
}
