// Package docs holds the user documentation; its test runs the examples in
// it, so that the documentation cannot drift from the program.
//
// Every spider in a ```yaml block of README.md and docs/*.md must load (a
// fragment, such as a few fields, is loaded inside a minimal spider). Every
// transcript line "$ crawl …" that names no http(s) URL, and no file the
// docs do not hold, is run in a scratch directory that sees the
// repository's examples/ and testdata/,
// with the lines typed at its prompt ("crawl> …") on standard input, and
// what it prints must match the other lines below it, where "…" stands for
// any text within a line, and a line of "…" alone for any number of lines.
// A block preceded by the comment <!-- doctest: file NAME --> is written
// to NAME in that directory first, so a transcript can use it.
package docs

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"crawl/spider"
)

// docFiles are the documents whose examples are checked.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../README.md"}, files...)
}

// block is a fenced or indented block of a document.
type block struct {
	file   string
	line   int    // line of the block's first line
	lang   string // "yaml" for ```yaml; "" for an indented block
	text   string
	target string // from <!-- doctest: file NAME -->
}

var targetComment = regexp.MustCompile(`^<!-- doctest: file (\S+) -->$`)

// blocks splits a markdown document into its code blocks.
func blocks(file string, src []byte) []block {
	var out []block
	lines := strings.Split(string(src), "\n")
	target := ""
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if m := targetComment.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			target = m[1]
			continue
		}
		switch {
		case strings.HasPrefix(l, "```"):
			b := block{file: file, line: i + 2, lang: strings.TrimPrefix(l, "```"), target: target}
			var body []string
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
				body = append(body, lines[i])
			}
			b.text = strings.Join(body, "\n") + "\n"
			out = append(out, b)
			target = ""
		case strings.HasPrefix(l, "    ") && (i == 0 || strings.TrimSpace(lines[i-1]) == ""):
			b := block{file: file, line: i + 1, target: target}
			var body []string
			for ; i < len(lines) && (strings.HasPrefix(lines[i], "    ") || strings.TrimSpace(lines[i]) == ""); i++ {
				body = append(body, strings.TrimPrefix(lines[i], "    "))
			}
			i--
			b.text = strings.TrimRight(strings.Join(body, "\n"), "\n") + "\n"
			out = append(out, b)
			target = ""
		case strings.TrimSpace(l) != "":
			target = ""
		}
	}
	return out
}

// spiderKeys are the top-level keys that make a block a whole spider.
var spiderKeys = []string{"start_urls", "start_urls_file", "start_urls_range", "sitemap_urls"}

// asSpider makes a loadable spider of a yaml block: the block itself when
// it is a whole spider, or the block inside a minimal spider when it is a
// part of one (rules, fields, a field). It reports false for a block that
// only makes sense beside a spider it does not show (a tests: section).
func asSpider(t *testing.T, text string) (string, bool) {
	t.Helper()
	var top map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(text), &top); err != nil {
		// An indented fragment (fields of a rule) is valid once dedented.
		return asSpider(t, dedent(text))
	}
	has := func(k string) bool { _, ok := top[k]; return ok }
	for _, k := range spiderKeys {
		if has(k) {
			return text, true
		}
	}
	const start = "start_urls: [\"https://example.com/\"]\n"
	switch {
	case has("tests") && len(top) == 1:
		return "", false
	case has("items") || has("follow") || has("canonical"):
		return start + text, true
	case has("fields"):
		return start + "items:\n  - name: doc\n" + indent(text, "    "), true
	default: // one or more fields
		return start + "items:\n  - name: doc\n    fields:\n" + indent(text, "      "), true
	}
}

func dedent(text string) string {
	lines := strings.Split(text, "\n")
	min := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if min < 0 || n < min {
			min = n
		}
	}
	for i, l := range lines {
		if len(l) >= min && min > 0 {
			lines[i] = l[min:]
		}
	}
	return strings.Join(lines, "\n")
}

