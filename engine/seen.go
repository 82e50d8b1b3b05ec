package engine

import "runtime"

// seenShards is how many tables the seen set is split into, by the top
// byte of each fingerprint. Each table grows on its own, so a growth copies
// 1/256 of the set: the old and the new table of the whole set never exist
// at once, which with a single table would make the peak half as large
// again as the set.
const seenShards = 256

// The tables fill to 4/5 and then grow by a quarter, so they are always 64%
// to 80% full: 10 to 12.5 bytes a fingerprint. Linear probing stays short at
// that load, since the fingerprints are uniform: an insert probes 13 slots
// on average at 80%, two cache lines.
const (
	seenFillNum, seenFillDen = 4, 5
	seenFirst                = 16 // slots of a table's first allocation
)

// seenSet remembers the fingerprints of requests already scheduled: 256
// open-addressing tables of 8-byte slots with linear probing, large ones
// outside the Go heap (see words). Fingerprints are xxHash values, uniform
// already: the top byte picks the table and the low 32 bits the slot. The
// zero value is an empty set. It is not safe for concurrent use.
type seenSet struct {
	tables  [seenShards]seenTable
	n       int  // fingerprints in tables
	hasZero bool // the fingerprint 0, which cannot be stored: 0 marks an empty slot
}

type seenTable struct {
	w *words // nil until the first fingerprint
	n int
}

// add records fp and reports whether it was new: check and add in one step,
// like Scrapy's request_seen.
func (s *seenSet) add(fp uint64) bool {
	if fp == 0 {
		added := !s.hasZero
		s.hasZero = true
		return added
	}
	t := &s.tables[fp>>56]
	if t.w == nil || seenFillDen*(t.n+1) > seenFillNum*len(t.w.s) {
		t.grow()
	}
	if !t.w.insert(fp) {
		return false
	}
	t.n++
	s.n++
	return true
}

// len returns the number of fingerprints in the set.
func (s *seenSet) len() int {
	if s.hasZero {
		return s.n + 1
	}
	return s.n
}

// grow moves t into a table a quarter larger (or makes its first).
func (t *seenTable) grow() {
	size := seenFirst
	if t.w != nil {
		size = len(t.w.s) + len(t.w.s)/4
	}
	w := newWords(size)
	if t.w != nil {
		for _, fp := range t.w.s {
			if fp != 0 {
				w.insert(fp)
			}
		}
		t.w.free()
	}
	t.w = w
}

// insert puts fp, not 0, in the table w if it is not there yet, and
// reports whether it was not. The table must have a free slot. The first
// slot tried is the low 32 bits of fp scaled to the table's size, which
// needs no power-of-two size.
func (w *words) insert(fp uint64) bool {
	slots := w.s
	n := uint64(len(slots))
	i := (fp & 0xffffffff) * n >> 32
	for {
		switch slots[i] {
		case 0:
			slots[i] = fp
			runtime.KeepAlive(w)
			return true
		case fp:
			runtime.KeepAlive(w)
			return false
		}
		if i++; i == n {
			i = 0
		}
	}
}
