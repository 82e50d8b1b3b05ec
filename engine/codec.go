package engine

import (
	"encoding/binary"
	"errors"

	"crawl/downloader"
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
