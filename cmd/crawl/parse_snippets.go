package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"crawl/downloader"
	"crawl/spider"
)

// parseSnippets are the flags of `crawl parse` that stand in for a spider
// file: the pieces of one, or its whole text.
type parseSnippets struct {
	fields []string // --field NAME=EXPR
	follow []string // --follow ENTRY
	inline string   // -c: a spider file's text

	sn spider.Snippets // from fields and follow, JSON decided by the page
}

func addSnippetFlags(f *pflag.FlagSet, p *parseSnippets) {
	f.StringArrayVar(&p.fields, "field", nil, "without a spider file: a field of the item, `NAME=EXPR` as in a spider file (title=h1::text); repeatable")
	f.StringArrayVar(&p.follow, "follow", nil, "without a spider file: a follow rule, `ENTRY` as in a spider file (a.next, or {css: a, allow: '/p/'}); repeatable")
	f.StringVarP(&p.inline, "inline", "c", "", "without a spider file: the spider file's `TEXT`, such as 'items: [{fields: {title: h1}}]'")
}

// given reports whether any of the flags is set.
func (p *parseSnippets) given() bool {
	return len(p.fields) > 0 || len(p.follow) > 0 || p.inline != ""
}

// checkArgs checks the arguments of crawl parse against the flags: a
// spider file and a page, or a page and the spider from the flags.
func (p *parseSnippets) checkArgs(args []string) error {
	switch {
	case len(args) == 2 && p.given():
		return usageError{errors.New("--field, --follow and -c stand in for a spider file: give one or the other")}
	case len(args) == 2:
		return nil
	case len(args) == 1 && p.given():
		return nil
	case len(args) == 1:
		return usageError{errors.New("parse takes a spider file and a URL or file, or a URL or file and --field, --follow or -c")}
	}
	return usageError{fmt.Errorf("parse takes a spider file and a URL or file, got %s", plural(len(args), "argument", "arguments"))}
}

// prepareSnippets checks the flags that stand in for a spider file, and
// turns the target into a URL. The spider of -c is loaded at once; that of
// --field and --follow once the page says whether it is HTML or JSON.
func (o *parseOptions) prepareSnippets() error {
	if o.timeout <= 0 {
		return usageError{fmt.Errorf("--timeout must be positive, got %s", o.timeout)}
	}
	if o.rule != "" {
		return usageError{errors.New("--rule names an item rule of a spider file; without one, the fields make the only rule")}
	}
	var err error
	if o.url, err = targetURL(o.target); err != nil {
		return usageError{err}
	}
	p := &o.snip
	if p.inline != "" {
		if len(p.fields) > 0 || len(p.follow) > 0 {
			return usageError{errors.New("-c gives the whole spider: put the fields and follow rules in it, or leave -c out")}
		}
		var doc yaml.Node
		if yaml.Unmarshal([]byte(p.inline), &doc) == nil && len(doc.Content) > 0 && doc.Content[0].Kind != yaml.MappingNode {
			return usageError{errors.New("-c: want a spider file's text, a mapping such as 'items: [{fields: {title: h1}}]' (for one value, crawl shell URL -c EXPR)")}
		}
		if o.spider, err = spider.ParseForPages("-c", []byte(p.inline)); err != nil {
			return usageError{err}
		}
		return nil
	}
	seen := map[string]bool{}
	for _, f := range p.fields {
		name, expr, ok := strings.Cut(f, "=")
		name = strings.TrimSpace(name)
		switch {
		case !ok || name == "":
			return usageError{fmt.Errorf("--field %q: want NAME=EXPR, such as title=h1::text", f)}
		case seen[name]:
			return usageError{fmt.Errorf("--field %s: given twice", name)}
		}
		seen[name] = true
		p.sn.Fields = append(p.sn.Fields, spider.Snippet{Name: name, Src: expr})
	}
	for i, f := range p.follow {
		p.sn.Follow = append(p.sn.Follow, spider.Snippet{Name: fmt.Sprintf("follow[%d]", i), Src: f})
	}
	// Whatever the page turns out to be, a flag that fits neither kind
	// fails before the request.
	htmlErr := compileSnippets(p.sn, false)
	if htmlErr != nil && compileSnippets(p.sn, true) != nil {
		if strings.Contains(strings.Join(append(p.fields, p.follow...), " "), "json") {
			return usageError{compileSnippets(p.sn, true)}
		}
		return usageError{htmlErr}
	}
	return nil
}

func compileSnippets(sn spider.Snippets, json bool) error {
	sn.JSON = json
	_, err := spider.FromSnippets(sn)
	return err
}

// forPage compiles --field and --follow for the page: as JSON for a JSON
// response, as HTML otherwise.
func (p *parseSnippets) forPage(resp *downloader.Response) (*spider.Spider, error) {
	sn := p.sn
	sn.JSON = spider.ReadsAsJSON(resp)
	return spider.FromSnippets(sn) // its errors say how the page is read
}
