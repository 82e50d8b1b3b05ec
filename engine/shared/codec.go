package shared

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"

	"crawl/downloader"
)

// encodeRequest appends a compact record of r to b: varint lengths and
// the bytes of each field, as the engine's spill file has them. A link of
// 60 bytes takes about 65.
func encodeRequest(b []byte, r *downloader.Request) []byte {
	b = binary.AppendUvarint(b, uint64(r.Depth))
	b = appendString(b, r.URL)
	b = appendString(b, r.Method)
	b = appendString(b, r.Rule)
	b = appendString(b, string(r.Body))
	b = binary.AppendUvarint(b, uint64(len(r.Header)))
	for k, vs := range r.Header {
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errCorrupt = errors.New("corrupt record")

// decoder reads the fields of one record in order; the first error sticks.
type decoder struct {
	b   string
	err error
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for i := 0; i < len(d.b) && i < binary.MaxVarintLen64; i++ {
		c := d.b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.b = d.b[i+1:]
			return v
		}
	}
	d.err = errCorrupt
	return 0
}

func (d *decoder) string() string {
	n := d.uint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errCorrupt
		return ""
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

// decodeRequest reads a record that encodeRequest wrote.
func decodeRequest(rec string) (*downloader.Request, error) {
	d := &decoder{b: rec}
	r := &downloader.Request{Depth: int(d.uint())}
	r.URL, r.Method, r.Rule = d.string(), d.string(), d.string()
	if body := d.string(); body != "" {
		r.Body = []byte(body)
	}
	if n := d.uint(); n > 0 && d.err == nil {
		if n > uint64(len(d.b)) {
			return nil, fmt.Errorf("decode request: %w", errCorrupt)
		}
		r.Header = make(http.Header, n)
		for range n {
			k := d.string()
			m := d.uint()
			if d.err != nil || m > uint64(len(d.b)) {
				d.err = errCorrupt
				break
			}
			vs := make([]string, m)
			for i := range vs {
				vs[i] = d.string()
			}
			r.Header[k] = vs
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode request: %w", d.err)
	}
	return r, nil
}
