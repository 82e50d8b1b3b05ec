package shared

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"crawl/downloader"
	"crawl/engine"
	"crawl/engine/shared/redistest"
	"crawl/stats"
	"crawl/urls"
)

// open joins the crawl at u for the test, and closes the frontier when
// the test ends.
func open(t *testing.T, u string, opts Options) *Frontier {
	t.Helper()
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	f, err := Open(context.Background(), u, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	// The tests step through time themselves.
	f.fixedClock = true
	return f
}

func req(url string) *downloader.Request { return &downloader.Request{URL: url} }

func fp(t *testing.T, url string) uint64 {
	t.Helper()
	v, err := urls.Canon{}.Fingerprint(url)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// add queues a link to url through f and fails the test unless it was new.
func add(t *testing.T, f *Frontier, url string, now time.Time) {
	t.Helper()
	ok, err := f.Add(context.Background(), req(url), fp(t, url), false, now)
	if err != nil || !ok {
		t.Fatalf("add %s: %v, %v; want true", url, ok, err)
	}
}

// next takes a request through f at now and returns its URL, "" for none.
func next(t *testing.T, f *Frontier, now time.Time) string {
	t.Helper()
	r, wait, err := f.Next(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if r == nil {
		if wait <= 0 {
			t.Fatalf("Next gave no request and a wait of %s, want a positive wait", wait)
		}
		return ""
	}
	return r.URL
}

// finish fetches nothing but reports r done and its items written, as
// the engine does.
func finish(t *testing.T, f *Frontier, r *downloader.Request, now time.Time) {
	t.Helper()
	if err := f.Done(context.Background(), r, now, 0, 200, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(r); err != nil {
		t.Fatal(err)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url, addr, name string
		db              int
		err             string
	}{
		{url: "redis://127.0.0.1:6390/3", addr: "127.0.0.1:6390", db: 3},
		{url: "redis://:secret@10.0.0.1/2?key=books", addr: "10.0.0.1:6379", db: 2, name: "books"},
		{url: "redis://h:1/0?key=b&dial_timeout=2s", addr: "h:1", name: "b"},
		{url: "http://h:1/0", err: "invalid URL scheme"},
		{url: "redis://h:1/x", err: "invalid database number"},
		{url: "redis://:secret@h:1/0?key=", err: "bad Redis URL redis://:xxxxx@h:1/0?key=: empty key"},
		{url: "redis://h:1/0?colour=red", err: "unexpected option: colour"},
		{url: "redis://h:1/0\x7f", err: "bad Redis URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			ro, name, err := ParseURL(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ro.Addr != tt.addr || ro.DB != tt.db || name != tt.name {
				t.Errorf("got %s, db %d, name %q; want %s, %d, %q", ro.Addr, ro.DB, name, tt.addr, tt.db, tt.name)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = Open(context.Background(), "redis://"+addr+"/0", Options{})
	if err == nil || !strings.Contains(err.Error(), "connect to Redis at redis://"+addr) {
		t.Fatalf("Open of a closed port: %v, want a connect error naming %s", err, addr)
	}
}

// TestPerHostAcrossProcesses: two frontiers share one host's limit.
func TestPerHostAcrossProcesses(t *testing.T) {
	u := redistest.URL(t)
	pol := engine.Politeness{PerHost: 2}
	a, b := open(t, u, Options{Politeness: pol}), open(t, u, Options{Politeness: pol})
	now := time.Now()
	for i := range 5 {
		add(t, a, fmt.Sprintf("http://one.test/%d", i), now)
	}
	add(t, b, "http://two.test/0", now)
	var taken []*downloader.Request
	for _, f := range []*Frontier{a, b, a, b, a, b} {
		r, _, err := f.Next(context.Background(), now)
		if err != nil {
			t.Fatal(err)
		}
		if r != nil {
			taken = append(taken, r)
		}
	}
	var got []string
	for _, r := range taken {
		got = append(got, r.URL)
	}
	want := []string{"http://one.test/0", "http://two.test/0", "http://one.test/1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("taken %q, want %q: two of one.test at most, and two.test in its turn", got, want)
	}
	if a.Len() != 3 {
		t.Errorf("Len = %d, want 3", a.Len())
	}
	// a finishes one of one.test's: b may take another once Redis hears
	// of it, with a's next call.
	finish(t, a, taken[0], now)
	if _, err := a.Settled(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := next(t, b, now); got != "http://one.test/2" {
		t.Fatalf("after a request was done, b took %q, want http://one.test/2", got)
	}
	if got := next(t, a, now); got != "" {
		t.Fatalf("a took %q with one.test at its limit again", got)
	}
}

// TestPerHostUnderLoad runs three frontiers at once, each taking all it
// may, and counts the requests in flight to the one host.
func TestPerHostUnderLoad(t *testing.T) {
	u := redistest.URL(t)
	const n, per = 300, 3
	pol := engine.Politeness{PerHost: per}
	var fs []*Frontier
	for range 3 {
		f := open(t, u, Options{Politeness: pol})
		if err := f.StartsDone(context.Background()); err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	for i := range n {
		add(t, fs[0], fmt.Sprintf("http://one.test/%d", i), time.Now())
	}
	var inflight, peak atomic.Int64
	var mu sync.Mutex
	seen := make(map[string]int)
	g, ctx := errgroup.WithContext(context.Background())
	for _, f := range fs {
		g.Go(func() error {
			for {
				var held []*downloader.Request
				for {
					r, _, err := f.Next(ctx, time.Now())
					if err != nil {
						return err
					}
					if r == nil {
						break
					}
					held = append(held, r)
					c := inflight.Add(1)
					for p := peak.Load(); c > p && !peak.CompareAndSwap(p, c); p = peak.Load() {
					}
				}
				if len(held) == 0 {
					settled, err := f.Settled(ctx)
					if err != nil || settled {
						return err
					}
					select {
					case <-time.After(poll):
					case <-ctx.Done():
						return ctx.Err()
					}
					continue
				}
				for _, r := range held {
					inflight.Add(-1)
					mu.Lock()
					seen[r.URL]++
					mu.Unlock()
					if err := f.Done(ctx, r, time.Now(), 0, 200, 0); err != nil {
						return err
					}
					if err := f.Commit(r); err != nil {
						return err
					}
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > per {
		t.Errorf("%d requests in flight to one host at once, want at most %d", p, per)
	}
	if len(seen) != n {
		t.Errorf("%d distinct requests taken, want %d", len(seen), n)
	}
	for url, k := range seen {
		if k != 1 {
			t.Errorf("%s taken %d times", url, k)
		}
	}
}

// TestDelayAcrossProcesses: --delay holds between requests that two
// processes take.
func TestDelayAcrossProcesses(t *testing.T) {
	u := redistest.URL(t)
	pol := engine.Politeness{Delay: time.Second}
	a, b := open(t, u, Options{Politeness: pol}), open(t, u, Options{Politeness: pol})
	now := time.Now()
	add(t, a, "http://one.test/0", now)
	add(t, a, "http://one.test/1", now)
	if got := next(t, a, now); got != "http://one.test/0" {
		t.Fatalf("a took %q", got)
	}
	for _, at := range []time.Duration{0, 500 * time.Millisecond, 999 * time.Millisecond} {
		if got := next(t, b, now.Add(at)); got != "" {
			t.Fatalf("b took %s %s after a took a request, within the delay", got, at)
		}
	}
	if got := next(t, b, now.Add(time.Second)); got != "http://one.test/1" {
		t.Fatalf("b took %q once the delay passed, want http://one.test/1", got)
	}
}

// TestAutoThrottleShared: a host's delay learnt from one process's
// responses holds for the others.
func TestAutoThrottleShared(t *testing.T) {
	u := redistest.URL(t)
	pol := engine.Politeness{AutoThrottle: true}
	a, b := open(t, u, Options{Politeness: pol}), open(t, u, Options{Politeness: pol})
	now := time.Now()
	add(t, a, "http://one.test/0", now)
	add(t, a, "http://one.test/1", now)
	add(t, a, "http://one.test/2", now)
	r, _, err := a.Next(context.Background(), now)
	if err != nil || r == nil {
		t.Fatal(r, err)
	}
	if err := a.Done(context.Background(), r, now, 0, 503, 0); err != nil {
		t.Fatal(err)
	}
	a.Commit(r)
	if got := next(t, a, now); got != "http://one.test/1" { // a 503 doubles the delay after this start
		t.Fatalf("a took %q", got)
	}
	if got := next(t, b, now.Add(999*time.Millisecond)); got != "" {
		t.Fatalf("b took %s within the delay a 503 set", got)
	}
	if got := next(t, b, now.Add(time.Second)); got != "http://one.test/2" {
		t.Fatalf("b took %q after the delay, want http://one.test/2", got)
	}
}

// TestLeaseExpiry kills a process (its lease neither renewed nor given
// back) with a request in each state: another takes them all once the
// lease has run out, and none that was fully done.
func TestLeaseExpiry(t *testing.T) {
	u := redistest.URL(t)
	ctx := context.Background()
	pol := engine.Politeness{PerHost: 4}
	st := new(stats.Stats)
	a := open(t, u, Options{Politeness: pol, LeaseTimeout: time.Minute})
	b := open(t, u, Options{Politeness: pol, LeaseTimeout: time.Minute, Stats: st})
	now := time.Now()
	for i := range 5 {
		add(t, a, fmt.Sprintf("http://one.test/%d", i), now)
	}
	var rs []*downloader.Request
	for range 4 {
		r, _, err := a.Next(ctx, now)
		if err != nil || r == nil {
			t.Fatal(r, err)
		}
		rs = append(rs, r)
	}
	// rs[0] taken only; rs[1] written, links not queued; rs[2] links
	// queued, not written; rs[3] both.
	a.Commit(rs[1])
	a.Done(ctx, rs[2], now, 0, 200, 0)
	a.Done(ctx, rs[3], now, 0, 200, 0) // tells Redis of rs[2]
	a.Commit(rs[3])
	a.Done(ctx, rs[1], now, 0, 200, 0) // tells Redis of rs[3]
	a.abandon()                        // rs[1]'s links were never queued
	if got := next(t, b, now); got != "http://one.test/4" {
		t.Fatalf("b took %q while a's lease holds, want http://one.test/4", got)
	}
	if got := next(t, b, now.Add(time.Second)); got != "" {
		t.Fatalf("b took %q: nothing waits while a's lease holds", got)
	}
	later := now.Add(time.Minute + time.Millisecond)
	var got []string
	for {
		u := next(t, b, later)
		if u == "" {
			break
		}
		got = append(got, u)
	}
	want := []string{"http://one.test/0", "http://one.test/1", "http://one.test/2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after a's lease ran out b took %q, want %q", got, want)
	}
	if n := st.Get(Requeued); n != 3 {
		t.Errorf("%s = %d, want 3", Requeued, n)
	}
}

// TestCloseRequeues: a process that closes gives back at once what it
// took and did not finish.
func TestCloseRequeues(t *testing.T) {
	u := redistest.URL(t)
	ctx := context.Background()
	pol := engine.Politeness{PerHost: 2}
	a, b := open(t, u, Options{Politeness: pol}), open(t, u, Options{Politeness: pol})
	now := time.Now()
	for i := range 3 {
		add(t, a, fmt.Sprintf("http://one.test/%d", i), now)
	}
	r0, _, _ := a.Next(ctx, now)
	r1, _, _ := a.Next(ctx, now)
	if r0 == nil || r1 == nil {
		t.Fatal("a took no request")
	}
	finish(t, a, r0, now)
	a.Done(ctx, r1, now, 0, 0, 0) // stopped before it was fetched: no items to write
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for u := next(t, b, now); u != ""; u = next(t, b, now) {
		got = append(got, u)
	}
	if want := []string{"http://one.test/1", "http://one.test/2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a closed, b took %q, want %q", got, want)
	}
	if err := a.Commit(r1); err == nil {
		t.Error("Commit after Close: no error")
	}
}

func TestSettled(t *testing.T) {
	u := redistest.URL(t)
	ctx := context.Background()
	a, b := open(t, u, Options{}), open(t, u, Options{})
	settled := func(f *Frontier, want bool, when string) {
		t.Helper()
		got, err := f.Settled(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%s: Settled = %v, want %v", when, got, want)
		}
	}
	settled(a, false, "both reading start requests")
	a.StartsDone(ctx)
	settled(a, false, "b reading start requests")
	b.StartsDone(ctx)
	settled(a, true, "nothing queued, nothing taken")
	now := time.Now()
	add(t, b, "http://one.test/0", now)
	settled(a, false, "one request queued")
	r, _, err := b.Next(ctx, now)
	if err != nil || r == nil {
		t.Fatal(r, err)
	}
	settled(a, false, "one request taken")
	b.Commit(r)
	settled(a, false, "its items written")
	b.Done(ctx, r, now, 0, 200, 0)
	settled(a, false, "done, its links perhaps not yet queued")
	settled(b, true, "done")
	settled(a, true, "done")

	// A process that dies while reading its start requests holds the end
	// back until its lease runs out.
	c := open(t, u, Options{LeaseTimeout: time.Minute})
	settled(a, false, "c reading start requests")
	c.abandon()
	settled(a, false, "c dead, its lease not run out")
	ok, err := a.settledAt(ctx, time.Now().Add(time.Minute+time.Second))
	if err != nil || !ok {
		t.Fatalf("after c's lease ran out: Settled = %v, %v; want true", ok, err)
	}
}

// TestStartsAreShared: every process reads the same start requests; each
// is queued once.
func TestStartsAreShared(t *testing.T) {
	u := redistest.URL(t)
	ctx := context.Background()
	a, b := open(t, u, Options{}), open(t, u, Options{})
	now := time.Now()
	url := "http://one.test/"
	for _, tt := range []struct {
		f    *Frontier
		want bool
	}{{a, true}, {b, false}, {a, false}, {b, false}} {
		got, err := tt.f.Add(ctx, req(url), fp(t, url), true, now)
		if err != nil || got != tt.want {
			t.Fatalf("Add start: %v, %v; want %v", got, err, tt.want)
		}
	}
	if a.Len() != 1 || b.Len() != 1 {
		t.Errorf("Len = %d, %d; want 1, 1", a.Len(), b.Len())
	}
	// A redirect to a page already queued is not fresh; to another, it is.
	for _, tt := range []struct {
		url  string
		want bool
	}{{url, false}, {"http://one.test/elsewhere", true}, {"http://one.test/elsewhere", false}} {
		got, err := b.Claim(ctx, req("http://one.test/from"), fp(t, tt.url))
		if err != nil || got != tt.want {
			t.Errorf("Claim %s: %v, %v; want %v", tt.url, got, err, tt.want)
		}
	}
}

// TestNextRetry: a call that Redis ran but whose answer was lost, made
// again, takes the same request, not a second one.
func TestNextRetry(t *testing.T) {
	u := redistest.URL(t)
	ctx := context.Background()
	a := open(t, u, Options{})
	now := time.Now()
	add(t, a, "http://one.test/0", now)
	add(t, a, "http://one.test/1", now)
	for range 2 {
		res, err := a.run(ctx, now, "next", "retried").Slice()
		if err != nil {
			t.Fatal(err)
		}
		r, err := engine.DecodeRequest([]byte(res[0].(string)))
		if err != nil || r.URL != "http://one.test/0" || res[2].(int64) != 1 {
			t.Fatalf("next: %v, %v, %d queued; want http://one.test/0 and 1", r, err, res[2])
		}
	}
}

func TestSharedStats(t *testing.T) {
	u := redistest.URL(t)
	var sts [2]stats.Stats
	var fs [2]*Frontier
	for i := range fs {
		fs[i] = open(t, u, Options{Stats: &sts[i]})
		sts[i].Add(stats.Pages, int64(10*(i+1)))
		sts[i].Inc(stats.ItemsWritten)
	}
	if err := fs[0].pushStats(context.Background()); err != nil {
		t.Fatal(err)
	}
	sts[0].Add(stats.Pages, 5)
	for _, f := range fs {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	ro, _, _ := ParseURL(u)
	ro.DisableIdentity = true
	c := redis.NewClient(ro)
	defer c.Close()
	got, err := c.HGetAll(context.Background(), fs[0].Key("stats")).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{stats.Pages: "35", stats.ItemsWritten: "2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("shared stats %v, want %v", got, want)
	}
}

// TestAddAll: the links of a page in one call are queued like one Add
// each: what another process queued, or the page repeats, is not new.
func TestAddAll(t *testing.T) {
	u := redistest.URL(t)
	ctx := context.Background()
	a, b := open(t, u, Options{Politeness: engine.Politeness{PerHost: 10}}), open(t, u, Options{Politeness: engine.Politeness{PerHost: 10}})
	now := time.Now()
	add(t, b, "http://one.test/2", now) // queued by the other process
	links := []string{"http://one.test/1", "http://one.test/2", "http://two.test/1", "http://one.test/1", "http://one.test/3"}
	var reqs []*downloader.Request
	var fps []uint64
	for _, l := range links {
		reqs, fps = append(reqs, req(l)), append(fps, fp(t, l))
	}
	n, err := a.AddAll(ctx, reqs, fps, now)
	if err != nil || n != 3 {
		t.Fatalf("AddAll = %d, %v; want 3 new", n, err)
	}
	if n, err := a.AddAll(ctx, reqs[:2], fps[:2], now); err != nil || n != 0 {
		t.Errorf("AddAll again = %d, %v; want 0", n, err)
	}
	if a.Len() != 4 {
		t.Errorf("Len = %d, want 4", a.Len())
	}
	var got []string
	for range 4 {
		got = append(got, next(t, a, now))
	}
	slices.Sort(got)
	if want := []string{"http://one.test/1", "http://one.test/2", "http://one.test/3", "http://two.test/1"}; !slices.Equal(got, want) {
		t.Errorf("took %v, want %v", got, want)
	}
}
