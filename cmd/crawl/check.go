package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"crawl/downloader"
	"crawl/spider"
)

// checkOptions holds the flags of `crawl check`.
type checkOptions struct {
	specPath string
	run      bool          // --run: verify the spider's tests
	timeout  time.Duration // for each page a test fetches
}

func newCheckCommand() *cobra.Command {
	var opts checkOptions
	cmd := &cobra.Command{
		Use:   "check SPIDER.yaml",
		Short: "Check a spider file, and with --run verify its tests",
		Long: `check loads a spider file and reports every problem in it, one per line,
with the file, line and column, without sending a request. With --run it
also fetches the page of each entry of the spider's tests: and reports
every expectation that fails.`,
		Example: `  crawl check spider.yaml
  crawl check --run spider.yaml`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("check takes one spider file, got %s", plural(len(args), "argument", "arguments"))}
			}
			return nil
		},
		PreRunE: func(_ *cobra.Command, args []string) error {
			opts.specPath = args[0]
			if opts.timeout <= 0 {
				return usageError{fmt.Errorf("--timeout must be positive, got %s", opts.timeout)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd.Context(), &opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.run, "run", false, "fetch the page of each test and verify what the spider finds on it")
	f.DurationVar(&opts.timeout, "timeout", downloader.DefaultTimeout, "time limit for each page a test fetches")
	return cmd
}

// runCheck checks the spider file, printing its problems on stderr (a
// usageError: exit 2) or a summary on stdout; with --run it then verifies
// the tests, printing each failing expectation (an error: exit 1).
func runCheck(ctx context.Context, o *checkOptions, stdout, stderr io.Writer) error {
	sp, problems, err := checkSpec(o.specPath)
	if err != nil {
		return usageError{err}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, redact(p))
		}
		return usageError{fmt.Errorf("%s: %s", o.specPath, plural(len(problems), "problem", "problems"))}
	}
	if len(sp.ItemRules()) == 0 {
		fmt.Fprintf(stderr, "%s: warning: no item rules: the spider follows links but writes no items\n", o.specPath)
	}
	fmt.Fprintf(stdout, "ok: %s, %s\n", plural(len(sp.ItemRules()), "item rule", "item rules"), plural(sp.FollowRules(), "follow rule", "follow rules"))
	if !o.run {
		return nil
	}
	return runContracts(ctx, sp, o.timeout, stdout)
}

// checkSpec loads a spider file and checks its settings as `crawl run`
// would. It returns every problem in the file, or an error when the file
// cannot be read.
func checkSpec(path string) (*spider.Spider, []string, error) {
	o := &runOptions{specPath: path}
	flags := runCommand(o).Flags()
	errs, err := o.load(flags)
	if err != nil {
		return nil, nil, err
	}
	if len(errs) == 0 {
		// What crawl run checks of the flags together, such as the
		// outputs --state needs.
		if err := o.validate(); err != nil {
			errs = append(errs, err)
		} else if err := o.frontier.validate(flags); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		lines := make([]string, len(errs))
		for i, e := range errs {
			lines[i] = e.Error()
		}
		return nil, lines, nil
	}
	return o.spider, nil, nil
}

// runContracts verifies the spider's tests one after another.
func runContracts(ctx context.Context, sp *spider.Spider, timeout time.Duration, stdout io.Writer) error {
	tests := sp.Contracts()
	if len(tests) == 0 {
		fmt.Fprintln(stdout, "no tests to run: add tests: to the spider file")
		return nil
	}
	dl := downloader.New(downloader.Config{Timeout: timeout, CheckRedirect: sp.CheckRedirect})
	defer dl.Close()
	failed := 0
	for _, k := range tests {
		res := sp.Verify(ctx, k, dl)
		if ctx.Err() != nil {
			return errInterrupted
		}
		what := k.URL
		if k.Page != "" {
			what = k.Page
			if !strings.HasPrefix(k.URL, "file:") {
				what += " as " + k.URL
			}
		}
		if len(res.Failures) == 0 {
			fmt.Fprintf(stdout, "ok    tests[%d] %s: %s, %s\n", k.Index, what, plural(res.Items, "item", "items"), plural(res.Links, "link", "links"))
			continue
		}
		failed++
		fmt.Fprintf(stdout, "FAIL  tests[%d] %s\n", k.Index, what)
		for _, f := range res.Failures {
			fmt.Fprintf(stdout, "      %s:%d: tests[%d]: %s\n", sp.File(), k.Line, k.Index, f)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %s failed", failed, plural(len(tests), "test", "tests"))
	}
	fmt.Fprintf(stdout, "ok: %s passed\n", plural(len(tests), "test", "tests"))
	return nil
}

// plural writes a count and the noun that goes with it.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
