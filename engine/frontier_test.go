package engine

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"crawl/downloader"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func req(u string) *downloader.Request { return &downloader.Request{URL: u} }

// popAll pops every request that may start at now.
func popAll(f *frontier, now time.Time) []string {
	var got []string
	for {
		r, _, _ := f.Pop(now)
		if r == nil {
			return got
		}
		got = append(got, r.URL)
	}
}

func TestFrontierPerHostLimitAndTurns(t *testing.T) {
	f := newFrontier(Politeness{PerHost: 2}, 0, "", BFS)
	for i := range 4 {
		f.Push(req(fmt.Sprintf("http://a.test/%d", i)), t0)
	}
	f.Push(req("http://b.test/0"), t0)
	f.Push(req("http://b.test/1"), t0)
	got := popAll(f, t0)
	want := []string{"http://a.test/0", "http://b.test/0", "http://a.test/1", "http://b.test/1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("popped %v, want %v: hosts take turns, two each at most", got, want)
	}
	if r, wait, _ := f.Pop(t0); r != nil || wait != 0 {
		t.Fatalf("Pop with both hosts full = %v, %v; want nothing and no wait", r, wait)
	}
	f.Done("http://a.test/0", t0, time.Millisecond, 200, 0)
	if got := popAll(f, t0); fmt.Sprint(got) != "[http://a.test/2]" {
		t.Errorf("after one a.test request finished popped %v, want [http://a.test/2]", got)
	}
	if f.Len() != 1 {
		t.Errorf("Len = %d, want 1", f.Len())
	}
}

func TestFrontierDelay(t *testing.T) {
	f := newFrontier(Politeness{PerHost: 4, Delay: 2 * time.Second}, 0, "", BFS)
	f.Push(req("http://a.test/1"), t0)
	f.Push(req("http://a.test/2"), t0)
	f.Push(req("http://b.test/1"), t0)
	if got := popAll(f, t0); fmt.Sprint(got) != "[http://a.test/1 http://b.test/1]" {
		t.Fatalf("popped %v: the first request of each host starts at once", got)
	}
	r, wait, _ := f.Pop(t0.Add(500 * time.Millisecond))
	if r != nil || wait != 1500*time.Millisecond {
		t.Fatalf("Pop before the delay = %v, %v; want nothing for 1.5s", r, wait)
	}
	if r, _, _ := f.Pop(t0.Add(2 * time.Second)); r == nil || r.URL != "http://a.test/2" {
		t.Fatalf("Pop after the delay = %v, want http://a.test/2", r)
	}
}

func TestFrontierCrawlDelay(t *testing.T) {
	f := newFrontier(Politeness{Delay: time.Second, MaxDelay: 10 * time.Second}, 0, "", BFS)
	f.Push(req("http://a.test/1"), t0)
	f.Push(req("http://a.test/2"), t0)
	f.Push(req("http://a.test/3"), t0)
	f.Pop(t0)
	f.Done("http://a.test/1", t0, 0, 200, 5*time.Second) // robots.txt asks for 5s
	f.Pop(t0.Add(time.Second))                           // the 1s delay set before was known
	if r, wait, _ := f.Pop(t0.Add(time.Second)); r != nil || wait != 5*time.Second {
		t.Errorf("after Crawl-delay 5s: Pop = %v, wait %v; want a 5s wait", r, wait)
	}
	f.Done("http://a.test/2", t0, 0, 200, time.Hour) // capped at MaxDelay
	if h := f.hosts["a.test"]; h.delay != 10*time.Second {
		t.Errorf("delay after Crawl-delay 1h = %v, want the 10s cap", h.delay)
	}
}

