package main

import (
	"io"
	"os"
	"syscall"
)

// liveLine decides where the live progress line goes and returns the
// writers run should use for items and for logs. The live line is drawn
// only when stderr is a terminal and nothing else can write to that
// terminal behind crawl's back:
//
//   - stdout is the same terminal: items go through the status writer,
//     which clears the live line before each batch and redraws it after,
//     so that no item is glued to a stale progress line;
//   - stdout is a pipe or a socket (crawl run s.yaml | jq): the reader may
//     print to the terminal at any moment, which crawl cannot see, so
//     progress is logged as whole lines instead (status is nil);
//   - anything else (a file, /dev/null, another terminal): the live line
//     has the terminal to itself.
func liveLine(quiet bool, stdout, stderr io.Writer) (status *statusWriter, items, logs io.Writer) {
	if quiet || !isTerminal(stderr) {
		return nil, stdout, stderr
	}
	switch {
	case sameFD(stdout, stderr):
		status = &statusWriter{w: stderr}
		return status, termItems{status, stdout}, status
	case isPipe(stdout):
		return nil, stdout, stderr
	}
	status = &statusWriter{w: stderr}
	return status, stdout, status
}

// termItems writes items to a terminal that also shows the live line.
type termItems struct {
	s *statusWriter
	w io.Writer
}

func (t termItems) Write(p []byte) (int, error) { return t.s.writeAbove(t.w, p) }

// sameFD reports whether a and b are open on the same file (device and
// inode), such as one terminal for both stdout and stderr.
func sameFD(a, b io.Writer) bool {
	sa, ok1 := stat(a)
	sb, ok2 := stat(b)
	return ok1 && ok2 && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// isPipe reports whether w is a pipe or a socket: a reader at the other
// end that may print to the terminal.
func isPipe(w io.Writer) bool {
	st, ok := stat(w)
	if !ok {
		return false
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFIFO, syscall.S_IFSOCK:
		return true
	}
	return false
}

func stat(w io.Writer) (syscall.Stat_t, bool) {
	var st syscall.Stat_t
	f, ok := w.(*os.File)
	if !ok {
		return st, false
	}
	return st, syscall.Fstat(int(f.Fd()), &st) == nil
}
