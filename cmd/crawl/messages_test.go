package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestRunReportsAllProblems runs crawl run on a spider file with problems
// in its keys and in its settings: all are listed at once, as crawl check
// lists them, each at its line, and no crawl starts.
func TestRunReportsAllProblems(t *testing.T) {
	r := runCrawl(t, nil, "run", "testdata/check/spec_and_settings.yaml")
	if r.code != 2 || r.stdout != "" {
		t.Errorf("exit %d, stdout %q; want 2 and nothing", r.code, r.stdout)
	}
	golden(t, "check/spec_and_settings.run.golden", r.stderr)
	check := runCrawl(t, nil, "check", "testdata/check/spec_and_settings.yaml")
	if check.stderr != r.stderr {
		t.Errorf("crawl run and crawl check differ:\nrun:\n%s\ncheck:\n%s", r.stderr, check.stderr)
	}
	if strings.Contains(r.stderr, "--workers") {
		t.Errorf("a setting reported as a flag the user did not type:\n%s", r.stderr)
	}
}

// TestParseHintsRule runs crawl parse on a page only a callback rule
// scrapes: the empty item list says to pass --rule, and with it the rule
// runs.
func TestParseHintsRule(t *testing.T) {
	const spec, page = "../../examples/books-detail-offline.yaml", "../../testdata/books/catalogue/a-light-in-the-attic_1/index.html"
	r := runCrawl(t, nil, "parse", spec, page)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := "items (0)\n  (item rule \"book\" scrapes only the pages a follow rule requests for it: add --rule book to try it on this page)\n"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("no hint to pass --rule:\n%s", r.stdout)
	}
	r = runCrawl(t, nil, "parse", spec, page, "--rule", "book")
	if !strings.Contains(r.stdout, "items (1)") || strings.Contains(r.stdout, "add --rule") {
		t.Errorf("with --rule book:\n%s", r.stdout)
	}
}

// TestWarnNoItemRules runs and checks a spider without item rules: it is
// valid (exit 0), and both commands say it writes nothing.
func TestWarnNoItemRules(t *testing.T) {
	spec := writeSpec(t, t.TempDir(), "start_urls: [\"file:{{URL}}/testdata/books/index.html\"]\nfollow: [{css: \"li.next a\"}]\n", repoRoot(t))
	run := runCrawl(t, nil, "run", spec)
	if run.code != 0 || run.stdout != "" {
		t.Errorf("run: exit %d, stdout %q; want 0 and nothing", run.code, run.stdout)
	}
	if !strings.Contains(run.stderr, `level=WARN msg="the spider has no item rules: it follows links but writes no items (add items: to the spider file)"`) {
		t.Errorf("run: no warning:\n%s", run.stderr)
	}
	check := runCrawl(t, nil, "check", spec)
	if check.code != 0 || check.stderr != spec+": warning: no item rules: the spider follows links but writes no items\n" {
		t.Errorf("check: exit %d, stderr %q", check.code, check.stderr)
	}
}

// TestWarnEmptyFields runs a spider one of whose fields matches nothing:
// the summary has a line for it, and under --quiet, a warning.
func TestWarnEmptyFields(t *testing.T) {
	spec := writeSpec(t, t.TempDir(), `start_urls: ["file:{{URL}}/testdata/books/index.html"]
follow: [{css: "li.next a"}]
items:
  - fields: {title: h1, price: .no-such-class, stock: .neither, url: "@url"}
`, repoRoot(t))
	r := runCrawl(t, nil, "run", spec)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	pages := strings.Count(r.stdout, "\n")
	for _, f := range []string{"price", "stock"} {
		want := fmt.Sprintf("  empty field      %10d  items of rule \"item\", none with a value for %q\n", pages, f)
		if !strings.Contains(r.stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, `value for "title"`) {
		t.Errorf("a field with values reported empty:\n%s", r.stderr)
	}
	q := runCrawl(t, nil, "run", spec, "--quiet")
	want := fmt.Sprintf("level=WARN msg=\"field empty in every item\" rule=item field=price items=%d\n", pages)
	if !strings.Contains(q.stderr, want) || strings.Count(q.stderr, "\n") != 2 {
		t.Errorf("--quiet: stderr %q, want two warnings such as %q", q.stderr, want)
	}
}

// repoRoot is the module's root directory, for file: URLs of its
// testdata.
func repoRoot(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(abs)
}

// TestArgumentCounts checks the messages about the number of arguments,
// in the singular where there is one.
func TestArgumentCounts(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "a.yaml", "b.yaml"}, "crawl: run takes one spider file, got 2 arguments\n"},
		{[]string{"parse", "a.yaml", "b", "c"}, "crawl: parse takes a spider file and a URL or file, got 3 arguments\n"},
		{[]string{"check"}, "crawl: check takes one spider file, got 0 arguments\n"},
		{[]string{"new", "x"}, "crawl: new takes a name and a URL, got 1 argument\n"},
	}
	for _, tt := range tests {
		r := runCrawl(t, nil, tt.args...)
		if r.code != 2 || r.stderr != tt.want {
			t.Errorf("crawl %s: exit %d, stderr %q; want 2 and %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.want)
		}
	}
}

