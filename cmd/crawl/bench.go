package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"crawl/bench"
	"crawl/bench/site"
	"crawl/downloader"
	"crawl/engine"
	"crawl/spider"
	"crawl/stats"
)

// benchOptions holds the flags of `crawl bench`.
type benchOptions struct {
	pages      int
	workers    int
	latency    time.Duration
	cpuProfile string
	memProfile string
}

func newBenchCommand() *cobra.Command {
	var opts benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure how fast crawl runs on this machine, with no network",
		Long: `bench starts a synthetic bookshop on 127.0.0.1 inside the process (listing
pages of about 35 KB and product pages of about 15 KB, with the navigation
of a real shop), crawls it with a built-in spider through the real engine,
downloader, spider and item pipeline, writes the items as JSON Lines to
nowhere, and prints what it measured: pages, items and bytes per second,
CPU time per page, peak memory, and the median and 99th percentile time of
a request.

The site and the crawler share the process, so CPU time and memory count
both. Every worker may fetch from the site at once (--per-host is
--workers). It sends nothing off the machine and writes no file.`,
		Example: `  crawl bench
  crawl bench --pages 10000 --workers 64
  crawl bench --latency 50ms --workers 64 --pages 1000`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("bench takes no arguments, got %q", args[0])}
			}
			return nil
		},
		PreRunE: func(*cobra.Command, []string) error {
			if err := opts.validate(); err != nil {
				return usageError{err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd.Context(), opts, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.pages, "pages", 2000, "number of pages to crawl")
	f.IntVar(&opts.workers, "workers", engine.DefaultWorkers, "number of requests in flight at once")
	f.DurationVar(&opts.latency, "latency", 0, "how long the site waits before answering each request")
	f.StringVar(&opts.cpuProfile, "cpuprofile", "", "write a CPU profile of the crawl to `FILE`, for go tool pprof")
	f.StringVar(&opts.memProfile, "memprofile", "", "write a profile of what the crawl allocated to `FILE`, for go tool pprof")
	return cmd
}

func (o *benchOptions) validate() error {
	switch {
	case o.pages < 1:
		return fmt.Errorf("--pages must be at least 1, got %d", o.pages)
	case o.workers < 1:
		return fmt.Errorf("--workers must be at least 1, got %d", o.workers)
	case o.latency < 0:
		return fmt.Errorf("--latency must not be negative, got %s", o.latency)
	}
	return nil
}

// benchReport is what one `crawl bench` measured.
type benchReport struct {
	opts                   benchOptions
	reason                 engine.Reason
	pages, items, bytes    int64
	errors                 int64
	elapsed                time.Duration
	cpu                    bench.Usage // during the crawl; MaxRSS over the whole process
	latencyP50, latencyP99 time.Duration
	siteSize               int64
}

// runBench serves the synthetic site, crawls opts.pages pages of it and
// writes what it measured to out.
func runBench(ctx context.Context, opts benchOptions, out io.Writer) error {
	shop := site.ForPages(opts.pages)
	shop.Latency = opts.latency
	s := site.New(shop)
	base, stop, err := s.Start()
	if err != nil {
		return fmt.Errorf("start the site: %w", err)
	}
	defer stop()
	sp, err := spider.Parse("bench.yaml", site.Spider(base, site.FirstListing))
	if err != nil {
		return fmt.Errorf("the built-in spider: %w", err) // a bug, not a usage error
	}
	st := new(stats.Stats)
	// As `crawl run` does by default: robots.txt is fetched once, and obeyed.
	dl := downloader.New(downloader.Config{IdleConnsPerHost: opts.workers, ObeyRobots: true, Stats: st})
	defer dl.Close()
	timed := &bench.Timed{Fetcher: dl}
	cfg := bench.Config(opts.workers, st)
	if shop.Pages() > opts.pages {
		cfg.MaxPages = opts.pages // the shop is one page larger
	}

	if opts.cpuProfile != "" {
		f, err := os.Create(opts.cpuProfile)
		if err != nil {
			return usageError{fmt.Errorf("cpu profile: %w", err)}
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var memFile *os.File
	if opts.memProfile != "" {
		if memFile, err = os.Create(opts.memProfile); err != nil {
			return usageError{fmt.Errorf("memory profile: %w", err)}
		}
		defer memFile.Close()
	}
	runtime.GC() // the site's pages are built: start from a clean heap
	before := bench.SelfUsage()
	began := time.Now()
	reason, err := bench.Crawl(ctx, cfg, sp, timed, io.Discard)
	elapsed := time.Since(began)
	used := bench.SelfUsage().Sub(before)
	if memFile != nil {
		// The profile counts what the process allocated since it started:
		// building the site's pages too, under crawl/bench/site.
		runtime.GC() // so that the profile is up to date
		if err := pprof.Lookup("allocs").WriteTo(memFile, 0); err != nil {
			return fmt.Errorf("memory profile: %w", err)
		}
	}
	if ctx.Err() != nil {
		return errInterrupted
	}
	if err != nil {
		return fmt.Errorf("crawl the bench site: %w", err)
	}
	if reason == engine.MaxPages {
		reason = engine.Finished // the limit is what was asked for, not a cut
	}
	r := benchReport{
		opts:       opts,
		reason:     reason,
		pages:      st.Get(stats.Pages),
		items:      st.Get(stats.ItemsWritten),
		bytes:      st.Get(stats.Bytes),
		errors:     st.Sum(stats.Errors),
		elapsed:    elapsed,
		cpu:        used,
		latencyP50: timed.Latency.Quantile(0.50),
		latencyP99: timed.Latency.Quantile(0.99),
		siteSize:   s.Size(),
	}
	_, err = io.WriteString(out, r.String())
	return err
}

// String renders the report as `crawl bench` prints it.
func (r benchReport) String() string {
	secs := max(r.elapsed.Seconds(), 1e-9)
	latency := "no latency"
	if r.opts.latency > 0 {
		latency = "latency " + r.opts.latency.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "crawl bench: %d pages of a synthetic shop on 127.0.0.1, %d workers, %s\n",
		r.opts.pages, r.opts.workers, latency)
	fmt.Fprintf(&b, "  %-12s %12d  %9.1f/s\n", "pages", r.pages, float64(r.pages)/secs)
	fmt.Fprintf(&b, "  %-12s %12d  %9.1f/s\n", "items", r.items, float64(r.items)/secs)
	fmt.Fprintf(&b, "  %-12s %12s  %9.1f MB/s\n", "bytes", humanBytes(r.bytes), float64(r.bytes)/1e6/secs)
	fmt.Fprintf(&b, "  %-12s %9.3f ms  per page (user %s, sys %s; site and crawler together)\n", "cpu",
		ms(r.cpu.CPU())/float64(max(r.pages, 1)), r.cpu.User.Round(time.Millisecond), r.cpu.Sys.Round(time.Millisecond))
	fmt.Fprintf(&b, "  %-12s %12s  (the site's pages hold %s of it)\n", "peak memory", humanBytes(r.cpu.MaxRSS), humanBytes(r.siteSize))
	fmt.Fprintf(&b, "  %-12s %9.3f ms  p99 %.3f ms\n", "latency p50", ms(r.latencyP50), ms(r.latencyP99))
	fmt.Fprintf(&b, "  %-12s %9.3f s   %s", "elapsed", secs, r.reason)
	if r.errors > 0 {
		fmt.Fprintf(&b, ", %d failed requests", r.errors)
	}
	b.WriteByte('\n')
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
