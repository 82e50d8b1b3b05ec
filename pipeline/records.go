package pipeline

import (
	"fmt"
	"io"
	"sort"
)

// recordBuffer is how many bytes of encoded items a writer keeps before it
// hands them to its output.
const recordBuffer = 64 << 10

// records buffers encoded items and hands them to w in writes that hold
// whole items only: an item is never split across two writes, so that
// processes appending to one file (O_APPEND) never interleave inside an
// item, and a failed write tells exactly which items reached w. The zero
// value is not usable; it is used by one goroutine.
type records struct {
	w io.Writer
	// cut removes the last partial bytes written to w, the start of an
	// item that a failed write cut short; nil when w cannot take bytes back
	// (a pipe, a device).
	cut     func(partial int64) error
	buf     []byte
	ends    []int // the end in buf of each item in it
	written int64 // items that reached w whole
}

// add appends one encoded item and writes the buffer once it is full.
func (r *records) add(b []byte) error {
	r.buf = append(r.buf, b...)
	r.ends = append(r.ends, len(r.buf))
	if len(r.buf) >= recordBuffer {
		return r.flush()
	}
	return nil
}

// flush writes the buffered items in one write. When the write fails part
// way, it counts the items that reached w whole and takes back the bytes of
// the item cut short if it can, else says in the error how many remain.
// The items that did not reach w are dropped either way: the buffer is
// empty after flush.
func (r *records) flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	n, err := r.w.Write(r.buf)
	whole := sort.SearchInts(r.ends, n+1) // items that end at or before n
	r.written += int64(whole)
	if err == nil && n < len(r.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		last := 0
		if whole > 0 {
			last = r.ends[whole-1]
		}
		if partial := int64(n - last); partial > 0 {
			err = r.takeBack(partial, err)
		}
	}
	r.buf, r.ends = r.buf[:0], r.ends[:0]
	if cap(r.buf) > 4*recordBuffer {
		r.buf = nil // one huge item: do not keep its buffer for the crawl
	}
	return err
}

// takeBack removes the partial bytes of an item a failed write left on the
// output, or adds to err that they are still there.
func (r *records) takeBack(partial int64, err error) error {
	if r.cut == nil {
		return fmt.Errorf("%w (the output ends with %d bytes of an item cut short)", err, partial)
	}
	if cerr := r.cut(partial); cerr != nil {
		return fmt.Errorf("%w (%d bytes of an item cut short remain in the output: %v)", err, partial, cerr)
	}
	return err
}

// raw flushes the buffered items and then writes b, which is not an item
// (a CSV header, the end of a JSON array).
func (r *records) raw(b []byte) error {
	if err := r.flush(); err != nil {
		return err
	}
	_, err := r.w.Write(b)
	return err
}
