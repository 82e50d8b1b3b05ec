package pipeline

import (
	"bufio"
	"bytes"
	"io"

	"crawl/item"
)

// JSONL writes items as JSON Lines: one JSON object per line, keys in the
// order the spider declares its fields.
type JSONL struct {
	w   *bufio.Writer
	buf bytes.Buffer
}

// NewJSONL returns a JSONL writer over w. It buffers; call Flush.
func NewJSONL(w io.Writer) *JSONL {
	return &JSONL{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write encodes one item and its newline into the buffer.
func (j *JSONL) Write(it *item.Item) error {
	j.buf.Reset()
	if err := it.AppendJSON(&j.buf); err != nil {
		return err
	}
	j.buf.WriteByte('\n')
	_, err := j.w.Write(j.buf.Bytes())
	return err
}

// Flush writes buffered lines to the underlying writer.
func (j *JSONL) Flush() error { return j.w.Flush() }

// Close flushes; JSON Lines has no trailer.
func (j *JSONL) Close() error { return j.Flush() }
