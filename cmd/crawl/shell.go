package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"crawl/downloader"
	"crawl/item"
	"crawl/spider"
	"crawl/urls"
)

// shellOptions holds the flags of `crawl shell`.
type shellOptions struct {
	target   string
	code     string            // -c: one line to run, then exit
	json     bool              // --json: read every page as JSON
	download downloader.Config // the downloader flags of crawl run, bound straight in
	render   pageRender        // --render, --browser, --browser-url

	url string // target as a URL: a path becomes a file: URL
}

func newShellCommand() *cobra.Command {
	var opts shellOptions
	cmd := &cobra.Command{
		Use:   "shell URL|FILE",
		Short: "Try selectors on a page, interactively or with -c",
		Long: `shell fetches one page as crawl run would (same downloader flags: robots.txt,
user agent, cookies, proxy, cache, charset), or reads a saved HTML or JSON
file, then reads lines at a prompt. Type what a field takes in a spider
file and its value is printed at once, a list one value per line:

  h1::text                                 a CSS selector (a JSON path on JSON)
  {xpath: '//p[@class="price"]', regex: '[\d.]+'}
  {css: li h3, all: true}
  {each: li, fields: {title: h3, link: 'a::attr(href)'}}

Other commands:
  follow [ENTRY]   the links a follow entry takes ('a.next', {css: a, allow: '/p/'});
                   alone, the links a follow entry with no selector takes
  headers          the status and headers of the response, as the crawler got it
  fetch URL        move to another page (relative to this one)
  view             open the page in a browser ($BROWSER, else xdg-open)
  help             this list
  quit             leave (so do Ctrl-D and Ctrl-C)

A field is compiled by the code that compiles a spider file, so a value
here is the value the crawl gets. With -c the one line is run and the shell
exits: 0 when it printed a value, 1 when nothing matched or the page could
not be fetched, 2 for an invalid expression.`,
		Example: `  crawl shell https://books.toscrape.com/
  crawl shell https://books.toscrape.com/ -c 'article h3 a::attr(title)'
  crawl shell saved/page.html -c '{css: .price, all: true}'
  crawl shell https://api.example.com/items.json -c 'data[*].name'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("shell takes one URL or file, got %d arguments", len(args))}
			}
			return nil
		},
		PreRunE: func(_ *cobra.Command, args []string) error {
			opts.target = args[0]
			if errs := validateDownload(&opts.download); len(errs) > 0 {
				return usageError{problems(errs)}
			}
			u, err := targetURL(opts.target)
			if err != nil {
				return usageError{err}
			}
			opts.url = u
			if err := opts.render.prepare(u); err != nil {
				return usageError{err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runShell(cmd.Context(), &opts, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.code, "command", "c", "", "run `LINE` (an expression, a follow or headers) on the page, print its value and exit")
	f.BoolVar(&opts.json, "json", false, "read pages as JSON whatever their content type, as response: json does")
	addDownloadFlags(f, &opts.download)
	addPageRenderFlags(f, &opts.render)
	return cmd
}

// runShell fetches the page, then runs -c or the prompt.
func runShell(ctx context.Context, o *shellOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	dl := downloader.New(o.download)
	defer dl.Close()
	defer o.render.close()
	sh := &shell{dl: o.render.fetcher(dl, o.download.UserAgent), out: stdout, note: stderr, oneShot: o.code != "", forceJSON: o.json}
	if err := sh.load(ctx, o.url); err != nil {
		return err
	}
	if sh.oneShot {
		if err := sh.run(ctx, o.code); !errors.Is(err, errQuit) {
			return err
		}
		return nil
	}
	return sh.interact(ctx, stdin, stdout)
}

// shell is the state of `crawl shell`: the page, and where to write.
type shell struct {
	dl      pageFetcher // the downloader, or with --render a browser behind it
	resp    *downloader.Response
	json    bool      // the page is read as JSON
	out     io.Writer // values and links
	note    io.Writer // what is said about them: the page, problems
	oneShot bool      // -c: no notes on stdout, and errors end the shell

	forceJSON bool // --json
}

// Errors of a line that the shell reports and goes on from.
var (
	errNoValue = errors.New("nothing matched")
	errQuit    = errors.New("quit")
)

// load fetches url and makes it the page.
func (sh *shell) load(ctx context.Context, url string) error {
	resp, err := fetchPage(ctx, sh.dl, url)
	if err != nil {
		return err
	}
	sh.resp, sh.json = resp, sh.forceJSON || spider.ReadsAsJSON(resp)
	switch {
	case !sh.oneShot:
		sh.describe()
	case resp.Status >= 400:
		// Evaluated all the same, as an error page may be what is tried.
		fmt.Fprintf(sh.note, "crawl: warning: the page answered %d %s\n", resp.Status, http.StatusText(resp.Status))
	}
	return nil
}

// describe tells what the page is.
func (sh *shell) describe() {
	r := sh.resp
	as := "HTML"
	if sh.json {
		as = "JSON"
	}
	ct := r.ContentType()
	if ct == "" {
		ct = "no content type"
	}
	fmt.Fprintf(sh.note, "%s\n%d, %s, %s, read as %s\n", r.URL, r.Status, ct, plural(len(r.Body), "byte", "bytes"), as)
	if body := bytes.TrimSpace(r.Body); !sh.json && len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		fmt.Fprintln(sh.note, "the body looks like JSON: crawl shell --json reads it so")
	}
	if r.Truncated {
		fmt.Fprintf(sh.note, "the body was cut at %d bytes (--max-body)\n", len(r.Raw))
	}
}

// run runs one line: a command or an expression.
func (sh *shell) run(ctx context.Context, line string) error {
	line = strings.TrimSpace(line)
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch word {
	case "":
		return nil
	case "quit", "exit":
		return errQuit
	case "help", "?":
		if sh.oneShot {
			return usageError{errors.New("-c runs an expression, a follow or headers, not help")}
		}
		fmt.Fprint(sh.note, shellHelp)
		return nil
	case "fetch":
		if sh.oneShot {
			return usageError{errors.New("-c runs an expression, a follow or headers, not fetch: give the URL to crawl shell")}
		}
		return sh.fetch(ctx, rest)
	case "view":
		if sh.oneShot {
			return usageError{errors.New("-c runs an expression, a follow or headers, not view")}
		}
		return sh.view(ctx)
	case "follow":
		return sh.follow(rest)
	case "headers":
		return writeHead(sh.out, sh.resp)
	}
	return sh.eval(line)
}

const shellHelp = `  EXPR             what a field takes in a spider file: h1::text, {css: li, all: true},
                   {xpath: '//h1', regex: '\w+'}, a JSON path on a JSON page
  follow [ENTRY]   the links a follow entry takes: a.next, {css: a, allow: '/p/'}
  headers          the status and headers of the response
  fetch URL        move to another page (relative to this one)
  view             open the page in a browser
  quit             leave (so do Ctrl-D and Ctrl-C)
`

// fetch moves to another page: a URL, a link relative to this page, or
// file:PATH for a local file.
func (sh *shell) fetch(ctx context.Context, target string) error {
	if target == "" {
		return usageError{errors.New("fetch takes a URL")}
	}
	u, err := targetURL(target) // a URL, or the path of a local file
	if !strings.Contains(target, ":") {
		// A link relative to this page, as a page's links are.
		base, perr := urls.ParseBase(sh.resp.URL)
		if perr == nil {
			u, err = base.Resolve(target)
		}
	}
	if err != nil {
		return usageError{err}
	}
	ictx, stop := interruptible(ctx)
	defer stop()
	return sh.load(ictx, u)
}

// eval evaluates an expression and prints its value.
func (sh *shell) eval(src string) error {
	e, err := spider.CompileExpr(src, sh.json)
	if err != nil {
		return usageError{err}
	}
	fields, err := e.Eval(sh.resp)
	if err != nil {
		return err
	}
	var printed bool
	for _, f := range fields {
		prefix := ""
		if len(fields) > 1 {
			prefix = f.Name + ": " // a regex of named groups
		}
		printed = printValue(sh.out, prefix, f.Value) || printed
	}
	if !printed {
		return errNoValue
	}
	return nil
}

// printValue writes a value, a list one element per line: text as it is,
// anything else as JSON. It reports whether it wrote anything.
func printValue(w io.Writer, prefix string, v any) bool {
	switch v := v.(type) {
	case string:
		fmt.Fprintf(w, "%s%s\n", prefix, v)
	case []string:
		for _, s := range v {
			fmt.Fprintf(w, "%s%s\n", prefix, s)
		}
		return len(v) > 0
	case []any:
		for _, e := range v {
			printValue(w, prefix, e)
		}
		return len(v) > 0
	case []*item.Item:
		for _, it := range v {
			printValue(w, prefix, it)
		}
		return len(v) > 0
	default:
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(w, "%s%v\n", prefix, v)
		} else {
			fmt.Fprintf(w, "%s%s", prefix, b.String())
		}
	}
	return true
}

// follow prints the links a follow entry takes from the page, as the crawl
// would request them; the links it would not follow, with the reason, go
// with the notes.
func (sh *shell) follow(src string) error {
	s, err := spider.FromSnippets(spider.Snippets{Follow: []spider.Snippet{{Name: "follow", Src: src}}, JSON: sh.json})
	if err != nil {
		return usageError{err}
	}
	ex := s.Explain(sh.resp)
	if ex.Problem != "" {
		return errors.New(ex.Problem)
	}
	n := 0
	for _, l := range ex.Links {
		if l.Request == nil {
			continue
		}
		n++
		note := linkNote(l)
		if c, err := (urls.Canon{}).Canonical(l.URL); err == nil && c != l.URL && !sh.oneShot {
			note += "  (de-duplicated as " + c + ")"
		}
		fmt.Fprintf(sh.out, "%s%s\n", l.URL, note)
	}
	for _, l := range ex.Links {
		if l.Request == nil {
			fmt.Fprintf(sh.note, "not followed (%s): %s\n", l.Skip, l.URL)
		}
	}
	if n == 0 {
		return fmt.Errorf("%w: no link to follow", errNoValue)
	}
	return nil
}
