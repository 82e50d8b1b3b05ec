// Command render measures rendered crawling: how many pages per second
// crawl renders at each number of render workers, on a loopback site whose
// pages scripts build (each page fetches a JSON endpoint, then writes its
// title), beside a minimal chromedp program that renders the same URLs
// with the same number of tabs (the ceiling). Both wait for the same
// selector and read the same DOM; each is timed once its browser runs.
// It prints a Markdown table with pages/s,
// crawl's ratio to the ceiling, and the peak memory (proportional set
// size) of the crawler and its browser together. From the module root:
//
//	go run ./bench/render                 # 1, 4 and 8 tabs, 200 pages each
//	go run ./bench/render -tabs 1,4 -pages 100 -runs 3
//
// It needs a browser as crawl does (render.Find): $CRAWL_BROWSER or
// chromium-headless-shell on PATH. The site and both renderers run in this
// process; memory counts this process and every browser process.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/chromedp"

	"crawl/bench"
	"crawl/downloader"
	"crawl/render"
	"crawl/spider"
	"crawl/stats"
)

func main() {
	tabsFlag := flag.String("tabs", "1,4,8", "numbers of tabs (render workers) to measure, comma-separated")
	pages := flag.Int("pages", 200, "pages rendered per run")
	runs := flag.Int("runs", 1, "runs of each measurement; the best is kept")
	flag.Parse()
	path, err := render.Find("")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	srv := httptest.NewServer(site())
	defer srv.Close()
	urls := make([]string, *pages)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/p/%d", srv.URL, i)
	}
	fmt.Printf("%d pages of %s, %s\n\n", *pages, srv.URL, path)
	fmt.Println("| tabs | crawl pages/s | chromedp pages/s | ratio | crawl peak memory | chromedp peak memory |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	for _, f := range strings.Split(*tabsFlag, ",") {
		tabs, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || tabs < 1 {
			fmt.Fprintf(os.Stderr, "-tabs: %q is not a number of tabs\n", f)
			os.Exit(2)
		}
		var c, m result
		for range *runs {
			c = best(c, measure(func() (int, time.Duration, error) { return crawl(path, urls, tabs) }))
			m = best(m, measure(func() (int, time.Duration, error) { return minimal(path, urls, tabs) }))
		}
		fmt.Printf("| %d | %.1f | %.1f | %.0f%% | %s | %s |\n", tabs, c.rate, m.rate, 100*c.rate/m.rate, mib(c.peak), mib(m.peak))
	}
}

// site serves /p/N, a page whose script fetches /api/N.json and writes the
// title it holds into an <h1 class="title">.
func site() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", http.NotFound)
	mux.HandleFunc("/p/{n}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>page</title></head><body><div id="app"></div>
<script>
fetch("/api/%s.json").then(function (r) { return r.json(); }).then(function (d) {
  document.getElementById("app").innerHTML = '<h1 class="title">' + d.title + '</h1><p>' + d.text + '</p>';
});
</script>
%s</body></html>`, r.PathValue("n"), strings.Repeat("<p>filler text of the page</p>\n", 200))
	})
	mux.HandleFunc("/api/{n}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"title": "Page %s", "text": "%s"}`, strings.TrimSuffix(r.PathValue("n"), ".json"), strings.Repeat("lorem ipsum ", 100))
	})
	return mux
}

const waitFor = "h1.title"

// crawl renders urls with crawl's engine, downloader, render pool and
// spider, as crawl run does, and returns the items written and the time
// the crawl took, the browser started beforehand.
func crawl(browser string, urls []string, tabs int) (int, time.Duration, error) {
	var spec bytes.Buffer
	spec.WriteString("start_urls:\n")
	for _, u := range urls {
		fmt.Fprintf(&spec, "  - %s\n", u)
	}
	fmt.Fprintf(&spec, "render: {wait_for: %q}\nitems: [{fields: {title: \"h1.title::text\"}}]\n", waitFor)
	sp, err := spider.Parse("render.yaml", spec.Bytes())
	if err != nil {
		return 0, 0, err
	}
	st := new(stats.Stats)
	dl := downloader.New(downloader.Config{Stats: st, IdleConnsPerHost: 2 * tabs})
	defer dl.Close()
	pool := render.New(render.Config{Browser: browser, Tabs: tabs, Stats: st, Log: slog.New(slog.DiscardHandler)})
	defer pool.Close()
	f := &render.Fetcher{Next: dl, Pool: pool}
	// Start the browser and a tab, as minimal does before it is timed.
	warm := &downloader.Request{URL: urls[0] + "?warm", Render: sp.Render()}
	if _, err := f.Fetch(context.Background(), warm); err != nil {
		return 0, 0, err
	}
	cfg := bench.Config(2*tabs, st) // twice the tabs: a page waits for a tab, not for a worker
	var out countWriter
	start := time.Now()
	if _, err := bench.Crawl(context.Background(), cfg, sp, f, &out); err != nil {
		return 0, 0, err
	}
	return int(st.Get(stats.ItemsWritten)), time.Since(start), nil
}

// minimal renders urls with chromedp alone: tabs tabs of one browser, each
// navigating, waiting for the selector and reading the DOM. The time is
// taken once the browser runs.
func minimal(browser string, urls []string, tabs int) (int, time.Duration, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	if err := chromedp.Do(bctx); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	var next, done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, tabs)
	for range tabs {
		wg.Go(func() {
			tctx, cancel := chromedp.NewContext(bctx)
			defer cancel()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(urls) {
					return
				}
				if err := chromedp.Do(tctx, chromedp.Navigate(urls[i]), chromedp.WaitReady(chromedp.CSS(waitFor))); err != nil {
					errs <- err
					return
				}
				html, err := chromedp.Run(tctx, chromedp.OuterHTML(chromedp.CSS("html")))
				if err != nil {
					errs <- err
					return
				}
				if strings.Contains(html, `class="title"`) {
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return int(done.Load()), time.Since(start), <-errs
}

type result struct {
	rate float64 // pages per second
	peak int64   // bytes
}

func best(a, b result) result {
	if b.rate > a.rate {
		return b
	}
	return a
}

// measure runs f, sampling the memory of this process and its browsers
// every 50ms, and returns pages/s over the time f reports, and the peak.
func measure(f func() (int, time.Duration, error)) result {
	stop := make(chan struct{})
	var peak atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if m := memory(); m > peak.Load() {
				peak.Store(m)
			}
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	})
	n, elapsed, err := f()
	close(stop)
	wg.Wait()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return result{rate: float64(n) / elapsed.Seconds(), peak: peak.Load()}
}

// memory returns the proportional set size of this process and of every
// browser process (those with a chromedp profile directory), in bytes.
func memory() int64 {
	entries, _ := os.ReadDir("/proc")
	self := strconv.Itoa(os.Getpid())
	var total int64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if e.Name() != self {
			cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			if err != nil || !bytes.Contains(cmd, []byte("chromedp-runner")) {
				continue
			}
		}
		total += pss(e.Name())
	}
	return total
}

func pss(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/smaps_rollup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
