package state

import (
	"context"
	"strings"
	"testing"
	"time"

	"crawl/downloader"
	"crawl/stats"
	"crawl/urls"
)

var ctx = context.Background()

func open(t *testing.T, dir string, o Options) *Frontier {
	t.Helper()
	f, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func fingerprint(t *testing.T, u string) uint64 {
	t.Helper()
	fp, err := urls.Canon{}.Fingerprint(u)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// add queues the request for u and reports whether it was new.
func add(t *testing.T, f *Frontier, u string, start bool) bool {
	t.Helper()
	added, err := f.Add(ctx, &downloader.Request{URL: u}, fingerprint(t, u), start, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return added
}

// drain takes every request the frontier will hand out now.
func drain(t *testing.T, f *Frontier) []string {
	t.Helper()
	var got []string
	for {
		req, _, err := f.Next(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if req == nil {
			return got
		}
		got = append(got, req.URL)
		if err := f.Done(ctx, req, time.Now(), 0, 200, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// TestResume checks what a second Open finds: requests not committed come
// back in their first order, committed ones do not, every request stays
// seen, the start position, the output length and the stats carry over.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	st := new(stats.Stats)
	o := Options{Spider: "shop", Output: "/out.jsonl", Stats: st}
	f := open(t, dir, o)
	size := int64(10)
	if err := f.Begin(func() int64 { return size }); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://a.test/1", "http://a.test/2", "http://a.test/3"} {
		add(t, f, u, true)
		if err := f.StartTaken(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st.Add(stats.Pages, 5)
	got := drain(t, f)
	if strings.Join(got, " ") != "http://a.test/1 http://a.test/2 http://a.test/3" {
		t.Fatalf("handed out %v", got)
	}
	// /2 was reached through a redirect to /r: the page /r is seen for good
	// only once /2 is committed.
	if fresh, _ := f.Claim(ctx, &downloader.Request{URL: "http://a.test/2"}, fingerprint(t, "http://a.test/r")); !fresh {
		t.Fatal("first claim of /r refused")
	}
	if fresh, _ := f.Claim(ctx, &downloader.Request{URL: "http://a.test/3"}, fingerprint(t, "http://a.test/r")); fresh {
		t.Fatal("second claim of /r granted")
	}
	size = 42
	if err := f.Commit(&downloader.Request{URL: "http://a.test/2"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	st2 := new(stats.Stats)
	o.Stats = st2
	f = open(t, dir, o)
	defer f.Close()
	if !f.Resumed() || f.Offset() != 42 || f.StartsTaken() != 3 {
		t.Errorf("resumed %v, offset %d, starts taken %d; want true, 42, 3", f.Resumed(), f.Offset(), f.StartsTaken())
	}
	if n := st2.Get(stats.Pages); n != 5 {
		t.Errorf("pages restored as %d, want 5", n)
	}
	if got := drain(t, f); strings.Join(got, " ") != "http://a.test/1 http://a.test/3" {
		t.Errorf("after resuming, handed out %v; want /1 and /3, not the committed /2", got)
	}
	for _, u := range []string{"http://a.test/1", "http://a.test/2", "http://a.test/r"} {
		if add(t, f, u, false) {
			t.Errorf("%s is not seen after resuming", u)
		}
	}
}

// TestUncommittedClaimIsForgotten: a page claimed through a redirect by a
// request that was never committed can be claimed again after resuming,
// or its items would be lost.
func TestUncommittedClaimIsForgotten(t *testing.T) {
	dir := t.TempDir()
	o := Options{Spider: "shop", Output: "/out.jsonl"}
	f := open(t, dir, o)
	add(t, f, "http://a.test/2", true)
	drain(t, f)
	f.Claim(ctx, &downloader.Request{URL: "http://a.test/2"}, fingerprint(t, "http://a.test/r"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f = open(t, dir, o)
	defer f.Close()
	if fresh, _ := f.Claim(ctx, &downloader.Request{URL: "http://a.test/2"}, fingerprint(t, "http://a.test/r")); !fresh {
		t.Error("the page claimed by an uncommitted request stayed seen")
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	f := open(t, dir, Options{Spider: "shop", Output: "/out.jsonl"})
	_, err := Open(dir, Options{Spider: "shop", Output: "/out.jsonl"})
	if err == nil || !strings.Contains(err.Error(), "in use by another crawl") {
		t.Errorf("second Open while the first is open: %v", err)
	}
	f.Close()
	for _, o := range []Options{{Spider: "blog", Output: "/out.jsonl"}, {Spider: "shop", Output: "/other.jsonl"}} {
		_, err := Open(dir, o)
		if err == nil || !strings.Contains(err.Error(), "belongs to a crawl with") {
			t.Errorf("Open for %+v: %v", o, err)
		}
	}
}
