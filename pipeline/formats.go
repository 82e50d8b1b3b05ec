package pipeline

import (
	"bufio"
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
	w      *bufio.Writer
	buf    bytes.Buffer
	n      int  // items written
	opened bool // "[" written, or the array was already open
}

// NewJSONArray returns a writer of a JSON array over w. With continuing,
// w already holds an array whose closing "]" was removed and which has at
// least one element: items are appended to it.
func NewJSONArray(w io.Writer, continuing bool) *JSONArrayWriter {
	j := &JSONArrayWriter{w: bufio.NewWriterSize(w, 64<<10), opened: continuing}
	if continuing {
		j.n = 1
	}
	return j
}

// Write appends one item to the array.
func (j *JSONArrayWriter) Write(it *item.Item) error {
	j.buf.Reset()
	switch {
	case !j.opened:
		j.buf.WriteString("[\n")
		j.opened = true
	case j.n > 0:
		j.buf.WriteString(",\n")
	}
	if err := it.AppendJSON(&j.buf); err != nil {
		return err
	}
	j.n++
	_, err := j.w.Write(j.buf.Bytes())
	return err
}

// Flush writes buffered items to the underlying writer.
func (j *JSONArrayWriter) Flush() error { return j.w.Flush() }

// Close ends the array and flushes.
func (j *JSONArrayWriter) Close() error {
	if !j.opened {
		j.w.WriteString("[")
	}
	j.w.WriteString("\n]\n")
	return j.w.Flush()
}

// CSVWriter writes items as CSV rows under a header of field names. A list
// is joined with commas within its cell, as Scrapy's CSV exporter does; any
// other value that is not a string is written as JSON.
type CSVWriter struct {
	w      *csv.Writer
	fields []string
	header bool // written, or already in the output
	row    []string
}

// NewCSV returns a CSV writer over w with the given columns. With
// hasHeader, w already holds the header line (appending to a CSV file).
// Without fields, the columns are the first item's fields.
func NewCSV(w io.Writer, fields []string, hasHeader bool) *CSVWriter {
	return &CSVWriter{w: csv.NewWriter(w), fields: fields, header: hasHeader}
}

// Write writes one item as a row, after the header if it is the first.
func (c *CSVWriter) Write(it *item.Item) error {
	if c.fields == nil {
		c.fields = it.Names()
	}
	if !c.header {
		c.header = true
		if err := c.w.Write(c.fields); err != nil {
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
	return c.w.Write(c.row)
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
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// Close flushes; CSV has no trailer.
func (c *CSVWriter) Close() error { return c.Flush() }

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
