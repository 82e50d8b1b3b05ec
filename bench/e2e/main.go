// Command e2e measures the real crawl binary end to end against the
// synthetic shop of crawl/bench/site served by a separate process on
// 127.0.0.1, beside two baselines run on the same URLs with the same number
// of workers: a plain concurrent HTTP getter (the network ceiling) and the
// same getter parsing every page with goquery (the parsing floor). It
// prints its findings as Markdown tables. From the module root:
//
//	go run ./bench/e2e                      # everything, a few minutes
//	go run ./bench/e2e -only throughput -runs 5
//	go run ./bench/e2e -frontier 0          # skip the 5M-URL frontier
//
// It builds crawl into a temporary directory, and runs itself as the site
// (-serve) and as the baselines (-get plain, -get goquery), so that every
// process measured is its own: CPU time and peak memory come from each
// child's rusage. Throughput is pages over the wall time of the child
// process, start-up included, for crawl and baselines alike.
//
// The experiments (-only picks some, comma-separated):
//
//	throughput  no latency, at each -workers: pages/s, CPU per page and peak
//	            memory of crawl and both baselines, and crawl's ratio to each
//	latency     -latency per response, start URLs known up front
//	            (start_urls_range): pages/s against workers/latency
//	chain       the 500-page chain with -chain-latency: elapsed against 500×L
//	first       time from starting crawl to its first item on stdout
//	start       peak memory with 1M and 5M start URLs and a low --max-pages
//	frontier    peak memory with a frontier of -frontier discovered URLs
//
// Every child runs with a time limit and exits when this program does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		os.Exit(1)
	}
}

// options holds the flags of e2e, for the orchestrator and its children.
type options struct {
	// Child modes.
	serve bool   // serve the site until stdin closes
	get   string // run a baseline getter: "plain" or "goquery"
	base  string // -get: the site's base URL

	// The site, and how the experiments use it.
	pages        int           // shop size for the throughput runs (-serve, -get: the shop's size)
	chain        int           // -serve: pages of the chain
	siteLatency  time.Duration // -serve: latency of the site
	latency      time.Duration // latency of the scaling runs
	workers      []int
	runs         int
	only         map[string]bool
	chainPages   int
	chainLatency time.Duration
	firstRuns    int
	startURLs    []int
	memPages     int
	frontier     int
	timeout      time.Duration
}

var experiments = []string{"throughput", "latency", "chain", "first", "start", "frontier"}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("e2e", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.serve, "serve", false, "child mode: serve the site on 127.0.0.1, print its URL, stop when stdin closes")
	fs.StringVar(&o.get, "get", "", "child mode: fetch the shop with a baseline getter, `plain` or `goquery`")
	fs.StringVar(&o.base, "base", "", "with -get: the site's base URL")
	fs.IntVar(&o.pages, "pages", 3000, "pages of the shop crawled by each throughput run")
	fs.IntVar(&o.chain, "chain", 0, "with -serve: pages of the chain")
	fs.DurationVar(&o.siteLatency, "site-latency", 0, "with -serve: how long the site waits before each answer")
	fs.DurationVar(&o.latency, "latency", 50*time.Millisecond, "latency of each response in the latency runs")
	workers := fs.String("workers", "1,4,16,64", "worker counts, comma-separated (with -get: one)")
	fs.IntVar(&o.runs, "runs", 3, "runs of each throughput measurement; the median is reported")
	only := fs.String("only", strings.Join(experiments, ","), "experiments to run, comma-separated")
	fs.IntVar(&o.chainPages, "chain-pages", 500, "pages of the chain")
	fs.DurationVar(&o.chainLatency, "chain-latency", 20*time.Millisecond, "latency of each response of the chain")
	fs.IntVar(&o.firstRuns, "first-runs", 10, "runs of the time-to-first-item measurement")
	startURLs := fs.String("start-urls", "1000000,5000000", "numbers of start URLs of the memory runs, comma-separated")
	fs.IntVar(&o.memPages, "mem-pages", 2000, "--max-pages of the start-URL memory runs")
	fs.IntVar(&o.frontier, "frontier", 5_000_000, "URLs in the frontier of the frontier run (0: skip it)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "time limit of each child process")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.workers, err = intList(*workers, "-workers"); err != nil {
		return nil, err
	}
	if o.startURLs, err = intList(*startURLs, "-start-urls"); err != nil {
		return nil, err
	}
	o.only = map[string]bool{}
	for _, e := range strings.Split(*only, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if !slices.Contains(experiments, e) {
			return nil, fmt.Errorf("-only: unknown experiment %q (want some of %s)", e, strings.Join(experiments, ", "))
		}
		o.only[e] = true
	}
	switch {
	case o.pages < 1 || o.chainPages < 2 || o.memPages < 1 || o.runs < 1 || o.firstRuns < 1:
		return nil, errors.New("-pages, -mem-pages, -runs and -first-runs must be at least 1, -chain-pages at least 2")
	case o.latency <= 0 || o.chainLatency <= 0 || o.siteLatency < 0:
		return nil, errors.New("-latency and -chain-latency must be positive, -site-latency not negative")
	case o.get != "" && o.get != "plain" && o.get != "goquery":
		return nil, fmt.Errorf("-get: %q is not plain or goquery", o.get)
	case o.get != "" && o.base == "":
		return nil, errors.New("-get needs -base")
	}
	return o, nil
}

func intList(s, flag string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive number", flag, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// run runs e2e with the given arguments: as a child, or as the orchestrator
// that writes its report to stdout and its progress to stderr.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	switch {
	case o.serve:
		return serve(ctx, o, stdin, stdout)
	case o.get != "":
		return getChild(ctx, o, stdout)
	}
	return orchestrate(ctx, o, stdout, stderr)
}