func TestThrottle(t *testing.T) {
	f := newFrontier(Politeness{AutoThrottle: true, Delay: 100 * time.Millisecond, MaxDelay: 10 * time.Second}, 0, "", BFS)
	tests := []struct {
		name    string
		delay   time.Duration
		latency time.Duration
		status  int
		want    time.Duration
	}{
		{"towards a slow latency", time.Second, 3 * time.Second, 200, 2 * time.Second},
		{"towards a fast latency", 2 * time.Second, 0, 200, time.Second},
		{"never below Delay", 100 * time.Millisecond, 0, 200, 100 * time.Millisecond},
		{"error answers never speed up", 2 * time.Second, 0, 500, 2 * time.Second},
		{"error answers may slow down", time.Second, 3 * time.Second, 404, 2 * time.Second},
		{"failures never speed up", 2 * time.Second, 0, 0, 2 * time.Second},
		{"429 doubles", 2 * time.Second, 0, 429, 4 * time.Second},
		{"503 backs off to at least 1s", 100 * time.Millisecond, 0, 503, time.Second},
		{"capped", 8 * time.Second, 0, 429, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.throttle(tt.delay, tt.latency, tt.status); got != tt.want {
				t.Errorf("throttle(%v, %v, %d) = %v, want %v", tt.delay, tt.latency, tt.status, got, tt.want)
			}
		})
	}
}

func TestFrontierForgetsIdleHosts(t *testing.T) {
	f := newFrontier(Politeness{}, 0, "", BFS)
	for i := range 1000 {
		u := fmt.Sprintf("http://h%d.test/", i)
		f.Push(req(u), t0)
		f.Pop(t0)
		f.Done(u, t0, 0, 200, 0)
	}
	if n := len(f.hosts); n != 0 {
		t.Errorf("%d idle hosts kept, want 0", n)
	}
}

// TestFrontierSpills keeps 10 requests in memory and queues 1000 on three
// hosts: the rest go to disk and come back whole, in each host's order:
// as they came with BFS, the newest first with DFS.
func TestFrontierSpills(t *testing.T) {
	for _, order := range []Order{BFS, DFS} {
		t.Run(string(order), func(t *testing.T) {
			f := newFrontier(Politeness{PerHost: 1000}, 10, t.TempDir(), order)
			defer f.Close()
			want := map[string][]string{}
			for i := range 1000 {
				h := fmt.Sprintf("h%d.test", i%3)
				r := &downloader.Request{
					URL:        fmt.Sprintf("http://%s/%d", h, i),
					Depth:      i % 5,
					Method:     "POST",
					Header:     http.Header{"X-N": {fmt.Sprint(i), "two"}},
					Body:       []byte(fmt.Sprintf("n=%d", i)),
					Rule:       "detail",
					PublicOnly: i%2 == 0,
				}
				if err := f.Push(r, t0); err != nil {
					t.Fatal(err)
				}
				want[h] = append(want[h], r.URL)
				if f.inMemory > 10 {
					t.Fatalf("%d requests in memory, budget 10", f.inMemory)
				}
			}
			if f.disk.f == nil {
				t.Fatal("nothing was spilled to disk")
			}
			if order == DFS {
				for _, urls := range want {
					slices.Reverse(urls)
				}
			}
			got := map[string][]string{}
			for {
				r, _, err := f.Pop(t0)
				if err != nil {
					t.Fatal(err)
				}
				if r == nil {
					break
				}
				var i int
				fmt.Sscanf(r.URL[len("http://h0.test/"):], "%d", &i)
				if r.Depth != i%5 || r.Method != "POST" || string(r.Body) != fmt.Sprintf("n=%d", i) ||
					r.Rule != "detail" || fmt.Sprint(r.Header["X-N"]) != fmt.Sprintf("[%d two]", i) || r.PublicOnly != (i%2 == 0) {
					t.Fatalf("request %d came back as %+v", i, r)
				}
				h := hostKey(r.URL)
				got[h] = append(got[h], r.URL)
				if f.inMemory > 10 {
					t.Fatalf("%d requests in memory while popping", f.inMemory)
				}
			}
			for h, urls := range want {
				if fmt.Sprint(got[h]) != fmt.Sprint(urls) {
					t.Errorf("host %s: order changed:\ngot  %v\nwant %v", h, got[h], urls)
				}
			}
			if f.Len() != 0 || f.inMemory != 0 {
				t.Errorf("after popping everything: Len %d, in memory %d", f.Len(), f.inMemory)
			}
		})
	}
}

