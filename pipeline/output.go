package pipeline

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Output is one destination of items: a file, or standard output ("-").
type Output struct {
	Path      string
	Format    Format
	Overwrite bool // replace the file (-O) instead of appending to it (-o)
}

// ParseOutput reads an -o or -O argument: PATH, or PATH:FORMAT as in
// Scrapy. The text after the last colon is a format unless it holds a "/"
// or a ".", which no format name does: "items.out:csv" is CSV in
// "items.out", "out.csv:" and "x.jsonl:yaml" are errors, and "./a:b.jsonl"
// is the file "./a:b.jsonl". A file whose name ends in a colon and a word
// is written by naming its format after it: "a:b:jsonl". Without a format
// in the argument, format (--format) applies if set, else the extension
// decides: .json is a JSON array, .csv is CSV, .jsonl, .jl, .ndjson and
// .jsonlines (and no extension, and standard output) JSON Lines; any other
// extension is an error, since the file's name promises a format crawl
// does not write.
func ParseOutput(arg string, overwrite bool, format string) (Output, error) {
	out := Output{Path: arg, Overwrite: overwrite}
	if i := strings.LastIndexByte(arg, ':'); i >= 0 && !strings.ContainsAny(arg[i+1:], "/.") {
		f, err := ParseFormat(arg[i+1:])
		if err != nil {
			return out, fmt.Errorf("output %s: %w; a file name with a colon takes its format after it, as in %s:jsonl", arg, err, arg)
		}
		out.Path, out.Format = arg[:i], f
	}
	if out.Path == "" {
		return out, fmt.Errorf("output %s: empty file name", arg)
	}
	if out.Format == "" && format != "" {
		f, err := ParseFormat(format)
		if err != nil {
			return out, fmt.Errorf("--format: %w", err)
		}
		out.Format = f
	}
	if out.Format == "" {
		ext := filepath.Ext(out.Path)
		if out.Path == "-" {
			ext = ""
		}
		switch strings.ToLower(ext) {
		case ".json":
			out.Format = JSONArray
		case ".csv":
			out.Format = CSV
		case "", ".jsonl", ".jl", ".ndjson", ".jsonlines":
			out.Format = JSONLines
		default:
			return out, fmt.Errorf("output %s: crawl does not write %s files (formats: %s); name one after a colon (%s:jsonl) or with --format", out.Path, ext, formatList, out.Path)
		}
	}
	return out, nil
}

// Open opens the output and returns its Writer and a function that closes
// the file (not standard output). fields are the CSV columns, or nil for the
// first item's fields. Appending keeps the file valid: items join an
// existing JSON array, and rows follow an existing CSV header, in its
// column order.
func (o Output) Open(stdout io.Writer, fields []string) (Writer, func() error, error) {
	if o.Path == "-" {
		return o.writer(stdout, fields, false), func() error { return nil }, nil
	}
	flag := os.O_RDWR | os.O_CREATE
	if o.Overwrite {
		flag |= os.O_TRUNC
	}
	f, err := os.OpenFile(o.Path, flag, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open output: %w", err)
	}
	cont, fields, err := o.prepareAppend(f, fields)
	if err == nil {
		_, err = f.Seek(0, io.SeekEnd)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open output %s: %w", o.Path, err)
	}
	return o.writer(f, fields, cont), f.Close, nil
}

func (o Output) writer(w io.Writer, fields []string, cont bool) Writer {
	switch o.Format {
	case JSONArray:
		return NewJSONArray(w, cont)
	case CSV:
		return NewCSV(w, fields, cont)
	default:
		return NewJSONL(w)
	}
}

// prepareAppend readies a file that already holds items for more: it
// reports whether it holds some, and for CSV returns the columns of its
// header.
func (o Output) prepareAppend(f *os.File, fields []string) (bool, []string, error) {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return false, fields, err
	}
	switch o.Format {
	case JSONArray:
		cont, err := reopenArray(f, fi.Size())
		return cont, fields, err
	case CSV:
		header, err := csv.NewReader(f).Read()
		if err != nil {
			return false, nil, fmt.Errorf("read the CSV header to append under: %w", err)
		}
		return true, header, nil
	}
	return false, fields, nil
}

// reopenArray removes the closing "]" of the JSON array in f so that items
// can be appended, and reports whether the array has elements. An empty
// array is removed whole.
func reopenArray(f *os.File, size int64) (bool, error) {
	tail := make([]byte, min(size, 4096))
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return false, err
	}
	trimmed := bytes.TrimRight(tail, " \t\r\n")
	if len(trimmed) == 0 || trimmed[len(trimmed)-1] != ']' {
		return false, errors.New("cannot append: the file does not end a JSON array (use -O to replace it)")
	}
	end := size - int64(len(tail)) + int64(len(trimmed)) - 1 // offset of "]"
	before := bytes.TrimRight(trimmed[:len(trimmed)-1], " \t\r\n")
	if len(before) > 0 && before[len(before)-1] == '[' && end-int64(len(trimmed)-1-len(before)) <= int64(len(tail)) {
		// "[]": start the array afresh.
		return false, f.Truncate(0)
	}
	return true, f.Truncate(end)
}
