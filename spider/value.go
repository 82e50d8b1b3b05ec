package spider

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"crawl/item"
)

// value is one candidate value of a field: text, or a JSON value that is
// not a string (a json.Number, a bool, an object or an array), kept as it is
// until a processor needs its text.
type value struct {
	s   string
	raw any // nil for text
}

// text returns the value as text, converting a JSON value.
func (v value) text() string {
	if v.raw != nil {
		return jsonText(v.raw)
	}
	return v.s
}

// out returns the value as it goes into an item.
func (v value) out() any {
	if v.raw != nil {
		return v.raw
	}
	return v.s
}

// A source produces the candidate values of a field in document order,
// calling yield for each until it returns false: the text or attribute of
// each element a CSS selector or XPath expression selects, the values a
// JSON path selects, or the page URL.
type source interface {
	values(pg *page, sc scope, yield func(value) bool)
}

// A processor turns one text value into another, or drops it (ok false).
type processor interface {
	process(v string) (string, bool)
}

// regexProcessor keeps the first capture group of the first match, or the
// whole match when the regex has no group, and drops values it does not
// match.
type regexProcessor struct {
	re *regexp.Regexp
}

func (p regexProcessor) process(v string) (string, bool) {
	var loc []int
	if p.re.NumSubexp() == 0 {
		loc = p.re.FindStringIndex(v)
	} else if m := p.re.FindStringSubmatchIndex(v); m != nil {
		loc = m[2:4]
	}
	if loc == nil || loc[0] < 0 {
		return "", false
	}
	// Clone so that a short match does not keep a long value (::html) alive.
	return strings.Clone(v[loc[0]:loc[1]]), true
}

// replaceProcessor replaces every match of a regex, with $1 or ${name}
// standing for groups in the replacement.
type replaceProcessor struct {
	re   *regexp.Regexp
	with string
}

func (p replaceProcessor) process(v string) (string, bool) {
	return p.re.ReplaceAllString(v, p.with), true
}

// normalizeProcessor collapses runs of whitespace to one space and trims.
type normalizeProcessor struct{}

func (normalizeProcessor) process(v string) (string, bool) {
	return normalizeSpace(v), true
}

// normalizeSpace collapses runs of Unicode whitespace to single spaces and
// trims the ends, returning s itself when it is already normal.
func normalizeSpace(s string) string {
	normal := true
	prevSpace := true // a leading space is not normal
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (prevSpace || r != ' ') {
			normal = false
			break
		}
		prevSpace = sp
	}
	if normal && !prevSpace || s == "" {
		return s
	}
	var w textWriter
	w.write(s)
	return string(w.b)
}

// collectMode is how a field gathers the values that survive its processors.
type collectMode uint8

const (
	modeFirst collectMode = iota // the first value
	modeAll                      // a list of every value
	modeJoin                     // every value joined into one text
)

// valueExtractor computes one field of an item: values from its sources,
// tried in order until one yields a value that survives the processors,
// then collected (first, all or joined), then the default when nothing
// survived, then converted to a type or resolved to an absolute URL.
type valueExtractor struct {
	name     string
	srcs     []source
	procs    []processor
	mode     collectMode
	sep      string    // for modeJoin
	def      *value    // the default of a single value; nil: none
	defList  []string  // the default of a list field, when hasDef
	hasDef   bool      // the field has a default
	conv     converter // nil: no conversion
	absolute bool

	// With a regex of named groups, the field fills one item field per
	// group: pre run before the regex, procs after it on each group.
	groups  []string
	groupRE *regexp.Regexp
	pre     []processor
}

func (e *valueExtractor) fill(pg *page, sc scope, it *item.Item) {
	if e.groups != nil {
		e.fillGroups(pg, sc, it)
		return
	}
	if v, ok := e.extract(pg, sc); ok {
		it.Fields = append(it.Fields, item.Field{Name: e.name, Value: v})
	} else if e.mode == modeAll {
		it.Fields = append(it.Fields, item.Field{Name: e.name, Value: []string{}})
	}
}

