package shared

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"crawl/engine/shared/redistest"
)

// TestClaimKeys checks the unique keys of a shared crawl: the first page
// to claim a key keeps it, in every process; the same page claims it
// again, whether the call is made again in its process (after a timeout)
// or the page is fetched again in another (after the first died).
func TestClaimKeys(t *testing.T) {
	u := redistest.URL(t)
	p1, p2 := open(t, u, Options{}), open(t, u, Options{})
	a, b := fp(t, "http://a.test/a"), fp(t, "http://a.test/b")
	for i, tc := range []struct {
		f    *Frontier
		page uint64
		keys []uint64
		want []bool
	}{
		{p1, a, []uint64{1, 2, 1}, []bool{true, true, false}}, // a key twice on a page
		{p1, b, []uint64{2, 3}, []bool{false, true}},          // another page
		{p2, b, []uint64{1, 4}, []bool{false, true}},          // another process
		{p1, a, []uint64{1, 1}, []bool{true, false}},          // the call made again
		{p2, a, []uint64{1, 2, 3}, []bool{true, true, false}}, // the page again, elsewhere
		{p1, a, []uint64{1}, []bool{true}},                    // and back
	} {
		fresh := make([]bool, len(tc.keys))
		if err := tc.f.ClaimKeys(context.Background(), tc.page, tc.keys, fresh); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(fresh, tc.want) {
			t.Errorf("claim %d, keys %v: %v, want %v", i, tc.keys, fresh, tc.want)
		}
	}
}

// BenchmarkClaimKeys measures the claim of a page's unique keys in Redis,
// one script call per page, with one and with ten keys.
func BenchmarkClaimKeys(b *testing.B) {
	f, err := Open(context.Background(), redistest.URL(b), Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			keys, fresh := make([]uint64, n), make([]bool, n)
			var page uint64
			for b.Loop() {
				page++
				for i := range keys {
					keys[i] = page<<8 | uint64(i) | uint64(n)<<40
				}
				if err := f.ClaimKeys(context.Background(), page, keys, fresh); err != nil || !fresh[0] {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestClaimKeysLost: a claim made after Redis lost the crawl fails with
// ErrLost and writes nothing, rather than starting a new set of keys in an
// emptied Redis as if none had been claimed.
func TestClaimKeysLost(t *testing.T) {
	s := redistest.Start(t)
	f := open(t, s.URL(t), Options{})
	page := fp(t, "http://a.test/a")
	fresh := make([]bool, 1)
	if err := f.ClaimKeys(context.Background(), page, []uint64{7}, fresh); err != nil || !fresh[0] {
		t.Fatalf("first claim: %v, %v; want fresh", fresh, err)
	}
	s.Do("FLUSHALL")
	err := f.ClaimKeys(context.Background(), page, []uint64{9}, fresh)
	if !errors.Is(err, ErrLost) {
		t.Fatalf("claim after FLUSHALL: %v, want ErrLost", err)
	}
	if n := s.Do("EXISTS", f.Key("unique")); fmt.Sprint(n) != "0" {
		t.Errorf("the claim after FLUSHALL wrote its keys (EXISTS = %v)", n)
	}
}
