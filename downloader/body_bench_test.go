package downloader

import (
	"bytes"
	"testing"
)

// BenchmarkReadLimited reads a 35 KB body with and without its size known
// in advance (a Content-Length, or a file's size).
func BenchmarkReadLimited(b *testing.B) {
	body := bytes.Repeat([]byte("<p>a listing page</p>\n"), 35<<10/22)
	for _, tc := range []struct {
		name string
		size int64
	}{{"size unknown", -1}, {"size known", int64(len(body))}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				data, _, err := readLimited(bytes.NewReader(body), DefaultMaxBody, tc.size)
				if err != nil || len(data) != len(body) {
					b.Fatalf("read %d bytes, %v", len(data), err)
				}
			}
		})
	}
}
