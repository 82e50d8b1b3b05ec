package pipeline

import (
	"bytes"
	"io"

	"crawl/item"
)

// JSONL writes items as JSON Lines: one JSON object per line, keys in the
// order the spider declares its fields. It buffers whole lines and hands
// them to its writer in writes that never split a line, so several
// processes can append to one file opened with O_APPEND.
type JSONL struct {
	r   records
	buf bytes.Buffer
}

// NewJSONL returns a JSONL writer over w. It buffers; call Flush.
func NewJSONL(w io.Writer) *JSONL { return newJSONL(w, nil) }

func newJSONL(w io.Writer, cut func(int64) error) *JSONL {
	return &JSONL{r: records{w: w, cut: cut}}
}

// Write encodes one item and its newline into the buffer.
func (j *JSONL) Write(it *item.Item) error {
	j.buf.Reset()
	if err := it.AppendJSON(&j.buf); err != nil {
		return err
	}
	j.buf.WriteByte('\n')
	return j.r.add(j.buf.Bytes())
}

// Flush writes buffered lines to the underlying writer.
func (j *JSONL) Flush() error { return j.r.flush() }

// Close flushes; JSON Lines has no trailer.
func (j *JSONL) Close() error { return j.Flush() }

// Written returns how many items reached the underlying writer whole.
func (j *JSONL) Written() int64 { return j.r.written }