// TestFrontierOrder pushes and pops in turn on one host, with a memory of
// two requests so that some wait on disk, and checks the order each way.
func TestFrontierOrder(t *testing.T) {
	tests := []struct {
		order Order
		ops   string // a letter pushes http://a.test/<letter>, "." pops one
		want  string // the letters popped
	}{
		{BFS, "abc...", "abc"},
		{DFS, "abc...", "cba"},
		{"", "abcde.....", "abcde"}, // the zero Order is BFS
		{DFS, "abcde.....", "edcba"},
		{BFS, "abcd..ef....", "abcdef"},
		{DFS, "abcd..ef....", "dcfeba"},
		{DFS, "a.bc.d..efg...", "acdbgfe"},
		{BFS, "a.bc.d..efg...", "abcdefg"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s", tt.order, tt.ops), func(t *testing.T) {
			f := newFrontier(Politeness{PerHost: 100}, 2, t.TempDir(), tt.order)
			defer f.Close()
			var got strings.Builder
			for _, op := range tt.ops {
				if op != '.' {
					if err := f.Push(req("http://a.test/"+string(op)), t0); err != nil {
						t.Fatal(err)
					}
					continue
				}
				r, _, err := f.Pop(t0)
				if err != nil || r == nil {
					t.Fatalf("Pop = %v, %v; want a request", r, err)
				}
				got.WriteString(strings.TrimPrefix(r.URL, "http://a.test/"))
			}
			if got.String() != tt.want {
				t.Errorf("popped %s, want %s", got.String(), tt.want)
			}
		})
	}
}

// TestFrontierModel runs random pushes and pops on a frontier with little
// memory against a model of plain slices, one per host, for both orders:
// every request popped must be the model host's oldest (BFS) or newest
// (DFS), and the memory budget must hold throughout.
func TestFrontierModel(t *testing.T) {
	for _, order := range []Order{BFS, DFS} {
		for _, memory := range []int{1, 3, 50} {
			t.Run(fmt.Sprintf("%s memory %d", order, memory), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(memory), 7))
				f := newFrontier(Politeness{PerHost: 1 << 20}, memory, t.TempDir(), order)
				defer f.Close()
				model := map[string][]string{}
				total, n := 0, 0
				for step := range 20000 {
					if rng.IntN(5) < 3 { // more pushes than pops: the queue grows
						h := fmt.Sprintf("h%d.test", rng.IntN(4))
						u := fmt.Sprintf("http://%s/%d", h, n)
						n++
						if err := f.Push(req(u), t0); err != nil {
							t.Fatal(err)
						}
						model[h] = append(model[h], u)
						total++
					} else {
						r, _, err := f.Pop(t0)
						if err != nil {
							t.Fatal(err)
						}
						if r == nil {
							if total != 0 {
								t.Fatalf("step %d: Pop returned nothing with %d queued", step, total)
							}
							continue
						}
						q := model[hostKey(r.URL)]
						want := q[0]
						if order == DFS {
							want = q[len(q)-1]
						}
						if r.URL != want {
							t.Fatalf("step %d: popped %s, want %s", step, r.URL, want)
						}
						if order == DFS {
							model[hostKey(r.URL)] = q[:len(q)-1]
						} else {
							model[hostKey(r.URL)] = q[1:]
						}
						total--
					}
					if f.Len() != total {
						t.Fatalf("step %d: Len %d, want %d", step, f.Len(), total)
					}
					if f.inMemory > memory {
						t.Fatalf("step %d: %d requests in memory, budget %d", step, f.inMemory, memory)
					}
				}
				if total < 1000 {
					t.Errorf("only %d requests queued at the end: the test did not exercise the disk", total)
				}
			})
		}
	}
}

func TestFrontierSpillFailure(t *testing.T) {
	f := newFrontier(Politeness{}, 1, "/nonexistent-dir", BFS)
	defer f.Close()
	if err := f.Push(req("http://a.test/1"), t0); err != nil {
		t.Fatalf("first push, in memory: %v", err)
	}
	if err := f.Push(req("http://a.test/2"), t0); err == nil || !strings.Contains(err.Error(), "spill requests to disk") {
		t.Errorf("push beyond memory into a missing directory: %v, want a spill error", err)
	}
}
