package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestOffsets(t *testing.T) {
	tests := []struct {
		name string
		ops  []int64 // >= 0 pushes that offset, -1 pops the front, -2 pops the back
		want []int64 // the offsets popped
	}{
		{"front", []int64{0, 5, 300, -1, -1, -1}, []int64{0, 5, 300}},
		{"back", []int64{0, 5, 300, -2, -2, -2}, []int64{300, 5, 0}},
		{"both ends", []int64{10, 20, 1 << 40, 1<<40 + 1, -2, -1, -2, -1}, []int64{1<<40 + 1, 10, 1 << 40, 20}},
		{"emptied, then reused", []int64{7, -2, 8, 9, -1, 1 << 50, -2, -2}, []int64{7, 8, 1 << 50, 9}},
		{"large first offset", []int64{1<<62 + 3, 1<<62 + 200, -2, -2}, []int64{1<<62 + 200, 1<<62 + 3}},
		{"differences of one and of many bytes", []int64{1, 2, 130, 131, 1 << 20, -1, -1, -2, -2, -2}, []int64{1, 2, 1 << 20, 131, 130}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o offsets
			var got []int64
			for _, op := range tt.ops {
				switch op {
				case -1:
					got = append(got, o.popFront())
				case -2:
					got = append(got, o.popBack())
				default:
					o.push(op)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("popped %v, want %v", got, tt.want)
			}
			if o.len() != 0 {
				t.Errorf("len %d at the end, want 0", o.len())
			}
		})
	}
}

// TestOffsetsModel compares random pushes and pops at both ends with a
// plain slice, over differences of every size, long enough to reclaim the
// spent front.
func TestOffsetsModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var o offsets
	var model []int64
	next := int64(0)
	maxBytes := 0
	for step := range 200000 {
		switch r := rng.IntN(10); {
		case r < 6 || len(model) == 0:
			next += 1 + rng.Int64N(int64(1)<<rng.IntN(40))
			o.push(next)
			model = append(model, next)
		case r < 8:
			if got := o.popFront(); got != model[0] {
				t.Fatalf("step %d: popFront = %d, want %d", step, got, model[0])
			}
			model = model[1:]
		default:
			if got := o.popBack(); got != model[len(model)-1] {
				t.Fatalf("step %d: popBack = %d, want %d", step, got, model[len(model)-1])
			}
			model = model[:len(model)-1]
		}
		if o.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, o.len(), len(model))
		}
		maxBytes = max(maxBytes, len(o.b)-o.head)
	}
	if len(model) < 1000 {
		t.Errorf("only %d offsets at the end", len(model))
	}
	// Each difference takes at most 6 bytes here (below 2^40), where an
	// int64 takes 8.
	if n := len(o.b) - o.head; n > 6*len(model) {
		t.Errorf("%d offsets take %d bytes", len(model), n)
	}
}

// TestOffsetsSize: a host alone in the spill file, with records of about
// 60 bytes, costs one byte an offset.
func TestOffsetsSize(t *testing.T) {
	var o offsets
	for i := range int64(1_000_000) {
		o.push(i * 60)
	}
	if len(o.b) != 1_000_000 {
		t.Errorf("a million offsets 60 bytes apart take %d bytes, want 1000000", len(o.b))
	}
	for i := range int64(900_000) {
		if got := o.popFront(); got != i*60 {
			t.Fatalf("popFront %d = %d, want %d", i, got, i*60)
		}
	}
	// The spent front is given back: what is kept is at most twice what
	// is queued.
	if len(o.b) > 2*(len(o.b)-o.head)+4096 {
		t.Errorf("100000 offsets left keep %d bytes", len(o.b))
	}
}
