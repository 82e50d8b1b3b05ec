package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
)

// newOptions holds the arguments of `crawl new`.
type newOptions struct {
	name string // the spider's name
	path string // the file to write: NAME.yaml
	url  *url.URL
}

func newNewCommand() *cobra.Command {
	var opts newOptions
	cmd := &cobra.Command{
		Use:   "new NAME URL",
		Short: "Write a commented starter spider for a site",
		Long: `new writes NAME.yaml, a spider for the site at URL with a follow rule, an
item rule and commented examples of the rest, to edit and try with
'crawl shell', 'crawl parse' and 'crawl check'. It never overwrites a file.`,
		Example: `  crawl new books https://books.toscrape.com/
  crawl shell https://books.toscrape.com/
  crawl parse books.yaml https://books.toscrape.com/`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("new takes a name and a URL, got %s", plural(len(args), "argument", "arguments"))}
			}
			return nil
		},
		PreRunE: func(_ *cobra.Command, args []string) error {
			return opts.prepare(args[0], args[1])
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNew(&opts, cmd.OutOrStdout())
		},
	}
	return cmd
}

// prepare checks the name and URL.
func (o *newOptions) prepare(name, rawURL string) error {
	o.path = name
	if ext := strings.ToLower(filepath.Ext(name)); ext == ".yaml" || ext == ".yml" {
		name = strings.TrimSuffix(name, filepath.Ext(name))
	} else {
		o.path += ".yaml"
	}
	o.name = filepath.Base(name)
	if o.name == "" || o.name == "." || o.name == string(filepath.Separator) || strings.ContainsFunc(o.name, func(r rune) bool { return r < ' ' }) {
		return usageError{fmt.Errorf("invalid spider name %q", name)}
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{fmt.Errorf("want an http or https URL such as https://example.com/, not %q", rawURL)}
	}
	o.url = u
	return nil
}

// runNew writes the starter spider, refusing to replace a file.
func runNew(o *newOptions, stdout io.Writer) error {
	var b strings.Builder
	host := o.url.Hostname()
	err := starterSpider.Execute(&b, map[string]string{
		"Name":   quoteYAML(o.name),
		"File":   o.path,
		"URL":    quoteYAML(o.url.String()),
		"RawURL": o.url.String(),
		"Host":   host,
		"Domain": quoteYAML(strings.TrimPrefix(host, "www.")),
	})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return usageError{fmt.Errorf("%s already exists: not overwriting it", o.path)}
	}
	if err != nil {
		return fmt.Errorf("write spider: %w", err)
	}
	if _, err := io.WriteString(f, b.String()); err != nil {
		f.Close()
		return fmt.Errorf("write spider: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write spider: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: try selectors on the page with\n  crawl shell %s\nedit them in, then try the spider with\n  crawl parse %s %s\n", o.path, o.url, o.path, o.url)
	return nil
}

// quoteYAML writes s as a double-quoted YAML scalar: a JSON string is one.
func quoteYAML(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// starterSpider is the file crawl new writes. It must load as it is: a
// test checks that it does.
var starterSpider = template.Must(template.New("spider").Parse(`# A spider for {{.Host}}, started by 'crawl new'. Try selectors on a page of
# the site (type h1::text, {css: a, all: true}, follow a.next, help), edit
# them in, then try the spider on one page, check it, and run it:
#
#   crawl shell {{.RawURL}}
#   crawl parse {{.File}} {{.RawURL}}
#   crawl check {{.File}}
#   crawl run {{.File}} -o items.jsonl
#
name: {{.Name}}
start_urls: [{{.URL}}]
allowed_domains: [{{.Domain}}]   # and its subdomains; links elsewhere are not followed

# Which links to follow from every page. A rule without css or xpath takes
# every <a>, <area> and <link rel=next>; allow and deny are regexes on the
# absolute URL, text a regex on the link's text.
follow:
  - css: "a[rel=next], li.next a, a.next"        # the next page of a list
  # - css: "article h2 a"                       # list page -> detail page,
  #   callback: detail                          # scraped by the rule named detail
  #   deny: ['/login', '/cart']

# What to scrape. A rule makes items of the pages whose URL matches urls
# (every page, without it); with each, one item per element each selects.
# A field is a CSS selector (::text, ::attr(name), ::html), an XPath
# ({xpath: …}), a list of selectors tried in turn, or a mapping with
# processors: regex, replace, join, default, type, absolute.
items:
  - name: page
    # urls: '/product/'
    # each: "article.product"
    fields:
      title: "title::text"
      heading: ["h1::text", "h2::text"]            # the first that matches
      description: {css: 'meta[name=description]::attr(content)', default: ""}
      # price: {css: ".price", regex: '([0-9.,]+)', replace: {',': ''}, type: float}
      # image: {css: "img::attr(src)", absolute: true}
      # tags: {css: ".tags a", all: true}
      url: "@url"
    required: [title]
    unique: [url]

# Tests for 'crawl check --run': a page and what the spider must find there.
# tests:
#   - url: {{.URL}}
#     count: 1
#     fields: [title, url]

settings:
  workers: 4
  rate: 2        # requests per second: be gentle with {{.Host}}
`))