// extract returns the field's value; ok is false when nothing matched and
// there is no default (for a list field: when the list is empty).
func (e *valueExtractor) extract(pg *page, sc scope) (any, bool) {
	if e.mode == modeFirst {
		var (
			out   value
			found bool
		)
		for _, src := range e.srcs {
			if out, found = e.first(pg, sc, src); found {
				break
			}
		}
		if !found {
			if e.def == nil {
				return nil, false
			}
			out = *e.def
		}
		return e.finish(pg, out), true
	}

	var acc listValue
	for _, src := range e.srcs {
		src.values(pg, sc, func(v value) bool { acc.add(e, v); return true })
		if len(acc.strs) > 0 || len(acc.anys) > 0 {
			break
		}
	}
	strs, anys := acc.strs, acc.anys
	if e.mode == modeJoin {
		if len(strs) == 0 {
			if e.def == nil {
				return nil, false
			}
			return e.finish(pg, *e.def), true
		}
		return e.finish(pg, value{s: strings.Join(strs, e.sep)}), true
	}
	if len(strs) == 0 && len(anys) == 0 {
		if !e.hasDef {
			return nil, false
		}
		strs = slices.Clone(e.defList) // each item owns its list
	}
	if e.conv == nil && !e.absolute {
		if anys != nil {
			return anys, true
		}
		return strs, true
	}
	vals := make([]value, 0, len(strs)+len(anys))
	for _, s := range strs {
		vals = append(vals, value{s: s})
	}
	for _, v := range anys {
		if s, ok := v.(string); ok {
			vals = append(vals, value{s: s})
		} else {
			vals = append(vals, value{raw: v})
		}
	}
	if e.conv == nil {
		// Resolved URLs stay a list of strings.
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = e.finish(pg, v).(string)
		}
		return out, true
	}
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = e.finish(pg, v)
		if bad, ok := out[i].(*badValue); ok {
			return bad, true // one bad element spoils the list
		}
	}
	return out, true
}

// first returns the first value of src that survives the processors.
func (e *valueExtractor) first(pg *page, sc scope, src source) (value, bool) {
	if cs, ok := src.(*cssSource); ok {
		// The common case, walked here without a closure to allocate.
		if cs.sel == nil {
			if v, ok := cs.value(pg, sc.n); ok {
				return e.apply(value{s: v})
			}
			return value{}, false
		}
		for n := pg.nextMatch(sc.n, nil, cs.sel); n != nil; n = pg.nextMatch(sc.n, n, cs.sel) {
			if v, ok := cs.value(pg, n); ok {
				if out, ok := e.apply(value{s: v}); ok {
					return out, true
				}
			}
		}
		return value{}, false
	}
	var st firstValue
	src.values(pg, sc, func(v value) bool {
		st.out, st.found = e.apply(v)
		return !st.found
	})
	return st.out, st.found
}

// firstValue is the state of looking for the first value of a field.
type firstValue struct {
	out   value
	found bool
}

// listValue collects the values of a list or joined field: text, until a
// JSON value that is not a string turns up.
type listValue struct {
	strs []string
	anys []any
}

func (acc *listValue) add(e *valueExtractor, v value) {
	v, ok := e.apply(v)
	switch {
	case !ok:
	case acc.anys != nil:
		acc.anys = append(acc.anys, v.out())
	case v.raw != nil && e.mode == modeAll:
		acc.anys = make([]any, len(acc.strs), len(acc.strs)+4)
		for i, s := range acc.strs {
			acc.anys[i] = s
		}
		acc.anys = append(acc.anys, v.raw)
	default:
		acc.strs = append(acc.strs, v.text())
	}
}

