package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"crawl/engine"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "crawl",
		Short: "Crawl web sites with a spider written in YAML",
		Long: `crawl fetches pages, follows the links a spider file asks for, and writes
the items it scrapes as JSON Lines, one object per line, as soon as each exists.`,
		Example: `  crawl new books https://books.toscrape.com/   # a starter spider, books.yaml
  crawl parse books.yaml https://books.toscrape.com/   # what it makes of one page
  crawl check books.yaml                          # every problem in it, at once
  crawl run books.yaml -o items.jsonl             # the crawl`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q (try 'crawl --help')", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{explainFlagError(cmd, err)}
	})
	root.AddCommand(newRunCommand())
	root.AddCommand(newCheckCommand())
	root.AddCommand(newParseCommand())
	root.AddCommand(newShellCommand())
	root.AddCommand(newFetchCommand())
	root.AddCommand(newNewCommand())
	root.AddCommand(newVersionCommand())
	root.AddCommand(newBenchCommand())
	useGroupedHelp(root)
	return root
}

// usageError marks a bad flag, argument or spider file: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// stopConditionError reports, under --strict, a crawl that a limit ended:
// exit status 3.
type stopConditionError struct{ reason engine.Reason }

func (e stopConditionError) Error() string {
	return fmt.Sprintf("crawl ended by a limit: %s", e.reason)
}

// errInterrupted reports a crawl ended by a signal: exit status 130.
var errInterrupted = errors.New("interrupted")

// exitCode maps the error a command returned to the process exit status,
// printing it on stderr: 0 done, 1 failed (also a crawl that sent
// requests and could fetch not one page), 2 bad usage, spider file or output,
// 3 ended by a limit under --strict, 130 interrupted.
func exitCode(err error, stderr io.Writer) int {
	var uerr usageError
	var serr stopConditionError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errInterrupted):
		return 130
	case errors.As(err, &serr):
		fmt.Fprintf(stderr, "crawl: %s\n", redact(err.Error()))
		return 3
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "crawl: %s\n", redact(err.Error()))
		return 2
	default:
		fmt.Fprintf(stderr, "crawl: %s\n", redact(err.Error()))
		return 1
	}
}