func indent(text, by string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestSpiderBlocks loads every spider and spider fragment of the docs.
func TestSpiderBlocks(t *testing.T) {
	checked := 0
	for _, file := range docFiles(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks(file, src) {
			if b.lang != "yaml" {
				continue
			}
			text, ok := asSpider(t, b.text)
			if !ok {
				var v any
				if err := yaml.Unmarshal([]byte(b.text), &v); err != nil {
					t.Errorf("%s:%d: not YAML: %v", b.file, b.line, err)
				}
				continue
			}
			// Relative file: URLs are read from beside the spider file, as
			// for the spiders in examples/.
			if _, err := spider.Parse("../examples/doc.yaml", []byte(text)); err != nil {
				t.Errorf("%s:%d: the spider does not load:\n%v\n%s", b.file, b.line, err, text)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d spider blocks found in the docs: is the test reading them?", checked)
	}
}

// crawlBinary builds the crawl command once for the transcript tests.
func crawlBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crawl")
	out, err := exec.Command("go", "build", "-o", bin, "crawl/cmd/crawl").CombinedOutput()
	if err != nil {
		t.Fatalf("build crawl: %v\n%s", err, out)
	}
	return bin
}

// transcript is one "$ crawl …" line and what it printed.
type transcript struct {
	line  int
	args  []string
	input []string // lines typed at a prompt ("crawl> …")
	want  []string
}

// transcripts reads the "$ crawl" lines of an indented block.
func transcripts(b block) []transcript {
	var out []transcript
	for i, l := range strings.Split(strings.TrimRight(b.text, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(l, "$ crawl "); ok {
			out = append(out, transcript{line: b.line + i, args: strings.Fields(rest)})
			continue
		}
		if len(out) == 0 {
			continue
		}
		cur := &out[len(out)-1]
		if in, ok := strings.CutPrefix(l, "crawl> "); ok {
			cur.input = append(cur.input, in)
			continue
		}
		cur.want = append(cur.want, l)
	}
	for i := range out { // the blank lines between two transcripts
		for n := len(out[i].want); n > 0 && strings.TrimSpace(out[i].want[n-1]) == ""; n-- {
			out[i].want = out[i].want[:n-1]
		}
	}
	return out
}

// runnable reports whether a transcript can run here: offline (no
// network URL among its arguments, but for crawl new, which fetches
// nothing) and with every file it names present in dir. The others show a
// spider or a site the docs do not include.
func runnable(dir string, args []string) bool {
	if len(args) > 0 && args[0] == "new" {
		return true
	}
	for _, a := range args {
		switch {
		case strings.Contains(a, "://") && !strings.HasPrefix(a, "file:"):
			return false
		case strings.HasPrefix(a, "-"):
		case strings.ContainsAny(a, "/.") && !strings.HasPrefix(a, "file:"):
			if _, err := os.Stat(filepath.Join(dir, a)); err != nil {
				return false
			}
		}
	}
	return true
}

// TestTranscripts runs every offline "$ crawl" transcript of the docs.
func TestTranscripts(t *testing.T) {
	bin := crawlBinary(t)
	ran := 0
	for _, file := range docFiles(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dir := scratch(t)
		for _, b := range blocks(file, src) {
			if b.target != "" {
				if err := os.WriteFile(filepath.Join(dir, b.target), []byte(b.text), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			for _, tr := range transcripts(b) {
				if !runnable(dir, tr.args) {
					continue
				}
				got := runTranscript(t, bin, dir, tr)
				if !matchLines(tr.want, got) {
					t.Errorf("%s:%d: crawl %s printed:\n%s\nwant:\n%s", file, tr.line,
						strings.Join(tr.args, " "), strings.Join(got, "\n"), strings.Join(tr.want, "\n"))
				}
				ran++
			}
		}
	}
	if ran < 3 {
		t.Fatalf("only %d transcripts ran: is the test reading them?", ran)
	}
}

// scratch makes a working directory that sees examples/ and testdata/.
func scratch(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"examples", "testdata"} {
		abs, err := filepath.Abs(filepath.Join("..", d))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runTranscript(t *testing.T, bin, dir string, tr transcript) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard only
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, tr.args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if len(tr.input) > 0 {
		cmd.Stdin = strings.NewReader(strings.Join(tr.input, "\n") + "\n")
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // the exit status shows in what it printed
	return strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
}

// matchLines matches got against want, where "…" in a want line stands
// for any text and a want line of "…" alone for any number of lines.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0 || len(got) == 1 && got[0] == ""
	}
	if strings.TrimSpace(want[0]) == "…" {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	if len(got) == 0 || !matchLine(want[0], got[0]) {
		return false
	}
	return matchLines(want[1:], got[1:])
}

func matchLine(want, got string) bool {
	parts := strings.Split(want, "…")
	var re strings.Builder
	re.WriteString("^")
	for i, p := range parts {
		if i > 0 {
			re.WriteString(".*")
		}
		re.WriteString(regexp.QuoteMeta(p))
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(strings.TrimRight(got, " "))
}

// TestNamedTestsExist: every test the docs name as proof of a promise
// exists, so that a renamed or removed test cannot leave a promise
// pointing at nothing.
func TestNamedTestsExist(t *testing.T) {
	defined := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllSubmatch(src, -1) {
			defined[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, file := range docFiles(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range testName.FindAllSubmatch(src, -1) {
			named++
			if name := string(m[1]); !defined[name] {
				t.Errorf("%s names %s, which no _test.go file defines", file, name)
			}
		}
	}
	if named < 10 {
		t.Fatalf("only %d tests named in the docs: is the test reading them?", named)
	}
}

var (
	testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)\w+)\(`)
	testName = regexp.MustCompile("`((?:Test|Fuzz)[A-Z]\\w*)")
)
