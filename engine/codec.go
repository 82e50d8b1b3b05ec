package engine

import (
	"encoding/binary"
	"errors"
	"net/http"

	"github.com/cespare/xxhash/v2"

	"crawl/downloader"
	"crawl/urls"
)

// AppendRequest appends an encoding of r to b and returns the result: for
// a frontier that keeps requests outside the process. DecodeRequest reads
// it back.
func AppendRequest(b []byte, r *downloader.Request) []byte { return encodeRequest(b, r) }

// DecodeRequest reads a request that AppendRequest encoded.
func DecodeRequest(b []byte) (*downloader.Request, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n != uint64(len(b)-k) {
		return nil, errors.New("decode request: corrupt length")
	}
	return decodeRequest(b[k:])
}

// Fingerprint returns the number requests are de-duplicated by: the
// fingerprint of the canonical URL for a GET, and for other methods one
// that also covers the method and the body, as Scrapy's request
// fingerprint does, so that two POSTs of different forms to one URL are
// two requests.
func Fingerprint(c urls.Canon, r *downloader.Request) (uint64, error) {
	fp, err := c.Fingerprint(r.URL)
	if err != nil || r.Method == "" || r.Method == http.MethodGet {
		return fp, err
	}
	h := xxhash.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], fp)
	h.Write(b[:])
	h.WriteString(r.Method)
	h.Write([]byte{0})
	h.Write(r.Body)
	return h.Sum64(), nil
}
