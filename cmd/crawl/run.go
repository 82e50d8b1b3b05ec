package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"crawl/downloader"
	"crawl/engine"
	"crawl/engine/state"
	"crawl/item"
	"crawl/pipeline"
	"crawl/spider"
	"crawl/stats"
)

// runOptions holds the flags of `crawl run`; settings from the spider file
// fill the ones not given on the command line.
type runOptions struct {
	specPath         string
	appendTo         []string // -o: append
	overwriteTo      []string // -O: overwrite
	format           string
	maxItems         int64
	grace            time.Duration
	maxTime          time.Duration
	logLevel         string
	logFormat        string
	verbose          bool
	quiet            bool
	progressInterval time.Duration
	statsPath        string
	stateDir         string
	strict           bool
	engine           engine.Config     // flags bound straight in; Stats, Log, Canon set by run
	download         downloader.Config // likewise; IdleConnsPerHost, CheckRedirect, Stats set by run
	frontier         frontierOptions   // --frontier, --lease
	render           renderOptions     // --render-workers, --browser, --browser-url

	spider  *spider.Spider    // loaded and validated by PreRunE
	level   slog.Level        // from logLevel, verbose and quiet
	outputs []pipeline.Output // from appendTo, overwriteTo and format
}

func newRunCommand() *cobra.Command { return runCommand(new(runOptions)) }

// runCommand is `crawl run` with its flags bound into opts.
func runCommand(opts *runOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run SPIDER.yaml",
		Short: "Run a spider and write its items as JSON Lines",
		Long: `run crawls from the spider's start URLs, follows the links its follow
rules select, and writes each item its item rules scrape as soon as it
exists: as JSON Lines on standard output, or to the files -o names. Logs,
the progress and the final summary go to standard error.

The spider file's settings: fill the flags not given on the command line.
Exit status: 0 done, 1 failed, 2 a bad spider file or flag, 3 ended by a
limit under --strict, 130 interrupted.`,
		Example: `  crawl run examples/books-offline.yaml
  crawl run spider.yaml -o items.jsonl --workers 16 --rate 20
  crawl run spider.yaml | jq -r .title | head`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("run takes one spider file, got %s", plural(len(args), "argument", "arguments"))}
			}
			return nil
		},
		PreRunE: func(cmd *cobra.Command, args []string) error {
			opts.specPath = args[0]
			return reportProblems(cmd.ErrOrStderr(), opts.specPath, opts.prepare(cmd.Flags()))
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), opts, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.appendTo, "output", "o", nil, "append items to `FILE` (- for standard output, the default); FILE:FORMAT names the format; repeat for several outputs")
	f.StringArrayVarP(&opts.overwriteTo, "overwrite-output", "O", nil, "write items to `FILE`, replacing it; repeatable")
	f.StringVar(&opts.format, "format", "", "output format when the file name does not tell: jsonl, json or csv")
	f.Int64Var(&opts.maxItems, "max-items", 0, "stop after writing exactly this many items (0: no limit)")
	f.StringVar(&opts.stateDir, "state", "", "keep the crawl's state in `DIR`, so that the same command run again continues it after Ctrl-C, kill or a crash")
	f.DurationVar(&opts.grace, "grace", 10*time.Second, "after Ctrl-C, SIGTERM or a --max-* limit, how long requests in flight (downloads and parsing) may finish before they are abandoned")
	f.DurationVar(&opts.maxTime, "max-time", 0, "stop gracefully after this long (0: no limit)")
	f.StringVar(&opts.logLevel, "log-level", "info", "least severe log level shown: debug, info, warn or error")
	f.StringVar(&opts.logFormat, "log-format", "text", "log line format: text or json")
	f.BoolVarP(&opts.verbose, "verbose", "v", false, "log every request (the same as --log-level debug)")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "no progress and no summary; warnings and errors only")
	f.DurationVar(&opts.progressInterval, "progress-interval", 10*time.Second, "when there is no live progress line (stderr not a terminal, or stdout a pipe), log progress this often")
	f.StringVar(&opts.statsPath, "stats", "", "write the final statistics as JSON to `FILE`")
	f.BoolVar(&opts.strict, "strict", false, "exit with status 3 when a limit (--max-*) ended the crawl")
	addEngineFlags(f, &opts.engine)
	addDownloadFlags(f, &opts.download)
	addFrontierFlags(f, &opts.frontier)
	addRenderFlags(f, &opts.render)
	groupFlags(f, runFlagGroups)
	return cmd
}

// prepare loads the spider file, fills unset flags from its settings, and
// validates everything, so that a bad spec or flag fails before any request.
// The problems of the file, its settings and the flags are reported
// together, as problems.
func (o *runOptions) prepare(flags *pflag.FlagSet) error {
	errs, err := o.load(flags)
	if err != nil {
		return usageError{err}
	}
	if len(errs) > 0 {
		return usageError{errs}
	}
	if err := o.validate(); err != nil {
		return usageError{err}
	}
	if err := o.frontier.validate(flags); err != nil {
		return usageError{err}
	}
	if err := o.render.check(o.spider); err != nil {
		return usageError{err}
	}
	return nil
}

