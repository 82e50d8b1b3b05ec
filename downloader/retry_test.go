package downloader_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crawl/downloader"
	"crawl/stats"
)

// answer is one response a scripted server gives.
type answer struct {
	status     int
	retryAfter string // "" for none; "+30s" for an HTTP-date 30 s after the fake clock's start
}

// scripted serves answers in order, then the last one again, and counts the
// requests it saw. Each body is "attempt N".
func scripted(t *testing.T, clock *fakeClock, answers ...answer) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	start := clock.Now()
	var hits atomic.Int32
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(hits.Add(1))
		a := answers[min(n, len(answers))-1]
		if ra, ok := strings.CutPrefix(a.retryAfter, "+"); ok {
			d, err := time.ParseDuration(ra)
			if err != nil {
				t.Errorf("bad test retryAfter %q", a.retryAfter)
			}
			w.Header().Set("Retry-After", start.Add(d).Format(http.TimeFormat))
		} else if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.status)
		fmt.Fprintf(w, "attempt %d", n)
	}))
	return srv, &hits
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestRetryStatuses(t *testing.T) {
	// With the jitter at its midpoint, the backoff before retry n+1 is
	// 0.75 × 500ms × 2ⁿ, capped: 375ms, 750ms, 1.5s, ...
	tests := []struct {
		name      string
		cfg       downloader.Config
		answers   []answer
		want      int // final status
		wantHits  int32
		wantWaits []time.Duration
		wantStats map[string]int64
	}{
		{
			name:    "503 then 200",
			answers: []answer{{503, ""}, {200, ""}},
			want:    200, wantHits: 2, wantWaits: []time.Duration{ms(375)},
			wantStats: map[string]int64{stats.Retries + "503": 1, stats.RetriesExhausted: 0},
		},
		{
			name:    "always 503: the last answer is returned",
			answers: []answer{{503, ""}},
			want:    503, wantHits: 3, wantWaits: []time.Duration{ms(375), ms(750)},
			wantStats: map[string]int64{stats.Retries + "503": 2, stats.RetriesExhausted: 1},
		},
		{
			name:    "429 with Retry-After in seconds",
			answers: []answer{{429, "7"}, {200, ""}},
			want:    200, wantHits: 2, wantWaits: []time.Duration{7 * time.Second},
			wantStats: map[string]int64{stats.Retries + "429": 1},
		},
		{
			name:    "503 with Retry-After as a date",
			answers: []answer{{503, "+30s"}, {200, ""}},
			want:    200, wantHits: 2, wantWaits: []time.Duration{30 * time.Second},
		},
		{
			name:    "Retry-After shorter than the backoff: the backoff",
			answers: []answer{{503, "0"}, {200, ""}},
			want:    200, wantHits: 2, wantWaits: []time.Duration{ms(375)},
		},
		{
			name:    "Retry-After date in the past",
			answers: []answer{{503, "+-1h"}, {200, ""}},
			want:    200, wantHits: 2, wantWaits: []time.Duration{ms(375)},
		},
		{
			name:    "Retry-After unreadable: ignored",
			answers: []answer{{503, "soon"}, {200, ""}},
			want:    200, wantHits: 2, wantWaits: []time.Duration{ms(375)},
		},
		{
			name:    "Retry-After beyond the max wait: given up at once",
			answers: []answer{{429, "3600"}, {200, ""}},
			want:    429, wantHits: 1, wantWaits: nil,
			wantStats: map[string]int64{stats.Retries + "429": 0, stats.RetriesExhausted: 1},
		},
		{
			name:    "Retry-After at the max wait",
			cfg:     downloader.Config{MaxRetryWait: 10 * time.Second},
			answers: []answer{{503, "10"}, {200, ""}},
			want:    200, wantHits: 2, wantWaits: []time.Duration{10 * time.Second},
		},
		{
			name:    "backoff capped by the max wait",
			cfg:     downloader.Config{Retries: 4, MaxRetryWait: time.Second},
			answers: []answer{{502, ""}},
			want:    502, wantHits: 5, wantWaits: []time.Duration{ms(375), ms(750), ms(750), ms(750)},
			wantStats: map[string]int64{stats.Retries + "502": 4, stats.RetriesExhausted: 1},
		},
		{
			name:    "more retries double the backoff",
			cfg:     downloader.Config{Retries: 4},
			answers: []answer{{500, ""}, {500, ""}, {500, ""}, {500, ""}, {200, ""}},
			want:    200, wantHits: 5, wantWaits: []time.Duration{ms(375), ms(750), ms(1500), ms(3000)},
		},
		{
			name:    "retries off",
			cfg:     downloader.Config{Retries: downloader.NoRetries},
			answers: []answer{{503, ""}, {200, ""}},
			want:    503, wantHits: 1,
			wantStats: map[string]int64{stats.RetriesExhausted: 0},
		},
		{"404 is not retried", downloader.Config{}, []answer{{404, ""}, {200, ""}}, 404, 1, nil, nil},
		{"501 is not retried", downloader.Config{}, []answer{{501, ""}, {200, ""}}, 501, 1, nil, nil},
		{"403 is not retried", downloader.Config{}, []answer{{403, ""}, {200, ""}}, 403, 1, nil, nil},
	}
	for _, status := range []int{408, 500, 502, 504, 522, 524} {
		tests = append(tests, struct {
			name      string
			cfg       downloader.Config
			answers   []answer
			want      int
			wantHits  int32
			wantWaits []time.Duration
			wantStats map[string]int64
		}{
			name:    strconv.Itoa(status) + " is retried",
			answers: []answer{{status, ""}, {200, ""}},
			want:    200, wantHits: 2, wantWaits: []time.Duration{ms(375)},
			wantStats: map[string]int64{stats.Retries + strconv.Itoa(status): 1},
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, clock, st := fakeDownloader(t, tt.cfg)
			srv, hits := scripted(t, clock, tt.answers...)
			resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if resp.Status != tt.want {
				t.Errorf("Status: got %d, want %d", resp.Status, tt.want)
			}
			if got := hits.Load(); got != tt.wantHits {
				t.Errorf("requests served: got %d, want %d", got, tt.wantHits)
			}
			if want := fmt.Sprintf("attempt %d", tt.wantHits); string(resp.Body) != want {
				t.Errorf("Body: got %q, want %q (the last answer)", resp.Body, want)
			}
			if got := clock.Waits(); fmt.Sprint(got) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits: got %v, want %v", got, tt.wantWaits)
			}
			if got, want := st.Sum(stats.Retries), int64(len(tt.wantWaits)); got != want {
				t.Errorf("retries counted: got %d, want %d", got, want)
			}
			wantStats(t, st, tt.wantStats)
		})
	}
}

