package bench_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"crawl/bench"
	"crawl/bench/site"
	"crawl/engine"
	"crawl/stats"
)

// TestCrawlShop crawls a shop of 200 pages in memory through the real
// engine, spider and pipeline, and checks that every page was fetched and
// every product page gave a complete item.
func TestCrawlShop(t *testing.T) {
	s := site.New(site.ForPages(200))
	sp := parseSpider(t, string(site.Spider(base, site.FirstListing)))
	st := new(stats.Stats)
	timed := &bench.Timed{Fetcher: bench.MemFetcher{Site: s}}
	var out bytes.Buffer
	reason, err := bench.Crawl(context.Background(), bench.Config(4, st), sp, timed, &out)
	if err != nil || reason != engine.Finished {
		t.Fatalf("crawl: %s, %v", reason, err)
	}
	if got := st.Get(stats.Pages); got != 200 {
		t.Errorf("got %d pages, want 200", got)
	}
	if got := timed.Latency.Count(); got != 200 {
		t.Errorf("timed %d fetches, want 200", got)
	}
	lines := 0
	for sc := bufio.NewScanner(&out); sc.Scan(); lines++ {
		var it map[string]string
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		for _, k := range []string{"title", "price", "rating", "availability", "upc", "url"} {
			if it[k] == "" {
				t.Errorf("line %d lacks %s: %s", lines+1, k, sc.Text())
			}
		}
	}
	if lines != 190 || st.Get(stats.ItemsWritten) != 190 {
		t.Errorf("got %d lines, %d items written; want 190 of each", lines, st.Get(stats.ItemsWritten))
	}
}

func TestHistogram(t *testing.T) {
	var h bench.Histogram
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("empty: got %s, want 0", got)
	}
	// 1ms, 2ms, …, 1000ms: the median is 500ms, the 99th percentile 990ms.
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	h.Record(-time.Second) // counts as zero
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0, 0},
		{0.5, 500 * time.Millisecond},
		{0.99, 990 * time.Millisecond},
		{1, time.Second},
	}
	for _, tc := range tests {
		got := h.Quantile(tc.q)
		if d := float64(got - tc.want); d > 0.035*float64(tc.want) || -d > 0.035*float64(tc.want) {
			t.Errorf("Quantile(%g) = %s, want %s within 3.5%%", tc.q, got, tc.want)
		}
	}
	if got := h.Count(); got != 1001 {
		t.Errorf("Count() = %d, want 1001", got)
	}
	// Small durations are exact.
	var small bench.Histogram
	for i := range 32 {
		small.Record(time.Duration(i))
	}
	if got := small.Quantile(0.5); got != 15 {
		t.Errorf("small: Quantile(0.5) = %d, want 15", got)
	}
}

func TestSelfUsage(t *testing.T) {
	u := bench.SelfUsage()
	if u.MaxRSS <= 0 || u.CPU() <= 0 {
		t.Errorf("SelfUsage() = %+v: want some memory and CPU time", u)
	}
}
