package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"crawl/bench/site"
)

// target is one of the performance targets of the issue, as measured.
type target struct {
	name, measured string
	met            bool
}

// report collects the findings: Markdown sections, and the targets.
type report struct {
	out     io.Writer
	targets []target
	// ceiling is crawl's pages/s with no latency, by workers: where the
	// latency runs become CPU-bound.
	ceiling map[int]float64
}

func (r *report) printf(format string, args ...any) { fmt.Fprintf(r.out, format, args...) }

func (r *report) target(name string, met bool, format string, args ...any) {
	r.targets = append(r.targets, target{name, fmt.Sprintf(format, args...), met})
}

// orchestrate builds crawl, runs the chosen experiments and writes the
// report.
func orchestrate(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	l, err := newLab(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer l.close()
	r := &report{out: stdout, ceiling: map[int]float64{}}
	r.printf("# crawl end-to-end benchmark\n\n")
	r.printf("Machine: %s. Load average before: %s.\n", machine(), loadavg())
	r.printf("The site runs in its own process on 127.0.0.1; crawl, the baselines and the site share the machine's CPUs.\n")
	r.printf("Figures measured while other work may share the machine: compare the ratios, and rerun before trusting absolutes.\n")
	for _, e := range []struct {
		name string
		run  func(context.Context, *lab, *report) error
	}{
		{"throughput", throughput},
		{"latency", latencyScaling},
		{"chain", chain},
		{"first", firstItem},
		{"start", startURLs},
		{"frontier", frontier},
	} {
		if !o.only[e.name] || (e.name == "frontier" && o.frontier == 0) {
			continue
		}
		fmt.Fprintf(stderr, "== %s\n", e.name)
		if err := e.run(ctx, l, r); err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
	}
	r.printf("\n## Targets\n\n| target | measured | met |\n| --- | --- | --- |\n")
	for _, t := range r.targets {
		met := "no"
		if t.met {
			met = "yes"
		}
		r.printf("| %s | %s | %s |\n", t.name, t.measured, met)
	}
	r.printf("\nLoad average after: %s.\n", loadavg())
	return nil
}

// throughput compares crawl with the two baselines on the same shop, with
// no latency, at each worker count.
func throughput(ctx context.Context, l *lab, r *report) error {
	o := l.o
	s, err := l.startSite(ctx, o.pages, 0, 0)
	if err != nil {
		return err
	}
	defer s.stop()
	want := int64(site.ForPages(o.pages).Pages())
	spec := site.Spider(s.base, site.FirstListing)
	r.printf("\n## Throughput, no latency\n\n")
	r.printf("The shop of %d pages (%d listing pages of ~35 KB, %d product pages of ~15 KB), crawled from its first listing page; "+
		"the baselines get the same URLs. Median of %d runs; pages/s over the wall time of each process, start-up included.\n\n",
		want, site.ForPages(o.pages).Listings(), site.ForPages(o.pages).Products, o.runs)
	r.printf("| workers | plain GET pages/s | GET+goquery pages/s | crawl pages/s | crawl / plain | crawl / goquery | CPU ms/page plain / goquery / crawl | peak RSS plain / goquery / crawl |\n")
	r.printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	kinds := []string{"plain", "goquery", "crawl"}
	for _, w := range o.workers {
		runs := map[string][]measure{}
		for i := range o.runs {
			for k := range kinds {
				kind := kinds[(i+k)%len(kinds)] // rotate, so no kind always runs first
				var m measure
				var err error
				if kind == "crawl" {
					m, err = l.runCrawl(ctx, spec, "--workers", strconv.Itoa(w), "--per-host", strconv.Itoa(w))
				} else {
					m, err = l.runGetter(ctx, kind, s.base, o.pages, w)
				}
				if err != nil {
					return err
				}
				if m.pages != want {
					return fmt.Errorf("%s with %d workers got %d pages, want %d", kind, w, m.pages, want)
				}
				fmt.Fprintf(l.log, "workers %d run %d: %-7s %7.0f pages/s\n", w, i+1, kind, m.rate())
				runs[kind] = append(runs[kind], m)
			}
		}
		rate := func(kind string) float64 { return median(runs[kind], measure.rate) }
		cpu := func(kind string) float64 { return median(runs[kind], measure.cpuPerPage) }
		rss := func(kind string) float64 {
			return median(runs[kind], func(m measure) float64 { return float64(m.usage.MaxRSS) })
		}
		plain, gq, cr := rate("plain"), rate("goquery"), rate("crawl")
		r.ceiling[w] = cr
		r.printf("| %d | %.0f | %.0f | %.0f | %.0f%% | %.0f%% | %.3f / %.3f / %.3f | %s / %s / %s |\n",
			w, plain, gq, cr, 100*cr/plain, 100*cr/gq, cpu("plain"), cpu("goquery"), cpu("crawl"),
			mib(rss("plain")), mib(rss("goquery")), mib(rss("crawl")))
		if w == 16 {
			r.target("throughput ≥ 85% of GET+goquery (16 workers, no latency)", cr >= 0.85*gq,
				"%.0f%% (%.0f vs %.0f pages/s)", 100*cr/gq, cr, gq)
		}
	}
	return nil
}

// latencyScaling measures how throughput grows with workers when every
// response takes o.latency. Start URLs are the product pages, counted by
// start_urls_range, so every worker has work from the start: crawling the
// shop from its first page would be bounded by its chain of listing pages.
// Each worker count gets a fresh site, so the site's CPU time is known too.
func latencyScaling(ctx context.Context, l *lab, r *report) error {
	o := l.o
	const perWorker = 100
	r.printf("\n## Latency %s: throughput against workers\n\n", o.latency)
	r.printf("Start URLs: %d product pages per worker, from start_urls_range; --per-host equal to --workers. "+
		"Ideal: workers / latency; the crawl also fetches robots.txt first, one latency more. "+
		"CPU: crawl's and the site's CPU time over the wall time, in cores (of %d).\n\n", perWorker, runtime.NumCPU())
	r.printf("| workers | pages | pages/s | ideal | efficiency | CPU crawl + site (cores) | crawl peak RSS |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	linear := true
	var detail []string
	for _, w := range o.workers {
		n := perWorker * w
		s, err := l.startSite(ctx, n+(n+19)/20, 0, o.latency)
		if err != nil {
			return err
		}
		m, err := l.runCrawl(ctx, site.RangeSpider(s.base, n), "--workers", strconv.Itoa(w), "--per-host", strconv.Itoa(w))
		siteUsage := s.stop()
		if err != nil {
			return err
		}
		if m.pages != int64(n) {
			return fmt.Errorf("%d workers: got %d pages, want %d", w, m.pages, n)
		}
		ideal := float64(w) / o.latency.Seconds()
		eff := m.rate() / ideal
		crawlCores := m.usage.CPU().Seconds() / m.wall.Seconds()
		siteCores := siteUsage.CPU().Seconds() / m.wall.Seconds()
		fmt.Fprintf(l.log, "workers %d: %.0f pages/s, ideal %.0f\n", w, m.rate(), ideal)
		r.printf("| %d | %d | %.0f | %.0f | %.0f%% | %.2f + %.2f | %s |\n", w, n, m.rate(), ideal, 100*eff,
			crawlCores, siteCores, mib(float64(m.usage.MaxRSS)))
		// CPU-bound: the machine's CPUs nearly busy, or the ideal beyond
		// what crawl reached with no latency at all.
		ceiling, known := r.ceiling[w]
		cpuBound := crawlCores+siteCores >= 0.8*float64(runtime.NumCPU()) || known && ideal > 0.9*ceiling
		if eff < 0.9 && !cpuBound {
			linear = false
		}
		detail = append(detail, fmt.Sprintf("%d: %.0f%%", w, 100*eff))
	}
	r.target(fmt.Sprintf("with latency %s, throughput ~linear in workers until CPU-bound (efficiency ≥ 90%%)", o.latency), linear,
		"efficiency by workers %s", strings.Join(detail, ", "))
	return nil
}

// chain crawls the chain, where each page is found only on the one before:
// the crawl is sequential, so its elapsed time is the pages times the
// latency plus the crawler's own time per page.
func chain(ctx context.Context, l *lab, r *report) error {
	o := l.o
	s, err := l.startSite(ctx, 1, o.chainPages, o.chainLatency)
	if err != nil {
		return err
	}
	defer s.stop()
	m, err := l.runCrawl(ctx, site.Spider(s.base, site.FirstChain))
	if err != nil {
		return err
	}
	if m.pages != int64(o.chainPages) {
		return fmt.Errorf("got %d pages, want %d", m.pages, o.chainPages)
	}
	ideal := time.Duration(o.chainPages) * o.chainLatency
	over := m.wall - ideal
	r.printf("\n## The chain: %d pages, latency %s\n\n", o.chainPages, o.chainLatency)
	r.printf("| ideal (pages × latency) | crawl, process wall time | crawl, its own elapsed | overhead | overhead per page |\n| --- | --- | --- | --- | --- |\n")
	r.printf("| %s | %s | %s | %+.1f%% | %.2f ms |\n", ideal, m.wall.Round(time.Millisecond), m.elapsed.Round(time.Millisecond),
		100*over.Seconds()/ideal.Seconds(), over.Seconds()*1000/float64(o.chainPages))
	r.target(fmt.Sprintf("%d-page chain with latency %s within 10%% of %s", o.chainPages, o.chainLatency, ideal),
		m.wall <= ideal+ideal/10, "%s (%+.1f%%)", m.wall.Round(time.Millisecond), 100*over.Seconds()/ideal.Seconds())
	return nil
}

// firstItem measures the time from starting crawl to its first item, with
// the shop spider (two fetches: the first listing page, then a product
// page) and with product pages as start URLs (one fetch).
func firstItem(ctx context.Context, l *lab, r *report) error {
	o := l.o
	s, err := l.startSite(ctx, 200, 0, 0)
	if err != nil {
		return err
	}
	defer s.stop()
	r.printf("\n## Time from process start to first item\n\n")
	r.printf("From starting the crawl process to the first byte of an item on its stdout, %d runs, no latency.\n\n", o.firstRuns)
	r.printf("| start | fetches before the first item | median | min | max |\n| --- | --- | --- | --- | --- |\n")
	var shopMedian float64
	for _, c := range []struct {
		name    string
		fetches int
		spec    []byte
	}{
		{"the shop's first listing page", 2, site.Spider(s.base, site.FirstListing)},
		{"product pages (start_urls_range)", 1, site.RangeSpider(s.base, 50)},
	} {
		var ds []float64
		for range o.firstRuns {
			d, err := l.firstItem(ctx, c.spec)
			if err != nil {
				return err
			}
			ds = append(ds, float64(d)/float64(time.Millisecond))
		}
		lo, hi := ds[0], ds[0]
		for _, d := range ds {
			lo, hi = min(lo, d), max(hi, d)
		}
		med := medianOf(ds)
		if c.fetches == 2 {
			shopMedian = med
		}
		fmt.Fprintf(l.log, "%s: median %.1f ms\n", c.name, med)
		r.printf("| %s | %d | %.1f ms | %.1f ms | %.1f ms |\n", c.name, c.fetches, med, lo, hi)
	}
	r.target("time from process start to first item < 20 ms", shopMedian < 20,
		"%.1f ms median, shop spider", shopMedian)
	return nil
}

// startURLs measures peak memory with many start URLs and a low page
// limit: the engine pulls start requests only as it needs them, so memory
// should not grow with their number.
func startURLs(ctx context.Context, l *lab, r *report) error {
	o := l.o
	s, err := l.startSite(ctx, o.memPages+(o.memPages+19)/20, 0, 0)
	if err != nil {
		return err
	}
	defer s.stop()
	r.printf("\n## Memory against the number of start URLs\n\n")
	r.printf("start_urls_range over product pages, --max-pages %d, 16 workers.\n\n", o.memPages)
	r.printf("| start URLs | pages | peak RSS | pages/s |\n| --- | --- | --- | --- |\n")
	rss := map[int]int64{}
	for _, n := range append([]int{o.memPages}, o.startURLs...) {
		m, err := l.runCrawl(ctx, site.RangeSpider(s.base, n), "--max-pages", strconv.Itoa(o.memPages), "--workers", "16", "--per-host", "16")
		if err != nil {
			return err
		}
		if m.pages != int64(o.memPages) {
			return fmt.Errorf("%d start URLs: got %d pages, want %d", n, m.pages, o.memPages)
		}
		rss[n] = m.usage.MaxRSS
		fmt.Fprintf(l.log, "%d start URLs: peak RSS %s\n", n, mib(float64(m.usage.MaxRSS)))
		r.printf("| %s | %d | %s | %.0f |\n", count(n), m.pages, mib(float64(m.usage.MaxRSS)), m.rate())
	}
	if len(o.startURLs) >= 2 {
		a, b := o.startURLs[0], o.startURLs[len(o.startURLs)-1]
		ra, rb := float64(rss[a]), float64(rss[b])
		diff := (rb - ra) / ra
		r.target(fmt.Sprintf("peak memory with %s vs %s start URLs within 10%%, both < 50 MB", count(a), count(b)),
			diff <= 0.10 && diff >= -0.10 && ra < 50e6 && rb < 50e6,
			"%s vs %s (%+.1f%%)", mib(ra), mib(rb), 100*diff)
	}
	return nil
}

// frontier crawls the wide tree until the frontier holds about o.frontier
// URLs, and reports the peak memory. The crawl is breadth-first, as by
// default: depth-first, it would follow the tree down to the end of its
// page numbers and keep few URLs waiting.
func frontier(ctx context.Context, l *lab, r *report) error {
	o := l.o
	s, err := l.startSite(ctx, 1, 0, 0)
	if err != nil {
		return err
	}
	defer s.stop()
	pages := (o.frontier + site.Fanout - 2) / (site.Fanout - 1)
	m, err := l.runCrawl(ctx, site.Spider(s.base, site.FirstWide), "--max-pages", strconv.Itoa(pages), "--workers", "16", "--per-host", "16")
	if err != nil {
		return err
	}
	found := m.pages*site.Fanout + 1 // every page fetched adds Fanout new URLs
	waiting := found - m.pages
	r.printf("\n## A frontier of %s URLs\n\n", count(int(waiting)))
	r.printf("The wide tree, each page linking to %d new pages, stopped by --max-pages %d; 16 workers, --queue-memory at its default.\n\n", site.Fanout, pages)
	r.printf("| pages fetched | URLs discovered | left in the frontier | peak RSS | bytes per discovered URL | elapsed |\n| --- | --- | --- | --- | --- | --- |\n")
	r.printf("| %d | %s | %s | %s | %.0f | %s |\n", m.pages, count(int(found)), count(int(waiting)),
		mib(float64(m.usage.MaxRSS)), float64(m.usage.MaxRSS)/float64(found), m.wall.Round(time.Millisecond))
	fmt.Fprintf(l.log, "frontier %d: peak RSS %s in %s\n", waiting, mib(float64(m.usage.MaxRSS)), m.wall.Round(time.Millisecond))
	r.target(fmt.Sprintf("peak memory with %s discovered URLs < 150 MB", count(int(found))),
		m.usage.MaxRSS < 150e6, "%s", mib(float64(m.usage.MaxRSS)))
	return nil
}

// machine names the CPU and the Go runtime.
func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs (GOMAXPROCS %d), %s/%s, %s", model, runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// loadavg returns the 1, 5 and 15 minute load averages.
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

// count writes a number of URLs briefly: 5M, 1M, 2000.
func count(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return fmt.Sprintf("%dM", n/1e6)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	}
	return strconv.Itoa(n)
}
