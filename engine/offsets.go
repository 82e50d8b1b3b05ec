package engine

import "encoding/binary"

// offsets is a double-ended queue of a host's offsets in the spill file,
// kept as the varint differences between neighbours. The spill file only
// grows, so a host's offsets come in increasing order and each difference
// is the size of the records written between two of them: one byte for a
// host that has the file to itself and a short URL, rarely more than three,
// where an int64 would take eight. Both ends can be read: the front from
// the start of its varint, the back from its last byte, since only the last
// byte of a varint has its top bit clear. The zero value is empty.
type offsets struct {
	b     []byte // differences; b[head:] are queued, the first one unused
	head  int
	first int64 // the oldest offset queued
	last  int64 // the newest offset queued
	n     int
}

func (o *offsets) len() int { return o.n }

// push appends off, which must be larger than every offset queued.
func (o *offsets) push(off int64) {
	if o.n == 0 {
		o.first, o.last = off, off
	}
	o.b = binary.AppendUvarint(o.b, uint64(off-o.last))
	o.last = off
	o.n++
}

// popFront removes and returns the oldest offset. The queue must not be
// empty.
func (o *offsets) popFront() int64 {
	off := o.first
	_, k := binary.Uvarint(o.b[o.head:]) // off's own difference, spent
	o.head += k
	o.n--
	if o.n == 0 {
		o.reset()
		return off
	}
	d, _ := binary.Uvarint(o.b[o.head:])
	o.first += int64(d)
	// Reclaim the spent front once it is half the slice, as queue does.
	if o.head >= 4096 && 2*o.head >= len(o.b) {
		o.b = o.b[:copy(o.b, o.b[o.head:])]
		o.head = 0
	}
	return off
}

// popBack removes and returns the newest offset. The queue must not be
// empty.
func (o *offsets) popBack() int64 {
	off := o.last
	end := len(o.b)
	start := end - 1
	for start > o.head && o.b[start-1]&0x80 != 0 {
		start--
	}
	d, _ := binary.Uvarint(o.b[start:end])
	o.b = o.b[:start]
	o.last -= int64(d)
	o.n--
	if o.n == 0 {
		o.reset()
	}
	return off
}

// reset empties o, keeping a small buffer for the next pushes and letting
// a large one go.
func (o *offsets) reset() {
	if cap(o.b) > 4096 {
		o.b = nil
	}
	o.b, o.head, o.first, o.last = o.b[:0], 0, 0, 0
}
