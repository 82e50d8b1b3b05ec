package pipeline

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Opened is an output that Open opened, locked and checked without
// changing what it holds. Start readies it for items; Close closes it.
type Opened struct {
	// Output is the output as given to Open. A caller may clear
	// Output.Overwrite before Start, to keep what the file holds (a crawl
	// that resumes).
	Output Output

	stdout  io.Writer
	fields  []string
	f       *os.File // nil for standard output
	regular bool     // f is a regular file, else a pipe, FIFO or device
	created bool     // Open created the file
	started bool
}

// Open opens the output and checks that it can take items, changing
// nothing in it, so that a caller with several outputs can open them all
// before it changes any: a run that fails at start leaves every file as it
// was (a file Open had to create is removed by Close unless Start was
// called). fields are the CSV columns, or nil for the first item's fields.
//
// A regular file is opened to append (O_APPEND), as a shell's >> does, and
// locked (flock) against other crawls: JSON Lines and CSV outputs appended
// to with -o share the file with any number of crawls and other programs,
// each item reaching the file in one write of whole lines; a JSON array
// (whose closing "]" moves), an output replaced with -O, and an Exclusive
// one are written by one crawl at a time, and Open refuses a file another
// crawl holds in the way it needs. A file that already holds items must
// end where an item ends: a JSON array must end with "]", and JSON Lines
// and CSV with a newline.
//
// Anything else (a FIFO, /dev/stdout on a pipe, >(cmd), a device) is
// written as a stream: not locked, read or cut, so a JSON array is written
// whole, from "[" to "]". Opening a FIFO waits for its reader, as a
// shell's redirection does.
func (o Output) Open(stdout io.Writer, fields []string) (*Opened, error) {
	p := &Opened{Output: o, stdout: stdout, fields: fields}
	if o.Path == "-" {
		return p, nil
	}
	fi, err := os.Stat(o.Path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		if p.f, err = os.OpenFile(o.Path, os.O_WRONLY|os.O_APPEND, 0); err != nil {
			return nil, fmt.Errorf("open output: %w", err)
		}
		return p, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("open output: %w", err)
	}
	if p.f, p.created, err = openRegular(o.Path); err != nil {
		return nil, fmt.Errorf("open output: %w", err)
	}
	p.regular = true
	if err := p.lock(); err != nil {
		p.Close()
		return nil, fmt.Errorf("output %s: %w", o.Path, err)
	}
	if !o.Exclusive { // an Exclusive caller may cut the file back before Start, which checks again
		if _, err := p.check(); err != nil {
			p.Close()
			return nil, fmt.Errorf("output %s: %w", o.Path, err)
		}
	}
	return p, nil
}

// openRegular opens the file at path to read and append, creating it if
// need be, and reports whether it did.
func openRegular(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, false, err
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrPermission) {
		// Write-only: enough for JSON Lines; check says so for the rest.
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	}
	return f, false, err
}

// lock takes the file's advisory lock for this crawl, without waiting:
// shared for appending JSON Lines or CSV, exclusive for the rest.
func (p *Opened) lock() error {
	o := p.Output
	how, alone := syscall.LOCK_SH, ""
	switch {
	case o.Format == JSONArray:
		alone = "a JSON array file is written by one crawl at a time"
	case o.Overwrite:
		alone = "-O replaces it"
	case o.Exclusive:
		alone = "this crawl must be its only writer"
	}
	if alone != "" {
		how = syscall.LOCK_EX
	}
	err := syscall.Flock(int(p.f.Fd()), how|syscall.LOCK_NB)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, syscall.EWOULDBLOCK):
		return fmt.Errorf("lock the file: %w", err)
	case alone != "":
		return fmt.Errorf("another crawl is writing it, and %s: wait for that crawl to end, or write to another file", alone)
	}
	return errors.New("another crawl is writing it alone (a JSON array, or with -O or --state): wait for that crawl to end, or write to another file")
}

// fileState is what check found in an output file.
type fileState struct {
	size     int64
	arrayEnd int64    // JSON array: the offset of its closing "]", or -1 for "[]"
	header   []string // CSV: the header line's columns
}

// check reads what the file holds, when items are to be appended to it,
// and refuses a file that does not end where an item ends.
func (p *Opened) check() (fileState, error) {
	fi, err := p.f.Stat()
	if err != nil {
		return fileState{}, err
	}
	s := fileState{size: fi.Size()}
	if s.size == 0 || p.Output.Overwrite {
		return s, nil
	}
	switch p.Output.Format {
	case JSONArray:
		s.arrayEnd, err = arrayEnd(p.f, s.size)
		return s, err
	case CSV:
		if s.header, err = csv.NewReader(io.NewSectionReader(p.f, 0, s.size)).Read(); err != nil {
			return s, fmt.Errorf("read the CSV header to append under: %w", err)
		}
	}
	last := make([]byte, 1)
	if _, err := p.f.ReadAt(last, s.size-1); err != nil {
		return s, fmt.Errorf("read the end of the file: %w", err)
	}
	if last[0] != '\n' {
		return s, errors.New("cannot append: the file does not end with a newline, so its last line is incomplete (complete or remove it, or use -O to replace the file)")
	}
	return s, nil
}

