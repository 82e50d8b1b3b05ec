package engine

import (
	"runtime"
	"unsafe"
)

// mapMin is the size from which words are mapped outside the Go heap:
// smaller tables are not worth a system call each.
const mapMin = 64 << 10

// words is a zeroed []uint64 for the large tables of the scheduler. From
// mapMin bytes up it lives outside the Go heap, in an anonymous memory
// mapping of its own, for two reasons measured on a 5-million-URL crawl:
// the garbage collector lets the heap grow to twice what is live before it
// collects, so 64 MB of fingerprints on the heap would let another 64 MB of
// garbage pile up; and a table that has grown is returned to the system at
// once by free, not at the next collection. The collector never scans
// words, so it may hold only numbers, never pointers.
//
// Free a words with free when done with it; one that becomes unreachable
// unfreed has its mapping released some time later. Use s only while the
// words is reachable: a function that reads s and then no longer mentions
// w must call runtime.KeepAlive(w) after its last use of s.
type words struct {
	s       []uint64
	mapping []byte // the mapping behind s, or nil when s is on the heap
	cleanup runtime.Cleanup
}

// newWords returns at least n zeroed words: exactly n on the heap, or a
// mapping rounded up to whole pages, all of which s uses.
func newWords(n int) *words {
	size := n * 8
	if size < mapMin {
		return &words{s: make([]uint64, n)}
	}
	page := pageSize()
	size = (size + page - 1) / page * page
	m, err := mapAnon(size)
	if err != nil {
		// No mapping (out of address space, or no mmap on this system):
		// the heap still works, it is only larger.
		return &words{s: make([]uint64, n)}
	}
	w := &words{s: unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(m))), size/8), mapping: m}
	w.cleanup = runtime.AddCleanup(w, unmap, m)
	return w
}

// free releases w's memory; w must not be used after.
func (w *words) free() {
	if w.mapping != nil {
		w.cleanup.Stop()
		unmap(w.mapping)
	}
	*w = words{}
}