// The jitter spreads the wait over [b/2, b).
func TestRetryJitter(t *testing.T) {
	for _, tt := range []struct {
		jitter float64
		want   time.Duration
	}{{0, ms(250)}, {0.5, ms(375)}, {0.999, ms(499)}} {
		t.Run(fmt.Sprint(tt.jitter), func(t *testing.T) {
			clock := newFakeClock()
			d := newDownloader(t, downloader.Config{Retries: 1})
			downloader.SetClock(d, clock.Now, clock.Sleep, func() float64 { return tt.jitter })
			srv, _ := scripted(t, clock, answer{503, ""}, answer{200, ""})
			if _, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL}); err != nil {
				t.Fatal(err)
			}
			if got := clock.Waits(); len(got) != 1 || got[0].Truncate(time.Millisecond) != tt.want {
				t.Errorf("waits: got %v, want [%v]", got, tt.want)
			}
		})
	}
}

// resetConn aborts a hijacked connection with a TCP reset.
func resetConn(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

func TestRetryNetworkErrors(t *testing.T) {
	t.Run("reset mid-body, then a whole answer", func(t *testing.T) {
		var hits atomic.Int32
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				conn, buf, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nthe first ha")
				buf.Flush()
				resetConn(conn)
				return
			}
			io.WriteString(w, "the whole body")
		}))
		d, clock, st := fakeDownloader(t, downloader.Config{})
		resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if string(resp.Body) != "the whole body" {
			t.Errorf("Body: got %q, want the second, whole answer", resp.Body)
		}
		if n := hits.Load(); n != 2 {
			t.Errorf("requests served: got %d, want 2", n)
		}
		if len(clock.Waits()) != 1 {
			t.Errorf("waits: got %v, want one", clock.Waits())
		}
		wantStats(t, st, map[string]int64{stats.Retries + "connection_reset": 1})
	})

	t.Run("timeout, then an answer", func(t *testing.T) {
		var hits atomic.Int32
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				<-r.Context().Done() // never answers the first time
				return
			}
			io.WriteString(w, "late but there")
		}))
		d, _, st := fakeDownloader(t, downloader.Config{Timeout: 200 * time.Millisecond})
		resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL})
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		if string(resp.Body) != "late but there" {
			t.Errorf("Body: got %q", resp.Body)
		}
		wantStats(t, st, map[string]int64{stats.Retries + "timeout": 1})
	})

	t.Run("connection refused every time", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		d, clock, st := fakeDownloader(t, downloader.Config{})
		_, err = d.Fetch(testCtx(t), &downloader.Request{URL: "http://" + addr + "/"})
		if got := downloader.ErrorKind(err); got != "connection_refused" {
			t.Fatalf("ErrorKind(%v): got %q, want connection_refused", err, got)
		}
		if !strings.Contains(err.Error(), "gave up after 2 retries") {
			t.Errorf("error %q does not say it was retried", err)
		}
		if got := clock.Waits(); fmt.Sprint(got) != fmt.Sprint([]time.Duration{ms(375), ms(750)}) {
			t.Errorf("waits: got %v", got)
		}
		wantStats(t, st, map[string]int64{stats.Retries + "connection_refused": 2, stats.RetriesExhausted: 1})
	})

	t.Run("one retry in the singular", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		d, _, _ := fakeDownloader(t, downloader.Config{Retries: 1})
		_, err = d.Fetch(testCtx(t), &downloader.Request{URL: "http://" + addr + "/"})
		if err == nil || !strings.HasSuffix(err.Error(), "(gave up after 1 retry)") {
			t.Errorf("error %v, want it to end with (gave up after 1 retry)", err)
		}
	})

	// Errors that another try would not cure are returned at once.
	permanent := []struct {
		name, kind string
		url        func(t *testing.T) (string, *atomic.Int32)
	}{
		{"untrusted certificate", "tls", func(t *testing.T) (string, *atomic.Int32) {
			var hits atomic.Int32
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.StartTLS()
			t.Cleanup(srv.Close)
			return srv.URL, &hits
		}},
		{"corrupt gzip", "body", func(t *testing.T) (string, *atomic.Int32) {
			var hits atomic.Int32
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Encoding", "gzip")
				io.WriteString(w, "this is not gzip at all")
			}))
			return srv.URL, &hits
		}},
		{"redirect loop", "redirect", func(t *testing.T) (string, *atomic.Int32) {
			var hits atomic.Int32
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				http.Redirect(w, r, r.URL.Path, http.StatusFound)
			}))
			return srv.URL + "/self", &hits
		}},
	}
	for _, tt := range permanent {
		t.Run(tt.name+" is not retried", func(t *testing.T) {
			u, hits := tt.url(t)
			d, clock, st := fakeDownloader(t, downloader.Config{})
			_, err := d.Fetch(testCtx(t), &downloader.Request{URL: u})
			if got := downloader.ErrorKind(err); got != tt.kind {
				t.Fatalf("ErrorKind(%v): got %q, want %q", err, got, tt.kind)
			}
			if n := hits.Load(); n > 1 {
				t.Errorf("requests served: got %d, want at most 1", n)
			}
			if len(clock.Waits()) != 0 || st.Sum(stats.Retries) != 0 {
				t.Errorf("got waits %v and retries %v, want none", clock.Waits(), st.Snapshot())
			}
		})
	}
}

