package spider

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// SpecError is one problem in a spider file. Line and Col are 1-based and
// zero when unknown; Field is the path of the offending value, such as
// "items[0].fields.rating.regex", and empty for the top level.
type SpecError struct {
	File  string
	Line  int
	Col   int
	Field string
	Msg   string
}

// Error formats the problem as one line, "file:line:col: field: msg",
// leaving out the parts that are zero or empty.
func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Col))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(oneLine(e.Field))
		b.WriteString(": ")
	}
	b.WriteString(oneLine(e.Msg))
	return b.String()
}

// oneLine escapes the line breaks and other control characters in s, which
// the messages of the YAML, CSS and XPath parsers may carry from the spider
// file, so that every problem stays on one line.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !isControl(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r) // '\n', '\x00'
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

// SpecErrors is every problem Load or Parse found in a spider file, sorted
// by line and column. It is never empty when returned as an error.
type SpecErrors []*SpecError

// Error returns one line per problem.
func (es SpecErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so that errors.As finds the first *SpecError.
func (es SpecErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

func (es SpecErrors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Col < es[j].Col
	})
}

// StartURLError is a line of start_urls_file that is not a usable start
// URL. StartRequests yields it and goes on with the next line. File is the
// URL file's path as resolved against the spider file ("stdin" for "-").
type StartURLError struct {
	File string
	Line int
	URL  string
	Err  error
}

func (e *StartURLError) Error() string {
	return e.File + ":" + strconv.Itoa(e.Line) + ": invalid start URL " + quote(e.URL) + ": " + e.Err.Error()
}

// Unwrap returns the reason the URL cannot be used.
func (e *StartURLError) Unwrap() error { return e.Err }

// Reasons a start URL is rejected, for errors.Is.
var (
	ErrNotAbsolute = errors.New("not an absolute URL")
	ErrScheme      = errors.New("unsupported scheme")
	ErrNoHost      = errors.New("missing host")
)

// quote double-quotes s for a message. Unlike strconv.Quote it leaves
// backslashes alone, so that regexes read the way they were written; it
// falls back to strconv.Quote for control characters and double quotes.
func quote(s string) string {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == '"' {
			return strconv.Quote(s)
		}
	}
	return `"` + s + `"`
}
