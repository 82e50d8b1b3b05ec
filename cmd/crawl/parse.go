package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"crawl/downloader"
	"crawl/spider"
)

// parseOptions holds the flags of `crawl parse`.
type parseOptions struct {
	specPath string
	target   string        // the URL or file as given
	rule     string        // --rule: the item rule to scrape with, as a callback
	sitemap  bool          // --sitemap: read the page as a sitemap
	timeout  time.Duration // for the one request
	snip     parseSnippets // --field, --follow, -c: a spider from the command line
	render   renderOptions // --browser, --browser-url
	rendered bool          // --render, or the spider's top-level render

	spider *spider.Spider // loaded by PreRunE; nil until the page is fetched for --field and --follow
	url    string         // target as a URL: a path becomes a file: URL
}

func newParseCommand() *cobra.Command {
	var opts parseOptions
	cmd := &cobra.Command{
		Use:   "parse [SPIDER.yaml] URL|FILE",
		Short: "Show what a spider makes of one page",
		Long: `parse fetches one page (or reads a saved one) and shows how the spider sees
it: which item rules scrape it, the items they make (as JSON) and whether
the pipeline would keep them, the links that would be followed, and why
the others would not. Nothing is written and no other page is fetched.
The spider file needs no start URLs: the page is the one given.

Without a spider file, --field and --follow give the fields of one item
rule and the follow rules, as they would be written in a spider file, or
-c gives the spider file's text.`,
		Example: `  crawl parse spider.yaml https://books.toscrape.com/
  crawl parse spider.yaml saved/page.html --rule book
  crawl parse spider.yaml https://example.com/sitemap.xml --sitemap
  crawl parse https://books.toscrape.com/ --field title='h3 a::attr(title)' --follow li.next
  crawl parse page.html -c 'items: [{each: article, fields: {title: h3}}]'`,
		Args: func(_ *cobra.Command, args []string) error {
			return opts.snip.checkArgs(args)
		},
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.target = args[0]
				if err := opts.prepareSnippets(); err != nil {
					return err
				}
				return opts.prepareRender(cmd.Flags().Changed("render"))
			}
			opts.specPath, opts.target = args[0], args[1]
			if err := opts.prepare(); err != nil {
				return err
			}
			return opts.prepareRender(cmd.Flags().Changed("render"))
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runParse(cmd.Context(), &opts, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.rule, "rule", "", "scrape with this item rule only, as a follow rule's callback would")
	f.BoolVar(&opts.sitemap, "sitemap", false, "read the page as a sitemap (or robots.txt), as for sitemap_urls")
	f.DurationVar(&opts.timeout, "timeout", downloader.DefaultTimeout, "time limit for the request")
	addSnippetFlags(f, &opts.snip)
	f.BoolVar(&opts.rendered, "render", false, "render the page in a browser, with the spider's render settings (default: when the spider renders its start pages)")
	addBrowserFlags(f, &opts.render)
	return cmd
}

// prepare loads the spider and turns the target into a URL.
func (o *parseOptions) prepare() error {
	if o.timeout <= 0 {
		return usageError{fmt.Errorf("--timeout must be positive, got %s", o.timeout)}
	}
	sp, err := spider.LoadForPages(o.specPath)
	if err != nil {
		return usageError{err}
	}
	o.spider = sp
	if o.sitemap && o.rule != "" {
		return usageError{errors.New("--rule and --sitemap: a sitemap is read by no item rule")}
	}
	if o.rule != "" && !contains(sp.ItemRules(), o.rule) {
		msg := fmt.Sprintf("--rule: the spider has no item rule %q", o.rule)
		if hint := spider.Suggest(o.rule, sp.ItemRules()); hint != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", hint)
		}
		return usageError{errors.New(msg)}
	}
	o.url, err = targetURL(o.target)
	if err != nil {
		return usageError{err}
	}
	return nil
}