// validate derives what run needs from flags that checkValues passed.
func (o *runOptions) validate() error {
	if o.verbose {
		o.level = slog.LevelDebug
	}
	if o.quiet {
		o.level = max(o.level, slog.LevelWarn)
	}
	o.outputs = nil
	for _, args := range []struct {
		paths     []string
		overwrite bool
	}{{o.appendTo, false}, {o.overwriteTo, true}} {
		for _, p := range args.paths {
			out, err := pipeline.ParseOutput(p, args.overwrite, o.format)
			if err != nil {
				return err
			}
			o.outputs = append(o.outputs, out)
		}
	}
	if len(o.outputs) == 0 {
		out, err := pipeline.ParseOutput("-", false, o.format)
		if err != nil {
			return err
		}
		o.outputs = append(o.outputs, out)
	}
	return o.validateState()
}

// run crawls with the prepared options. Items go to the output as they are
// extracted; logs, progress and the summary go to stderr.
func run(ctx context.Context, o *runOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	start := time.Now()
	// Log lines, and items when stdout is the same terminal, appear above
	// the live line.
	status, stdout, stderr := liveLine(o.quiet, stdout, stderr)
	log := o.logger(stderr)
	stdlog.SetFlags(0)
	stdlog.SetOutput(debugWriter{log}) // net/http's notes on servers that break HTTP
	st := new(stats.Stats)
	opened, err := o.openOutputs(stdout, o.spider.FieldNames())
	if err != nil {
		return usageError{err}
	}
	var durable *state.Frontier
	if o.stateDir != "" {
		if durable, err = o.openState(st, log); err != nil {
			closeOutputs(opened)
			return usageError{err}
		}
		opened[0].Output.Overwrite = o.outputs[0].Overwrite // resuming keeps the file
	}
	w, err := startOutputs(opened)
	if err != nil {
		closeOutputs(opened)
		if durable != nil {
			durable.Close()
		}
		return usageError{err}
	}
	closeOut := func() error { return closeOutputs(opened) }
	var closeState func() error
	if durable != nil {
		if err := durable.Begin(fileSize(o.outputs[0].Path)); err != nil {
			closeOut()
			durable.Close()
			return err
		}
		closeState = durable.Close
	}
	baseline := newFetchBaseline(st)
	sp := o.spider
	sp.Stdin = closableStdin(stdin)
	sp.Stats = st
	dcfg := o.download
	dcfg.IdleConnsPerHost = o.engine.Politeness.PerHost // at least what one host may have in flight
	dcfg.CheckRedirect = sp.CheckRedirect
	dcfg.Stats = st
	dl := downloader.New(dcfg)
	defer dl.Close()
	ecfg := o.engine
	ecfg.Canon, ecfg.Stats, ecfg.Log = sp.Canon, st, log
	closeFrontier, err := o.frontier.open(ctx, &ecfg, sp.Name)
	if err != nil {
		closeOut()
		if durable != nil {
			durable.Close()
		}
		return usageError{err}
	}
	if durable != nil {
		ecfg.Frontier = durable
	}
	fetcher, closeRender := o.render.fetcher(sp, dl, dcfg.UserAgent, st, log)
	defer closeRender()
	eng := engine.New(ecfg, sp, fetcher)
	warnNoItems(log, sp)

	// crawlCtx ends the crawl at once: on a write failure, or when requests
	// still in flight outlast the grace period after Ctrl-C. Ctrl-C itself
	// only stops scheduling, so the items of pages in flight are still
	// written.
	crawlCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	done := make(chan struct{}) // closed when the crawl is over
	var watchers sync.WaitGroup
	var abandoned atomic.Bool // the grace period ran out
	watchers.Go(func() { watchSignal(ctx, done, eng, log) })
	watchers.Go(func() { watchGrace(done, o.grace, eng, abort, &abandoned, log) })
	if o.maxTime > 0 {
		watchers.Go(func() {
			t := time.NewTimer(o.maxTime)
			defer t.Stop()
			select {
			case <-t.C:
				eng.Stop(reasonMaxTime)
			case <-done:
			}
		})
	}
	if !o.quiet {
		p := &progress{st: st, load: eng.Load, start: start, status: status, log: log}
		if n, known := sp.StartCount(); known && sp.FollowRules() == 0 {
			p.total = n
			if o.engine.MaxPages > 0 {
				p.total = min(n, int64(o.engine.MaxPages))
			}
		}
		watchers.Go(func() { p.run(done, o.progressInterval) })
	}

	items := make(chan *item.Item, 2*o.engine.Workers)
	var reason engine.Reason
	var g errgroup.Group
	g.Go(func() error {
		defer close(items)
		var err error
		reason, err = eng.Run(crawlCtx, items)
		return err
	})
	check := sp.Check
	if _, ok := ecfg.Frontier.(engine.KeyClaimer); ok {
		check = sp.Validate // the engine claims unique keys from the frontier
	}
	fields := sp.FieldUse()
	kept := pipeline.Filter(crawlCtx, items, countFields(check, fields), st, log)
	if o.maxItems > 0 {
		kept = pipeline.Limit(crawlCtx, kept, o.maxItems, func() { eng.Stop(reasonMaxItems) }, st)
	}
	writeErr := pipeline.Write(kept, w, st)
	if writeErr != nil {
		abort()
	}
	if err := w.Close(); err != nil && writeErr == nil {
		writeErr = fmt.Errorf("finish output: %w", err)
	}
	runErr := g.Wait()
	if abandoned.Load() && errors.Is(runErr, context.Canceled) {
		// Ended by the grace period, as documented: the reason is the
		// stop's, not a failure.
		reason, runErr = eng.StopReason(), nil
	}
	for it := range kept {
		// Items the writer never took: counted, not silently lost.
		if !it.IsMark() {
			st.Inc(stats.ItemsDropped + "write_failed")
		}
	}
	close(done)
	watchers.Wait()
	frontierErr := closeFrontier()
	if frontierErr != nil && reason != engine.Interrupted {
		reason = reasonFrontierFailed
	}
	closeErr := closeOut()
	var stateErr error
	if closeState != nil {
		stateErr = closeState()
	}

	pipeClosed := writeErr != nil && errors.Is(writeErr, syscall.EPIPE)
	fetchErr := baseline.nothingFetched(st)
	switch {
	case pipeClosed:
		reason = reasonOutputClosed
	case writeErr != nil:
		reason = reasonOutputFailed
	case fetchErr != nil && reason == engine.Finished:
		reason = reasonNothingFetched
	}
	elapsed := time.Since(start)
	switch {
	case pipeClosed:
		// The reader has all it wanted (crawl run s.yaml | head): stop
		// quietly, as other commands in a pipeline do.
	case !o.quiet && o.level <= slog.LevelInfo:
		printSummary(stderr, st, reason, elapsed)
		warnEmptyFields(stderr, log, fields.Empty())
	default:
		warnEmptyFields(nil, log, fields.Empty())
	}
	if o.statsPath != "" {
		if err := writeStatsFile(o.statsPath, st, reason, elapsed); err != nil {
			log.Error("write stats", "error", err)
		}
	}
	switch {
	case pipeClosed:
		return nil // the reader has all it wanted: stop quietly
	case writeErr != nil:
		return fmt.Errorf("%w (items written before the failure: %d)", writeErr, st.Get(stats.ItemsWritten))
	case closeErr != nil:
		return fmt.Errorf("close output: %w", closeErr)
	case stateErr != nil && errors.As(stateErr, new(*state.DamagedError)):
		return stateErr // it says what to do
	case stateErr != nil:
		return fmt.Errorf("%w (the next run fetches again what was not recorded)", stateErr)
	case reason == engine.Interrupted || ctx.Err() != nil:
		return errInterrupted
	case frontierErr != nil:
		return frontierErr
	case runErr != nil:
		return runErr
	case reason == engine.CommitFailed:
		return errors.New("crawl stopped: pages could not be recorded as done (see the log above); the next run fetches them again")
	case fetchErr != nil:
		return fetchErr
	case o.strict && reason != engine.Finished:
		return stopConditionError{reason}
	}
	return nil
}

