package shared

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"crawl/downloader"
	"crawl/engine"
	"crawl/engine/shared/redistest"
)

// TestStateLost does to a crawl's Redis what loses its state, and checks
// that the next call of a process fails with ErrLost, saying what
// happened, rather than find an empty queue; that the crawl is then never
// settled; and that every later call fails at once.
func TestStateLost(t *testing.T) {
	tests := []struct {
		name string
		act  func(t *testing.T, s *redistest.Server, f *Frontier)
		want string
	}{
		{"restarted empty", func(t *testing.T, s *redistest.Server, f *Frontier) {
			s.Kill()
			s.Restart()
		}, "is gone from Redis"},
		{"flushdb", func(t *testing.T, s *redistest.Server, f *Frontier) { s.Do("FLUSHDB") }, "is gone from Redis"},
		{"identity evicted", func(t *testing.T, s *redistest.Server, f *Frontier) { s.Do("DEL", f.Key("crawl")) }, "is gone from Redis"},
		{"created again", func(t *testing.T, s *redistest.Server, f *Frontier) {
			s.Do("HSET", f.Key("crawl"), "id", "another")
		}, "was started again by another process"},
		{"older snapshot", func(t *testing.T, s *redistest.Server, f *Frontier) {
			s.Do("SAVE")
			add(t, f, "http://one.test/later", time.Now()) // answered, then forgotten
			s.Kill()
			s.Restart() // from the snapshot
		}, "went back in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := redistest.Start(t)
			ctx := context.Background()
			f := open(t, s.URL(t), Options{})
			now := time.Now()
			add(t, f, "http://one.test/0", now)
			tt.act(t, s, f)
			_, _, err := f.Next(ctx, now)
			if !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Next after the state was lost: %v, want ErrLost saying %q", err, tt.want)
			}
			settled, err := f.Settled(ctx)
			if settled || !errors.Is(err, ErrLost) {
				t.Errorf("Settled after the state was lost: %v, %v; want false and ErrLost", settled, err)
			}
			if !errors.Is(f.Err(), ErrLost) {
				t.Errorf("Err = %v, want ErrLost", f.Err())
			}
			if err := f.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			// Nothing was written back: a lost crawl stays lost for every
			// process, rather than come back half.
			if tt.name != "created again" && tt.name != "older snapshot" {
				if n := s.Do("EXISTS", f.Key("crawl")); n != int64(0) {
					t.Error("the crawl's identity exists again after the loss")
				}
			}
		})
	}
}

// TestRedisRestartWaited: a Redis that keeps its data (AOF) and is back
// within Options.Patience only pauses a call.
func TestRedisRestartWaited(t *testing.T) {
	s := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	f := open(t, s.URL(t), Options{Patience: time.Minute})
	now := time.Now()
	add(t, f, "http://one.test/0", now)
	s.Kill()
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		time.Sleep(300 * time.Millisecond)
		s.Restart()
	}()
	if got := next(t, f, now); got != "http://one.test/0" {
		t.Errorf("Next across the restart took %q, want http://one.test/0", got)
	}
	<-restarted
	if err := f.Err(); err != nil {
		t.Errorf("Err = %v, want nil", err)
	}
}

// TestRedisGone: a Redis that does not come back ends every call with
// ErrUnreachable after Options.Patience, and later calls at once.
func TestRedisGone(t *testing.T) {
	s := redistest.Start(t)
	ctx := context.Background()
	f := open(t, s.URL(t), Options{Patience: 200 * time.Millisecond})
	now := time.Now()
	add(t, f, "http://one.test/0", now)
	s.Kill()
	_, _, err := f.Next(ctx, now)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "no answer from Redis at redis://"+s.Addr+" for 200ms") {
		t.Fatalf("Next with Redis gone: %v, want ErrUnreachable naming %s and 200ms", err, s.Addr)
	}
	if _, err := f.Settled(ctx); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Settled with Redis gone: %v, want ErrUnreachable", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestClaimRetry: a claim made again under the same name, as after a lost
