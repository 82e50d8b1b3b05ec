package pipeline

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Output is one destination of items: a file, or standard output ("-").
type Output struct {
	Path      string
	Format    Format
	Overwrite bool // replace the file (-O) instead of appending to it (-o)
	// Exclusive makes this crawl the file's only writer, for a caller that
	// may cut the file back (--state): see Open.
	Exclusive bool
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