// The reasons a crawl ends that crawl run adds to the engine's own.
const (
	reasonMaxTime      engine.Reason = "max_time"
	reasonMaxItems     engine.Reason = "max_items"
	reasonOutputClosed engine.Reason = "output_closed"
	reasonOutputFailed engine.Reason = "output_failed"
	// The shared frontier's Redis lost the crawl or stopped answering.
	reasonFrontierFailed engine.Reason = "frontier_failed"
)

// debugWriter logs each line written to it at debug level: what the
// standard library's log package prints, such as net/http's "Unsolicited
// response received on idle HTTP channel" with the server's raw bytes,
// becomes one quoted log line that --log-level hides by default.
type debugWriter struct{ log *slog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	w.log.Debug(strings.TrimRight(string(p), "\n"), "from", "go")
	return len(p), nil
}

// logger returns the structured logger for a crawl, writing to w.
func (o *runOptions) logger(w io.Writer) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: o.level, ReplaceAttr: redactAttr}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// closableStdin returns a reader of r that Close releases even while a read
// is blocked, which closing a terminal or pipe on standard input does not
// do: the spider closes it when the crawl wants no more start URLs. It copies
// r through a pipe in a goroutine started on the first read, which exits
// when r ends or, blocked on a read of r, with the process.
func closableStdin(r io.Reader) io.ReadCloser {
	pr, pw := io.Pipe()
	return &lazyPipe{pr: pr, start: func() {
		go func() {
			_, err := io.Copy(pw, r)
			pw.CloseWithError(err)
		}()
	}}
}

type lazyPipe struct {
	pr    *io.PipeReader
	start func()
	once  sync.Once
}

func (l *lazyPipe) Read(p []byte) (int, error) {
	l.once.Do(l.start)
	return l.pr.Read(p)
}

func (l *lazyPipe) Close() error { return l.pr.Close() }