// apply runs the processors on one value. Processors work on text, so a
// JSON value that is not a string becomes its text when there are any.
func (e *valueExtractor) apply(v value) (value, bool) {
	if len(e.procs) == 0 {
		return v, true
	}
	s := v.text()
	for _, p := range e.procs {
		var ok bool
		if s, ok = p.process(s); !ok {
			return value{}, false
		}
	}
	return value{s: s}, true
}

// finish converts the collected value to the field's type, or resolves it
// against the page when the field is absolute.
func (e *valueExtractor) finish(pg *page, v value) any {
	switch {
	case e.conv != nil:
		out, err := e.conv.convert(v)
		if err != nil {
			return &badValue{text: v.text(), err: err}
		}
		return out
	case e.absolute:
		s := v.text()
		if b := pg.linkBase(); b != nil {
			if abs, err := b.Resolve(s); err == nil {
				return abs
			}
		}
		return s
	}
	return v.out()
}

// fillGroups fills one field per named group of the first value the regex
// matches. A group that took no part in the match is absent, or its
// default.
func (e *valueExtractor) fillGroups(pg *page, sc scope, it *item.Item) {
	var (
		text string
		loc  []int
	)
	for _, src := range e.srcs {
		src.values(pg, sc, func(v value) bool {
			s := v.text()
			for _, p := range e.pre {
				var ok bool
				if s, ok = p.process(s); !ok {
					return true
				}
			}
			if loc = e.groupRE.FindStringSubmatchIndex(s); loc != nil {
				text = s
				return false
			}
			return true
		})
		if loc != nil {
			break
		}
	}
	for _, g := range e.groups {
		var (
			v  value
			ok bool
		)
		if i := e.groupRE.SubexpIndex(g); loc != nil && loc[2*i] >= 0 {
			v, ok = e.apply(value{s: strings.Clone(text[loc[2*i]:loc[2*i+1]])})
		}
		if !ok {
			if e.def == nil {
				continue
			}
			v = *e.def
		}
		it.Fields = append(it.Fields, item.Field{Name: g, Value: e.finish(pg, v)})
	}
}

// fallbackExtractor computes a field as the first of its alternatives
// that has a value.
type fallbackExtractor struct {
	name string
	alts []*valueExtractor
}

func (f *fallbackExtractor) fill(pg *page, sc scope, it *item.Item) {
	for _, a := range f.alts {
		if v, ok := a.extract(pg, sc); ok {
			it.Fields = append(it.Fields, item.Field{Name: f.name, Value: v})
			return
		}
	}
	if f.alts[len(f.alts)-1].mode == modeAll {
		it.Fields = append(it.Fields, item.Field{Name: f.name, Value: []string{}})
	}
}

// nestedExtractor computes a field whose value is a list of sub-items, one
// per element (or JSON value) its each selects, each with its own fields.
type nestedExtractor struct {
	name   string
	rule   string // the Rule of the sub-items: "rule.field"
	each   scoper
	fields []fieldExtractor
}

func (n *nestedExtractor) fill(pg *page, sc scope, it *item.Item) {
	subs := []*item.Item{}
	n.each.scopes(pg, sc, func(sub scope) bool {
		si := &item.Item{Rule: n.rule, URL: pg.url, Fields: make([]item.Field, 0, len(n.fields))}
		for _, f := range n.fields {
			f.fill(pg, sub, si)
		}
		subs = append(subs, si)
		return true
	})
	it.Fields = append(it.Fields, item.Field{Name: n.name, Value: subs})
}

// badValue stands in an item for a field whose text could not be converted
// to its type. Check removes the field, or drops the item when the field is
// required; it encodes as null should an item holding one be written.
type badValue struct {
	text string
	err  error
}

func (b *badValue) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

func (b *badValue) String() string { return fmt.Sprintf("%s: %v", quote(b.text), b.err) }

// converter turns the text of a field into a typed value.
type converter interface {
	convert(v value) (any, error)
}

