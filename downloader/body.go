package downloader

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"

	"github.com/andybalholm/brotli"
)

// acceptEncoding is the Accept-Encoding sent unless a request sets its own:
// the content codings readBody can decode.
const acceptEncoding = "gzip, deflate, br"

// decoders are the content codings readBody undoes, by name.
var decoders = map[string]func(*bufio.Reader) (io.Reader, error){
	"gzip":    gunzip,
	"x-gzip":  gunzip,
	"deflate": inflate,
	"br":      unbrotli,
}

// readBody reads resp's body, undoing its Content-Encoding, to the end or
// to max bytes after decoding, whichever comes first: a compression bomb
// costs at most max bytes of memory. A body whose codings are all known is
// returned decoded, and the Content-Encoding and Content-Length headers,
// which describe the encoded body, are removed, as Go's transport does for
// the gzip it asks for itself. A body with a coding not in decoders is
// returned as it came, headers and all.
func readBody(resp *http.Response, max int64) ([]byte, bool, error) {
	codings := contentCodings(resp.Header)
	for _, c := range codings {
		if decoders[c] == nil {
			return readLimited(resp.Body, max, -1)
		}
	}
	var r io.Reader = resp.Body
	size := resp.ContentLength // the body's size when it is not encoded
	if len(codings) > 0 {
		size = -1
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		// Codings are listed in the order they were applied.
		for i := len(codings) - 1; i >= 0; i-- {
			br := bufio.NewReader(r)
			if _, err := br.Peek(1); err == io.EOF {
				return nil, false, nil // an empty body needs no decoding (HEAD, 204)
			}
			var err error
			if r, err = decoders[codings[i]](br); err != nil {
				return nil, false, err
			}
		}
	}
	return readLimited(r, max, size)
}

// contentCodings returns the codings of a Content-Encoding header, in the
// order they were applied, lower-cased, without "identity".
func contentCodings(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				out = append(out, c)
			}
		}
	}
	return out
}

// gunzip reads every member of a gzip stream, as one body.
func gunzip(r *bufio.Reader) (io.Reader, error) { return gzip.NewReader(r) }

// unbrotli reads a Brotli stream (RFC 7932).
func unbrotli(r *bufio.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }

// inflate reads "deflate", which HTTP defines as a zlib stream (RFC 9110
// section 8.4.1.2) but some servers send as raw DEFLATE; the two are told
// apart by the zlib header.
func inflate(r *bufio.Reader) (io.Reader, error) {
	if b, err := r.Peek(2); err == nil && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0 {
		return zlib.NewReader(r)
	}
	return flate.NewReader(r), nil
}

// readLimited reads r to the end or to max bytes, whichever comes first,
// and reports whether there was more. size, when it is not negative, is
// what the body should hold (its Content-Length): the buffer is made that
// large at once, rather than grown from a few hundred bytes by doubling.
func readLimited(r io.Reader, max, size int64) ([]byte, bool, error) {
	var buf bytes.Buffer
	if size >= 0 {
		// ReadFrom wants bytes.MinRead free before each read, the last
		// one (which finds the end) included.
		buf.Grow(int(min(size, max)) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, max+1)); err != nil {
		return nil, false, err
	}
	data := buf.Bytes()
	if int64(len(data)) > max {
		return data[:max], true, nil
	}
	return data, false, nil
}