// answer, is still this process's.
func TestClaimRetry(t *testing.T) {
	u := redistest.URL(t)
	ctx := context.Background()
	a, b := open(t, u, Options{}), open(t, u, Options{})
	landing := fingerprint(fp(t, "http://one.test/landing"))
	for _, step := range []struct {
		f    *Frontier
		name string
		want int64
	}{
		{a, "1-a", 1},
		{a, "1-a", 1}, // the retry
		{b, "1-b", 0},
		{a, "2-a", 0},
	} {
		got, err := step.f.callInt(ctx, time.Now(), "claim", landing, step.name)
		if err != nil || got != step.want {
			t.Errorf("claim as %s: %d, %v; want %d", step.name, got, err, step.want)
		}
	}
}

// TestWorkersBound: a process holds no more requests than its workers
// can fetch, and leaves the others to other processes.
func TestWorkersBound(t *testing.T) {
	u := redistest.URL(t)
	a := open(t, u, Options{Workers: 2})
	b := open(t, u, Options{})
	now := time.Now()
	for _, p := range []string{"/0", "/1", "/2"} {
		add(t, a, "http://one.test"+p, now)
	}
	r0, _, _ := a.Next(context.Background(), now)
	if r0 == nil {
		t.Fatal("a took nothing")
	}
	if got := next(t, a, now); got == "" {
		t.Fatal("a took one request with two workers")
	}
	if got := next(t, a, now); got != "" {
		t.Fatalf("a took %s with both workers busy", got)
	}
	if got := next(t, b, now); got != "http://one.test/2" {
		t.Fatalf("b took %q, want http://one.test/2", got)
	}
	finish(t, a, r0, now)
	add(t, b, "http://one.test/3", now)
	if got := next(t, a, now); got != "http://one.test/3" {
		t.Errorf("a took %q once a worker was free, want http://one.test/3", got)
	}
}

// TestFairSlots: one process holds every slot of a host when others join
// and ask for work; as it finishes requests, the freed slots go to the
// others until each has its share, and with one slot for two processes,
// they take turns.
func TestFairSlots(t *testing.T) {
	t.Run("share", func(t *testing.T) {
		u := redistest.URL(t)
		pol := engine.Politeness{PerHost: 4}
		a, b, c := open(t, u, Options{Politeness: pol}), open(t, u, Options{Politeness: pol}), open(t, u, Options{Politeness: pol})
		now := time.Now()
		for i := range 20 {
			add(t, a, "http://one.test/"+string(rune('a'+i)), now)
		}
		held := takeAll(t, a, now)
		if len(held) != 4 {
			t.Fatalf("a took %d, want 4", len(held))
		}
		for _, f := range []*Frontier{b, c} {
			if got := next(t, f, now); got != "" {
				t.Fatalf("took %s with the host full", got)
			}
		}
		// a finishes two: both slots go to b and c, not back to a.
		for i := range 2 {
			finish(t, a, held[i], now)
			if got := next(t, a, now); got != "" {
				t.Fatalf("a took %s back while b and c want work", got)
			}
		}
		if next(t, b, now) == "" || next(t, c, now) == "" {
			t.Fatal("b or c took nothing from the slots a freed")
		}
		// a, down to two of four, its share of three, may take a slot
		// it frees again.
		finish(t, a, held[2], now)
		if got := next(t, a, now); got == "" {
			t.Error("a took nothing back below its share")
		}
	})
	t.Run("turns", func(t *testing.T) {
		u := redistest.URL(t)
		pol := engine.Politeness{PerHost: 1}
		a, b := open(t, u, Options{Politeness: pol}), open(t, u, Options{Politeness: pol})
		now := time.Now()
		for i := range 4 {
			add(t, a, "http://one.test/"+string(rune('a'+i)), now)
		}
		r, _, _ := a.Next(context.Background(), now)
		if r == nil || next(t, b, now) != "" {
			t.Fatal("want a to hold the one slot")
		}
		// b has waited longer than a turn when a is done.
		later := now.Add(time.Second / 2)
		finish(t, a, r, later)
		if got := next(t, a, later); got != "" {
			t.Fatalf("a took %s again while b waited", got)
		}
		if got := next(t, b, later); got == "" {
			t.Fatal("b took nothing in its turn")
		}
	})
}

// takeAll takes requests through f until it gets none.
func takeAll(t *testing.T, f *Frontier, now time.Time) []*downloader.Request {
	t.Helper()
	var out []*downloader.Request
	for {
		r, _, err := f.Next(context.Background(), now)
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			return out
		}
		out = append(out, r)
	}
}
