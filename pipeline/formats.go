package pipeline

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"crawl/item"
)

// Format is how items are encoded in an output.
type Format string

// The formats crawl writes.
const (
	JSONLines Format = "jsonl" // one JSON object per line
	JSONArray Format = "json"  // one JSON array, valid even after Ctrl-C
	CSV       Format = "csv"   // a header line, then one row per item
)

// ParseFormat returns the Format named s: jsonl (also jsonlines, jl,
// ndjson), json or csv.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "jsonl", "jsonlines", "jl", "ndjson":
		return JSONLines, nil
	case "json":
		return JSONArray, nil
	case "csv":
		return CSV, nil
	}
	if s == "" {
		return "", fmt.Errorf("no format named (want %s)", formatList)
	}
	return "", fmt.Errorf("unknown format %q (want %s)", s, formatList)
}

// formatList names the formats for error messages.
const formatList = "jsonl, json or csv"

// JSONArrayWriter writes items as the elements of one JSON array, one item
// a line. Close ends the array: an output closed after Ctrl-C is still
// valid JSON.
type JSONArrayWriter struct {
	r          records
	buf        bytes.Buffer
	n          int  // items written
	continuing bool // the output already held an open array with elements
}

// NewJSONArray returns a writer of a JSON array over w. With continuing,
// w already holds an array whose closing "]" was removed and which has at
// least one element: items are appended to it.
func NewJSONArray(w io.Writer, continuing bool) *JSONArrayWriter {
	return newJSONArray(w, nil, continuing)
}

func newJSONArray(w io.Writer, cut func(int64) error, continuing bool) *JSONArrayWriter {
	return &JSONArrayWriter{r: records{w: w, cut: cut}, continuing: continuing}
}

// Write appends one item to the array.
func (j *JSONArrayWriter) Write(it *item.Item) error {
	j.buf.Reset()
	switch {
	case j.n == 0 && !j.continuing:
		j.buf.WriteString("[\n")
	default:
		j.buf.WriteString(",\n")
	}
	if err := it.AppendJSON(&j.buf); err != nil {
		return err
	}
	j.n++
	return j.r.add(j.buf.Bytes())
}

// Flush writes buffered items to the underlying writer.
func (j *JSONArrayWriter) Flush() error { return j.r.flush() }

// Close ends the array and flushes. After a failed write it still ends the
// array after the items that reached the output whole, if the output takes
// it.
func (j *JSONArrayWriter) Close() error {
	err := j.r.flush()
	end := "\n]\n"
	if j.r.written == 0 && !j.continuing {
		end = "[\n]\n" // the "[" went with the first item
	}
	if werr := j.r.raw([]byte(end)); err == nil {
		err = werr
	}
	return err
}

// Written returns how many items reached the underlying writer whole.
func (j *JSONArrayWriter) Written() int64 { return j.r.written }

// CSVWriter writes items as CSV rows under a header of field names. A list
// is joined with commas within its cell, as Scrapy's CSV exporter does; any
// other value that is not a string is written as JSON.
type CSVWriter struct {
	r      records
	buf    bytes.Buffer
	enc    *csv.Writer // encodes into buf
	fields []string
	header bool // written, or already in the output
	row    []string
}

// NewCSV returns a CSV writer over w with the given columns. With
// hasHeader, w already holds the header line (appending to a CSV file).
// Without fields, the columns are the first item's fields.
func NewCSV(w io.Writer, fields []string, hasHeader bool) *CSVWriter {
	return newCSV(w, nil, fields, hasHeader)
}

func newCSV(w io.Writer, cut func(int64) error, fields []string, hasHeader bool) *CSVWriter {
	c := &CSVWriter{r: records{w: w, cut: cut}, fields: fields, header: hasHeader}
	c.enc = csv.NewWriter(&c.buf)
	return c
}

// Write writes one item as a row, after the header if it is the first.
func (c *CSVWriter) Write(it *item.Item) error {
	if c.fields == nil {
		c.fields = it.Names()
	}
	if !c.header {
		c.header = true
		if err := c.r.raw(encodeCSV(c.fields)); err != nil {
			return err
		}
	}
	c.row = c.row[:0]
	for _, name := range c.fields {
		v, _ := it.Get(name)
		cell, err := csvCell(v)
		if err != nil {
			return fmt.Errorf("field %s: %w", name, err)
		}
		c.row = append(c.row, cell)
	}
	c.buf.Reset()
	c.enc.Write(c.row)
	c.enc.Flush()
	if err := c.enc.Error(); err != nil {
		return err
	}
	return c.r.add(c.buf.Bytes())
}

// encodeCSV returns one CSV record.
func encodeCSV(row []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(row)
	w.Flush() // writing to a bytes.Buffer does not fail
	return b.Bytes()
}

func csvCell(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []string:
		return strings.Join(v, ","), nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Flush writes buffered rows to the underlying writer.
func (c *CSVWriter) Flush() error { return c.r.flush() }

// Close flushes; CSV has no trailer.
func (c *CSVWriter) Close() error { return c.Flush() }

// Written returns how many items reached the underlying writer whole.
func (c *CSVWriter) Written() int64 { return c.r.written }

// Multi writes every item to each of several writers, in order.
type Multi []Writer

// Write writes it to every writer, stopping at the first error.
func (m Multi) Write(it *item.Item) error {
	for _, w := range m {
		if err := w.Write(it); err != nil {
			return err
		}
	}
	return nil
}

// Flush flushes every writer, stopping at the first error.
func (m Multi) Flush() error {
	for _, w := range m {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Written returns how many items reached every writer whole: the least
// of its writers' counts. A writer that cannot tell is left out.
func (m Multi) Written() int64 {
	n := int64(-1)
	for _, w := range m {
		if c, ok := w.(counter); ok && (n < 0 || c.Written() < n) {
			n = c.Written()
		}
	}
	return max(n, 0)
}

// Close closes every writer and returns the first error.
func (m Multi) Close() error {
	var first error
	for _, w := range m {
		if err := w.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
