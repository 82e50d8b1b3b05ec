package engine

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

func TestSeenSet(t *testing.T) {
	tests := []struct {
		name string
		fps  func() []uint64
	}{
		{"zero and the extremes", func() []uint64 { return []uint64{0, 0, 1, 1, 1 << 63, 1<<64 - 1, 1<<64 - 1} }},
		{"same table, same first slot", func() []uint64 {
			// One top byte and one low half: every one probes from the
			// same slot of the same table.
			var fps []uint64
			for i := range uint64(5000) {
				fps = append(fps, 7<<56|i<<32|12345)
			}
			return fps
		}},
		{"spread, each added twice", func() []uint64 {
			var fps []uint64
			for i := range uint64(20000) {
				fp := i * 0x9E3779B97F4A7C15
				fps = append(fps, fp, fp)
			}
			return fps
		}},
		{"random, with repeats", func() []uint64 {
			// Uniform, as xxHash fingerprints are; drawn from a pool so
			// that a third are repeats.
			rng := rand.New(rand.NewPCG(1, 2))
			pool := make([]uint64, 200000)
			for i := range pool {
				pool[i] = rng.Uint64()
			}
			var fps []uint64
			for range 300000 {
				fps = append(fps, pool[rng.IntN(len(pool))])
			}
			return fps
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s seenSet
			ref := map[uint64]bool{}
			for _, fp := range tt.fps() {
				if got, want := s.add(fp), !ref[fp]; got != want {
					t.Fatalf("add(%#x) = %v, want %v", fp, got, want)
				}
				ref[fp] = true
			}
			if s.len() != len(ref) {
				t.Errorf("len = %d, want %d", s.len(), len(ref))
			}
			for fp := range ref {
				if s.add(fp) {
					t.Fatalf("add(%#x) of a fingerprint already in the set reported it new", fp)
				}
			}
			for i, tab := range s.tables {
				if tab.w == nil {
					continue
				}
				stored := 0
				for _, fp := range tab.w.s {
					if fp != 0 {
						stored++
						if fp>>56 != uint64(i) {
							t.Fatalf("fingerprint %#x in table %d", fp, i)
						}
					}
				}
				if stored != tab.n {
					t.Errorf("table %d holds %d fingerprints, counts %d", i, stored, tab.n)
				}
				if seenFillDen*tab.n > seenFillNum*len(tab.w.s) {
					t.Errorf("table %d: %d fingerprints in %d slots, over 4/5 full", i, tab.n, len(tab.w.s))
				}
			}
		})
	}
}

// TestSeenSetMapped grows one table past mapMin: on systems with memory
// mappings it must then live outside the Go heap, and still work.
func TestSeenSetMapped(t *testing.T) {
	var s seenSet
	const n = 4 * mapMin / 8
	for i := range uint64(n) {
		s.add(3<<56 | (i*0x9E3779B97F4A7C15)>>8)
	}
	tab := s.tables[3]
	if tab.n != n || 8*len(tab.w.s) < mapMin {
		t.Fatalf("table 3 holds %d fingerprints in %d slots, want %d in at least %d", tab.n, len(tab.w.s), n, mapMin/8)
	}
	if runtime.GOOS == "linux" && tab.w.mapping == nil {
		t.Errorf("a table of %d bytes is on the Go heap", 8*len(tab.w.s))
	}
	for i := range uint64(n) {
		if s.add(3<<56 | (i*0x9E3779B97F4A7C15)>>8) {
			t.Fatalf("fingerprint %d forgotten", i)
		}
	}
}

func TestWords(t *testing.T) {
	for _, n := range []int{1, 100, mapMin/8 - 1, mapMin / 8, mapMin/8 + 1, 1 << 20} {
		w := newWords(n)
		if len(w.s) < n {
			t.Fatalf("newWords(%d) has %d words", n, len(w.s))
		}
		if mapped := w.mapping != nil; runtime.GOOS == "linux" && mapped != (8*n >= mapMin) {
			t.Errorf("newWords(%d): mapped %v", n, mapped)
		}
		for i := range w.s {
			if w.s[i] != 0 {
				t.Fatalf("newWords(%d): word %d is %#x, want 0", n, i, w.s[i])
			}
			w.s[i] = uint64(i)
		}
		w.free()
		if w.s != nil || w.mapping != nil {
			t.Errorf("after free, words still points at its memory")
		}
	}
}

func BenchmarkSeenSet(b *testing.B) {
	var s seenSet
	for i := range b.N {
		s.add(uint64(i) * 0x9E3779B97F4A7C15)
	}
}
