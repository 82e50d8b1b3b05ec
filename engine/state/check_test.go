package state

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crawl/downloader"
	"crawl/urls"
)

// TestStoreCutWhileOpen cuts the store short behind an open crawl's back:
// the next write faults on the mapped file, which must become an error
// that names the store, not a crash (SIGBUS).
func TestStoreCutWhileOpen(t *testing.T) {
	dir := t.TempDir()
	f := open(t, dir, Options{Spider: "shop", Output: "/out.jsonl"})
	for i := range 2000 {
		add(t, f, fmt.Sprintf("http://a.test/%d", i), false)
	}
	f.write(false, true)
	if err := f.failed(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(dir, FileName), 8192); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		add(t, f, fmt.Sprintf("http://b.test/%d", i), false)
	}
	err := f.Commit(&downloader.Request{URL: "http://a.test/1"})
	var damaged *DamagedError
	if !errors.As(err, &damaged) || !strings.Contains(err.Error(), filepath.Join(dir, FileName)) {
		t.Fatalf("commit to a store cut short: %v; want a DamagedError naming the store", err)
	}
	t.Log(err)
	f.Close()
}

// BenchmarkOpen measures what the check of every page costs at Open, on a
// store of 50,000 pending requests: "check" opens and checks the store,
// "open" is the whole Open (the check, then reading the store and
// rebuilding the frontier from it).
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	o := Options{Spider: "shop", Output: "/out.jsonl", Log: slog.New(slog.DiscardHandler)}
	f, err := Open(dir, o)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 50000 {
		u := fmt.Sprintf("http://a.test/%d", i)
		fp, _ := urls.Canon{}.Fingerprint(u)
		if _, err := f.Add(ctx, &downloader.Request{URL: u}, fp, false, time.Now()); err != nil {
			b.Fatal(err)
		}
		if i%10000 == 0 {
			f.write(false, true)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, FileName))
	b.Logf("store of %d MB", fi.Size()>>20)
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			db, err := openStore(dir, filepath.Join(dir, FileName))
			if err != nil {
				b.Fatal(err)
			}
			db.Close()
		}
	})
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			f, err := Open(dir, o)
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
}
