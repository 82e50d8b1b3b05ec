package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"crawl/item"
	"crawl/pipeline"
	"crawl/spider"
)

// printRuleHint explains an empty "items (0)" of crawl parse when the
// item rules that could scrape the page are callbacks, which run only on
// the pages requested for them: --rule runs one on this page.
func printRuleHint(w io.Writer, rules []spider.RuleReport) {
	var names []string
	for _, r := range rules {
		if r.Ran {
			return
		}
		if r.Why == spider.WhyCallbackOnly {
			names = append(names, r.Name)
		}
	}
	if len(names) == 0 {
		return
	}
	if len(names) == 1 {
		fmt.Fprintf(w, "  (item rule %q scrapes only the pages a follow rule requests for it: add --rule %s to try it on this page)\n", names[0], names[0])
		return
	}
	fmt.Fprintf(w, "  (item rules %s scrape only the pages follow rules request for them: add --rule NAME to try one on this page)\n", strings.Join(names, ", "))
}

// countFields is check, counting the fields of each item it keeps for the
// summary's warnings about fields that are always empty. (It is not a
// wrapper of the writer, which would hide the writer's exact count of the
// items that reached the output.) Filter calls it from one goroutine.
func countFields(check pipeline.Check, use *spider.FieldUse) pipeline.Check {
	return func(it *item.Item) error {
		if err := check(it); err != nil {
			return err
		}
		use.Add(it)
		return nil
	}
}

// warnEmptyFields reports each field that had no value in any item its
// rule made: as lines of the summary when it is printed, else as warnings
// in the log (under --quiet).
func warnEmptyFields(summary io.Writer, log *slog.Logger, empty []spider.EmptyField) {
	for _, f := range empty {
		if summary == nil {
			log.Warn("field empty in every item", "rule", f.Rule, "field", f.Field, "items", f.Items)
			continue
		}
		noun := "items"
		if f.Items == 1 {
			noun = "item"
		}
		fmt.Fprintf(summary, "  %-16s %10d  %s of rule %q, none with a value for %q\n", "empty field", f.Items, noun, f.Rule, f.Field)
	}
}

// warnNoItems warns about a spider that has no item rules: it crawls and
// writes nothing.
func warnNoItems(log *slog.Logger, sp *spider.Spider) {
	if len(sp.ItemRules()) == 0 {
		log.Warn("the spider has no item rules: it follows links but writes no items (add items: to the spider file)")
	}
}