// arrayEnd returns the offset of the closing "]" of the JSON array that
// ends f, or -1 when the array is empty.
func arrayEnd(f *os.File, size int64) (int64, error) {
	tail := make([]byte, min(size, 4096))
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return 0, fmt.Errorf("read the end of the file: %w", err)
	}
	trimmed := bytes.TrimRight(tail, " \t\r\n")
	if len(trimmed) == 0 || trimmed[len(trimmed)-1] != ']' {
		return 0, errors.New("cannot append: the file does not end a JSON array (use -O to replace it)")
	}
	end := size - int64(len(tail)) + int64(len(trimmed)) - 1
	before := bytes.TrimRight(trimmed[:len(trimmed)-1], " \t\r\n")
	if len(before) > 0 && before[len(before)-1] == '[' && end-int64(len(trimmed)-1-len(before)) <= int64(len(tail)) {
		return -1, nil // "[]"
	}
	return end, nil
}

// Start readies the output for items and returns its Writer: it replaces
// the file (-O), reopens a JSON array to append to it, or writes the
// header of a new CSV file. It may be called once, after Open.
func (p *Opened) Start() (Writer, error) {
	p.started = true
	switch {
	case p.f == nil:
		return p.writer(p.stdout, nil, p.fields, false), nil
	case !p.regular:
		return p.writer(p.f, nil, p.fields, false), nil
	}
	if p.Output.Overwrite {
		if err := p.f.Truncate(0); err != nil {
			return nil, fmt.Errorf("output %s: replace: %w", p.Output.Path, err)
		}
	}
	s, err := p.check()
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", p.Output.Path, err)
	}
	fields, cont := p.fields, false
	switch {
	case p.Output.Format == JSONArray && s.size > 0:
		cut := s.arrayEnd
		cont = cut >= 0
		if !cont {
			cut = 0 // "[]": start the array afresh
		}
		err = p.f.Truncate(cut)
	case p.Output.Format == CSV:
		fields, cont, err = p.csvHeader(fields)
	}
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", p.Output.Path, err)
	}
	return p.writer(p.f, p.cut, fields, cont), nil
}

// csvHeader returns the columns to write under and whether the file has
// their header, writing it into an empty file. Two crawls starting on one
// new file write one header between them: a process-wide write lock
// (fcntl, apart from the flock that Open took) covers looking and writing.
func (p *Opened) csvHeader(fields []string) ([]string, bool, error) {
	fd := int(p.f.Fd())
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(uintptr(fd), syscall.F_SETLKW, &lk); err != nil {
		return nil, false, fmt.Errorf("lock the file to write its CSV header: %w", err)
	}
	defer func() {
		lk.Type = syscall.F_UNLCK
		syscall.FcntlFlock(uintptr(fd), syscall.F_SETLK, &lk)
	}()
	s, err := p.check()
	switch {
	case err != nil:
		return nil, false, err
	case s.header != nil:
		return s.header, true, nil // rows follow the file's header, in its order
	case s.size > 0 || fields == nil:
		return fields, false, nil // columns unknown yet: the header comes with the first item
	}
	if _, err := p.f.Write(encodeCSV(fields)); err != nil {
		return nil, false, fmt.Errorf("write the CSV header: %w", err)
	}
	return fields, true, nil
}

// cut removes the last partial bytes this process wrote, if nothing was
// written after them.
func (p *Opened) cut(partial int64) error {
	end, err := p.f.Seek(0, io.SeekCurrent) // with O_APPEND: the end of this process's last write
	if err != nil {
		return err
	}
	fi, err := p.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != end {
		return errors.New("another program wrote after them")
	}
	return p.f.Truncate(end - partial)
}

func (p *Opened) writer(w io.Writer, cut func(int64) error, fields []string, cont bool) Writer {
	switch p.Output.Format {
	case JSONArray:
		return newJSONArray(w, cut, cont)
	case CSV:
		return newCSV(w, cut, fields, cont)
	default:
		return newJSONL(w, cut)
	}
}

// Close closes the file, which releases its lock. A file Open created is
// removed if Start was never called and the file is still empty.
func (p *Opened) Close() error {
	if p.f == nil {
		return nil
	}
	if p.created && !p.started {
		// Only while no other crawl has it open to write (its lock).
		if syscall.Flock(int(p.f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			if fi, err := p.f.Stat(); err == nil && fi.Size() == 0 {
				os.Remove(p.Output.Path)
			}
		}
	}
	err := p.f.Close()
	p.f = nil
	return err
}
