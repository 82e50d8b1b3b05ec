package state

import (
	"fmt"
	"slices"
	"testing"

	"crawl/downloader"
)

// claim claims keys for the page of u and returns which were fresh.
func claim(t *testing.T, f *Frontier, u string, keys ...uint64) []bool {
	t.Helper()
	fresh := make([]bool, len(keys))
	if err := f.ClaimKeys(ctx, fingerprint(t, u), keys, fresh); err != nil {
		t.Fatal(err)
	}
	return fresh
}

// TestClaimKeys checks the unique keys across a restart: a committed
// page's keys stay claimed for every later page, an uncommitted page's
// are free again, and within a run a key is claimed once.
func TestClaimKeys(t *testing.T) {
	dir := t.TempDir()
	o := Options{Spider: "shop", Output: "/out.jsonl"}
	f := open(t, dir, o)
	a, b, c := "http://a.test/a", "http://a.test/b", "http://a.test/c"
	for _, tc := range []struct {
		page string
		keys []uint64
		want []bool
	}{
		{a, []uint64{1, 2, 1}, []bool{true, true, false}}, // a key twice on a page
		{b, []uint64{2, 3}, []bool{false, true}},          // taken by a, still pending
		{a, []uint64{1}, []bool{false}},                   // a again in this run
	} {
		if got := claim(t, f, tc.page, tc.keys...); !slices.Equal(got, tc.want) {
			t.Errorf("claim %v for %s: %v, want %v", tc.keys, tc.page, got, tc.want)
		}
	}
	// a is committed, b (which claimed 3) is not: the process dies.
	if err := f.Commit(&downloader.Request{URL: a}); err != nil {
		t.Fatal(err)
	}
	f.abandon()

	f = open(t, dir, o)
	defer f.Close()
	for _, tc := range []struct {
		page string
		keys []uint64
		want []bool
	}{
		{c, []uint64{1, 2}, []bool{false, false}}, // a's, committed
		{c, []uint64{3}, []bool{true}},            // b's claim died with the process
		{b, []uint64{3}, []bool{false}},           // now c's
	} {
		if got := claim(t, f, tc.page, tc.keys...); !slices.Equal(got, tc.want) {
			t.Errorf("after reopen: claim %v for %s: %v, want %v", tc.keys, tc.page, got, tc.want)
		}
	}
}

// abandon closes the store as a killed process leaves it: what was
// written stays, nothing more is written.
func (f *Frontier) abandon() {
	close(f.stop)
	<-f.done
	f.mem.Close()
	if err := f.db.Close(); err != nil {
		panic(fmt.Sprint("close store: ", err))
	}
}

// BenchmarkClaimKeys measures the claim of a page's unique key, one new
// key per page: what --state adds to a page of a spider with unique.
func BenchmarkClaimKeys(b *testing.B) {
	f, err := Open(b.TempDir(), Options{Spider: "shop", Output: "/out.jsonl"})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fresh := make([]bool, 1)
	var i uint64
	for b.Loop() {
		i++
		if err := f.ClaimKeys(ctx, i, []uint64{i * 0x9E3779B97F4A7C15}, fresh); err != nil || !fresh[0] {
			b.Fatal(err)
		}
	}
}
