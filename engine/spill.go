package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"crawl/downloader"
)

// spill is where the frontier keeps the requests beyond its memory budget:
// an append-only temporary file of encoded requests, read back by offset.
// The file is unlinked as soon as it is created, so it disappears with the
// process however the process ends. It belongs to the scheduler goroutine.
type spill struct {
	dir     string
	f       *os.File
	w       *bufio.Writer
	end     int64 // offset of the next record
	flushed int64 // records before this offset are in the file
	buf     []byte
}

// put appends r and returns its offset.
func (s *spill) put(r *downloader.Request) (int64, error) {
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "crawl-frontier-*")
		if err != nil {
			return 0, fmt.Errorf("spill requests to disk: %w", err)
		}
		os.Remove(f.Name()) // the open file lives on until closed
		s.f, s.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	s.buf = encodeRequest(s.buf[:0], r)
	off := s.end
	if _, err := s.w.Write(s.buf); err != nil {
		return 0, fmt.Errorf("spill requests to disk: %w", err)
	}
	s.end += int64(len(s.buf))
	return off, nil
}

// get reads back the request at off.
func (s *spill) get(off int64) (*downloader.Request, error) {
	if off >= s.flushed {
		if err := s.w.Flush(); err != nil {
			return nil, fmt.Errorf("spill requests to disk: %w", err)
		}
		s.flushed = s.end
	}
	var size [binary.MaxVarintLen64]byte
	n, err := s.f.ReadAt(size[:], off)
	if n == 0 {
		return nil, fmt.Errorf("read spilled request: %w", err)
	}
	length, k := binary.Uvarint(size[:n])
	if k <= 0 {
		return nil, errors.New("read spilled request: corrupt length")
	}
	rec := make([]byte, length)
	if _, err := s.f.ReadAt(rec, off+int64(k)); err != nil {
		return nil, fmt.Errorf("read spilled request: %w", err)
	}
	return decodeRequest(rec)
}

func (s *spill) close() {
	if s.f != nil {
		s.f.Close()
	}
}

// The bits of a record's flags: flagPublicOnly for Request.PublicOnly,
// flagRender for a Request.Render that follows the Lastmod.
const (
	flagPublicOnly = 1
	flagRender     = 2
)

// encodeRequest appends a length-prefixed record of r to b.
func encodeRequest(b []byte, r *downloader.Request) []byte {
	var rec []byte
	rec = binary.AppendUvarint(rec, uint64(r.Depth))
	rec = appendString(rec, r.URL)
	rec = appendString(rec, r.Method)
	rec = appendString(rec, r.Rule)
	rec = appendString(rec, string(r.Body))
	rec = binary.AppendUvarint(rec, uint64(len(r.Header)))
	for k, vs := range r.Header {
		rec = appendString(rec, k)
		rec = binary.AppendUvarint(rec, uint64(len(vs)))
		for _, v := range vs {
			rec = appendString(rec, v)
		}
	}
	var flags uint64
	if r.PublicOnly {
		flags |= flagPublicOnly
	}
	if r.Render != nil {
		flags |= flagRender
	}
	rec = binary.AppendUvarint(rec, flags)
	rec = appendString(rec, r.Lastmod)
	if r.Render != nil {
		rec = appendRender(rec, r.Render)
	}
	b = binary.AppendUvarint(b, uint64(len(rec)))
	return append(b, rec...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads the fields of one record in order; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = io.ErrUnexpectedEOF
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads the number of values that follow, each at least a byte: a
// corrupt record cannot make it allocate more than the record holds.
func (d *decoder) count() uint64 {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.err = io.ErrUnexpectedEOF
		return 0
	}
	return n
}

func (d *decoder) string() string {
	n := d.uint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = io.ErrUnexpectedEOF
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func decodeRequest(rec []byte) (*downloader.Request, error) {
	d := &decoder{b: rec}
	r := &downloader.Request{Depth: int(d.uint())}
	r.URL, r.Method, r.Rule = d.string(), d.string(), d.string()
	if body := d.string(); body != "" {
		r.Body = []byte(body)
	}
	if n := d.count(); n > 0 && d.err == nil {
		r.Header = make(http.Header, n)
		for range n {
			k := d.string()
			vs := make([]string, d.count())
			for i := range vs {
				vs[i] = d.string()
			}
			if d.err != nil {
				break
			}
			r.Header[k] = vs
		}
	}
	flags := d.uint()
	r.PublicOnly = flags&flagPublicOnly != 0
	r.Lastmod = d.string()
	if flags&flagRender != 0 {
		r.Render = d.render()
	}
	if d.err != nil {
		return nil, fmt.Errorf("read spilled request: %w", d.err)
	}
	return r, nil
}