// targetURL returns the URL of a page given as an http(s) or file URL, or
// as the path of a local file.
func targetURL(target string) (string, error) {
	if u, err := url.Parse(target); err == nil {
		switch strings.ToLower(u.Scheme) {
		case "http", "https":
			if u.Host == "" {
				return "", fmt.Errorf("%s: missing host", target)
			}
			return target, nil
		case "file":
			if u.Opaque == "" {
				return (&url.URL{Scheme: "file", Host: u.Host, Path: u.Path}).String(), nil
			}
			target = u.Opaque // file:relative/path
		}
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	switch {
	case err != nil:
		return "", fmt.Errorf("%s is not a URL, nor a file: %w", target, err)
	case fi.IsDir():
		return "", fmt.Errorf("%s is a directory", target)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// errNotParsed reports a page the spider does not parse: exit status 1.
var errNotParsed = errors.New("page not parsed")

// runParse fetches the page and prints what the spider makes of it.
func runParse(ctx context.Context, o *parseOptions, stdout io.Writer) error {
	cfg := downloader.Config{Timeout: o.timeout}
	if o.spider != nil {
		cfg.CheckRedirect = o.spider.CheckRedirect
	}
	dl := downloader.New(cfg)
	defer dl.Close()
	req := &downloader.Request{URL: o.url, Rule: o.rule}
	if o.sitemap {
		req.Rule = spider.SitemapRule
	}
	resp, err := o.fetch(ctx, dl, req)
	if err != nil {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	if o.spider == nil {
		if o.spider, err = o.snip.forPage(resp); err != nil {
			return usageError{err}
		}
	}
	sp := o.spider
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "page\t%s\n", resp.URL)
	if resp.URL != req.URL {
		fmt.Fprintf(w, "requested\t%s\n", req.URL)
	}
	ct := resp.ContentType()
	if ct == "" {
		ct = "no content type"
	}
	fmt.Fprintf(w, "response\t%d, %s, %s\n", resp.Status, ct, plural(len(resp.Body), "byte", "bytes"))
	if req.Render != nil {
		fmt.Fprintf(w, "rendered\t%s captured\n", plural(len(resp.Captured), "response", "responses"))
	}
	switch {
	case resp.Status < 200 || resp.Status > 299:
		fmt.Fprintf(w, "not parsed\tstatus %d\n", resp.Status)
		return fmt.Errorf("%w: status %d", errNotParsed, resp.Status)
	case !sp.Accepts(resp):
		fmt.Fprintf(w, "not parsed\tthe spider does not read %s\n", ct)
		return fmt.Errorf("%w: content type %s", errNotParsed, ct)
	}
	ex := sp.Explain(resp)
	fmt.Fprintf(w, "read as\t%s\n", ex.As)
	if ex.Problem != "" {
		fmt.Fprintf(w, "problem\t%s\n", ex.Problem)
	}
	if len(ex.Rules) > 0 {
		fmt.Fprintf(w, "\nitem rules\n")
		for _, r := range ex.Rules {
			if r.Ran {
				fmt.Fprintf(w, "  %s\t%s\n", r.Name, plural(r.Items, "item", "items"))
			} else {
				fmt.Fprintf(w, "  %s\tnot run: %s\n", r.Name, r.Why)
			}
		}
	}
	// Items and the drops go straight out: the JSON must not be aligned.
	w.Flush()
	var kept, dropped []spider.ItemReport
	for _, it := range ex.Items {
		if it.Drop == nil {
			kept = append(kept, it)
		} else {
			dropped = append(dropped, it)
		}
	}
	if ex.As != "sitemap" {
		fmt.Fprintf(stdout, "\nitems (%d)\n", len(kept))
		for _, it := range kept {
			js, _ := it.Item.MarshalJSON()
			fmt.Fprintf(stdout, "%s\n", js)
		}
		if len(kept) == 0 && len(dropped) == 0 {
			printRuleHint(stdout, ex.Rules)
		}
	}
	if len(dropped) > 0 {
		fmt.Fprintf(stdout, "\ndropped (%d)\n", len(dropped))
		for _, it := range dropped {
			js, _ := it.Item.MarshalJSON()
			fmt.Fprintf(stdout, "  %s: %s\n    %s\n", it.Drop.Reason, it.Drop.Detail, js)
		}
	}
	var follow, skip []spider.LinkReport
	for _, l := range ex.Links {
		if l.Request != nil {
			follow = append(follow, l)
		} else {
			skip = append(skip, l)
		}
	}
	// URLs come last on their lines, so that the columns before them
	// line up whatever their length.
	fmt.Fprintf(w, "\nfollow (%d)\n", len(follow))
	for _, l := range follow {
		fmt.Fprintf(w, "  %s\t%s%s\n", l.From, l.URL, linkNote(l))
	}
	fmt.Fprintf(w, "\nnot followed (%d)\n", len(skip))
	for _, l := range skip {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", l.Skip, l.From, l.URL)
	}
	return nil
}

// linkNote describes what a followed link asks beyond a GET: its method,
// body and the item rule it names.
func linkNote(l spider.LinkReport) string {
	var b strings.Builder
	if m := l.Request.Method; m != "" && m != "GET" {
		b.WriteString(" " + m)
	}
	if len(l.Request.Body) > 0 {
		fmt.Fprintf(&b, " body %q", l.Request.Body)
	}
	switch {
	case l.Rule == spider.SitemapRule:
		b.WriteString(" (a sitemap)")
	case l.Rule != "":
		b.WriteString(" -> " + l.Rule)
	}
	if l.Lastmod != "" {
		b.WriteString(" lastmod " + l.Lastmod)
	}
	return b.String()
}