// POST is retried as Scrapy retries it, with the same body each time.
func TestRetryPOST(t *testing.T) {
	var (
		mu     sync.Mutex
		bodies []string
		hits   atomic.Int32
	)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+string(b))
		mu.Unlock()
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "accepted")
	}))
	d, _, _ := fakeDownloader(t, downloader.Config{})
	body := []byte("q=crawler&page=2")
	resp, err := d.Fetch(testCtx(t), &downloader.Request{URL: srv.URL, Method: http.MethodPost, Body: body,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || string(resp.Body) != "accepted" {
		t.Errorf("got %d %q, want 200 accepted", resp.Status, resp.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "POST q=crawler&page=2"; len(bodies) != 2 || bodies[0] != want || bodies[1] != want {
		t.Errorf("requests: got %q, want twice %q", bodies, want)
	}
	if !bytes.Equal(body, []byte("q=crawler&page=2")) {
		t.Errorf("request body changed to %q", body)
	}
}

// A crawl cancelled during a backoff stops waiting at once, and does not
// try again.
func TestRetryStopsWhenCancelled(t *testing.T) {
	clock := newFakeClock()
	srv, hits := scripted(t, clock, answer{503, "30"}, answer{200, ""})
	d := newDownloader(t, downloader.Config{})
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	var asked time.Duration
	downloader.SetClock(d, clock.Now, func(ctx context.Context, wait time.Duration) error {
		asked = wait
		cancel() // Ctrl-C while waiting: the real wait returns as below
		return downloader.SleepCtx(ctx, wait)
	}, halfJitter)
	resp, err := d.Fetch(ctx, &downloader.Request{URL: srv.URL})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch: got %v, %v; want an error wrapping context.Canceled", resp, err)
	}
	if asked != 30*time.Second {
		t.Errorf("wait asked: got %v, want 30s", asked)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("requests served: got %d, want 1", n)
	}
}

func TestSleepCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	if err := downloader.SleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("SleepCtx(cancelled, 1h): got %v, want context.Canceled", err)
	}
	if err := downloader.SleepCtx(testCtx(t), 0); err != nil {
		t.Errorf("SleepCtx(0): got %v, want nil", err)
	}
	if err := downloader.SleepCtx(testCtx(t), time.Millisecond); err != nil {
		t.Errorf("SleepCtx(1ms): got %v, want nil", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"0", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Fri, 14 Mar 2025 15:10:26 GMT", time.Minute, true},
		{"Friday, 14-Mar-25 15:10:26 GMT", time.Minute, true}, // RFC 850, still accepted
		{"Fri Mar 14 15:10:26 2025", time.Minute, true},       // asctime
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"99999999999999999999", 1 << 62, true},
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, ok := downloader.RetryAfter(tt.value, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RetryAfter(%q): got %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.ok)
			}
		})
	}
}