// convInt parses an integer: optional sign and digits, surrounding spaces
// ignored. A JSON number must be integral.
type convInt struct{}

func (convInt) convert(v value) (any, error) {
	s := strings.TrimSpace(v.text())
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(s, 64); v.raw != nil && ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), nil // a JSON number written 3.0 or 3e2
		}
		return nil, fmt.Errorf("not an int")
	}
	return n, nil
}

// convFloat parses a decimal or scientific number.
type convFloat struct{}

func (convFloat) convert(v value) (any, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v.text()), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("not a float")
	}
	return f, nil
}

// convBool accepts true/false, yes/no, on/off and 1/0, in any case.
type convBool struct{}

func (convBool) convert(v value) (any, error) {
	switch strings.ToLower(strings.TrimSpace(v.text())) {
	case "true", "yes", "on", "1", "y", "t":
		return true, nil
	case "false", "no", "off", "0", "n", "f":
		return false, nil
	}
	return nil, fmt.Errorf("not a bool")
}

// convDate parses a date or date and time and writes it in ISO 8601:
// 2006-01-02 for a date, RFC 3339 for a time.
type convDate struct {
	layouts []string // Go layouts to try in order
}

// dateLayouts are the formats type: date reads without a date_format.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006-01",
	"2006",
	time.RFC1123Z,
	time.RFC1123,
	time.RFC850,
	time.ANSIC,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"January 2, 2006",
	"January 2 2006",
	"Jan 2, 2006",
	"Jan 2 2006",
	"2 January 2006",
	"2 Jan 2006",
	"Monday, January 2, 2006",
	"Mon, Jan 2, 2006",
	"02 Jan 2006",
	"2006/01/02",
}

func (c convDate) convert(v value) (any, error) {
	s := strings.TrimSpace(v.text())
	for _, layout := range c.layouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		if !hasClock(layout) {
			return t.Format("2006-01-02"), nil
		}
		return t.Format(time.RFC3339), nil
	}
	return nil, fmt.Errorf("not a date")
}

// hasClock reports whether a layout reads a time of day.
func hasClock(layout string) bool {
	return strings.Contains(layout, "15") || strings.Contains(layout, "03") || strings.Contains(layout, ":04")
}

// strftime converts a strftime format such as "%d/%m/%Y %H:%M" to a Go
// layout. It supports %Y %y %m %d %e %H %I %M %S %p %b %B %a %A %z %Z %f %j
// and %%; literal text must not be mistaken for a layout element.
func strftime(f string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			// Letters and digits mean something in a Go layout: only
			// punctuation, spaces and the T of ISO 8601 are taken as they are.
			if r, _ := utf8.DecodeRuneInString(f[i:]); r != 'T' && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return "", fmt.Errorf("literal %q is not supported (only punctuation, spaces and T)", string(r))
			}
			b.WriteByte(c)
			continue
		}
		if i+1 == len(f) {
			return "", fmt.Errorf("ends in %%")
		}
		i++
		switch f[i] {
		case 'Y':
			b.WriteString("2006")
		case 'y':
			b.WriteString("06")
		case 'm':
			b.WriteString("01")
		case 'd':
			b.WriteString("02")
		case 'e':
			b.WriteString("_2")
		case 'H':
			b.WriteString("15")
		case 'I':
			b.WriteString("03")
		case 'M':
			b.WriteString("04")
		case 'S':
			b.WriteString("05")
		case 'f':
			b.WriteString("000000")
		case 'p':
			b.WriteString("PM")
		case 'b', 'h':
			b.WriteString("Jan")
		case 'B':
			b.WriteString("January")
		case 'a':
			b.WriteString("Mon")
		case 'A':
			b.WriteString("Monday")
		case 'z':
			b.WriteString("-0700")
		case 'Z':
			b.WriteString("MST")
		case 'j':
			b.WriteString("002")
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("unknown directive %%%c", f[i])
		}
	}
	return b.String(), nil
}