// TestHelpGroups checks crawl run --help: a description, examples, and
// every flag once, in groups by purpose.
func TestHelpGroups(t *testing.T) {
	r := runCrawl(t, nil, "run", "--help")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	out := r.stdout
	if !strings.HasPrefix(out, "run crawls from the spider's start URLs") || !strings.Contains(out, "\nExamples:\n") {
		t.Errorf("no description or examples:\n%s", out)
	}
	last := -1
	for _, g := range runFlagGroups {
		i := strings.Index(out, "\n"+g.title+" flags:\n")
		if i < last {
			t.Errorf("group %q missing or out of order:\n%s", g.title, out)
		}
		last = i
	}
	other := out[strings.Index(out, "\nOther flags:\n"):]
	if strings.Count(other, "--") != 1 || !strings.Contains(other, "--help") {
		t.Errorf("flags outside the groups:\n%s", other)
	}
	runCommand(new(runOptions)).Flags().VisitAll(func(f *pflag.Flag) {
		listed := regexp.MustCompile(`(?m)^ +(-\w, )?--` + regexp.QuoteMeta(f.Name) + ` `)
		if n := len(listed.FindAllString(out, -1)); !f.Hidden && n != 1 {
			t.Errorf("--%s listed %d times", f.Name, n)
		}
	})
	root := runCrawl(t, nil, "--help")
	if !strings.Contains(root.stdout, "Examples:\n  crawl new books") {
		t.Errorf("crawl --help has no first steps:\n%s", root.stdout)
	}
	check := runCrawl(t, nil, "check", "--help")
	if !strings.Contains(check.stdout, "\nFlags:\n") || strings.Contains(check.stdout, "Other flags") {
		t.Errorf("crawl check --help lost its plain flag list:\n%s", check.stdout)
	}
}

// TestYAMLErrorsInCommands runs crawl check and crawl run on spider files
// with YAML syntax errors: one line each, at the line and column of the
// mistake, with the hint, and exit status 2.
func TestYAMLErrorsInCommands(t *testing.T) {
	tests := []struct{ file, want string }{
		{"yaml_indent_key", `yaml_indent_key.yaml:6:6: invalid YAML: did not find expected key (this line is indented differently`},
		{"yaml_tab", `yaml_tab.yaml:3:1: invalid YAML: found character that cannot start any token (a tab indents this line: YAML indents with spaces only)`},
		{"yaml_backslash", `yaml_backslash.yaml:6:38: invalid YAML: found unknown escape character (in double quotes a backslash starts an escape such as \n; write a regex in single quotes, '([\d.]+)', or double the backslash)`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "../../spider/testdata/bad/" + tt.file + ".yaml"
			for _, c := range []string{"check", "run"} {
				r := runCrawl(t, nil, c, path)
				first, _, _ := strings.Cut(r.stderr, "\n")
				if r.code != 2 || !strings.Contains(first, tt.want) {
					t.Errorf("crawl %s: exit %d, stderr:\n%s\nwant 2 and a line with %s", c, r.code, r.stderr, tt.want)
				}
			}
		})
	}
}
