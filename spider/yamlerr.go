package spider

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var yamlErrorRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError turns an error of the YAML parser into a problem at the line
// and column where the file goes wrong, with a hint for the common causes.
//
// The parser names the line where the construct it was reading began (a
// mapping some lines up, counted from 0 for some errors) rather than the
// line it could not read, so the line is found again: it is the first line
// at which the file, cut after it, fails with the same message.
func yamlError(file string, data []byte, err error) *SpecError {
	e := &SpecError{File: file, Msg: "invalid YAML: " + err.Error()}
	m := yamlErrorRE.FindStringSubmatch(err.Error())
	if m == nil {
		return e
	}
	msg := m[2]
	e.Line, _ = strconv.Atoi(m[1])
	e.Msg = "invalid YAML: " + msg
	lines := bytes.SplitAfter(data, []byte("\n"))
	if n := firstFailing(lines, msg); n > 0 {
		e.Line = n
	}
	if e.Line < 1 || e.Line > len(lines) {
		return e
	}
	line := string(bytes.TrimRight(lines[e.Line-1], "\r\n"))
	col, hint := explainYAML(msg, line)
	if col > 0 {
		e.Col = col
	}
	if hint != "" {
		e.Msg += " (" + hint + ")"
	}
	return e
}

// firstFailing returns the 1-based number of the first line after which
// the file, cut there, fails to parse with msg; 0 when none does. It
// searches by halves, which is right as long as a cut before the faulty
// line parses, as it does for block mappings and lists.
func firstFailing(lines [][]byte, msg string) int {
	fails := func(k int) bool {
		var n yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
		if err == nil {
			return false
		}
		m := yamlErrorRE.FindStringSubmatch(err.Error())
		return m != nil && m[2] == msg
	}
	lo, hi := 0, len(lines) // lines[:lo] parses; lines[:hi] fails
	if !fails(hi) {
		return 0
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// explainYAML returns the column of the problem msg describes on line, and
// a hint for fixing it; 0 and "" when it has nothing to add.
func explainYAML(msg, line string) (col int, hint string) {
	indent := len(line) - len(strings.TrimLeft(line, " \t"))
	if i := strings.IndexByte(line[:indent], '\t'); i >= 0 {
		return i + 1, "a tab indents this line: YAML indents with spaces only"
	}
	switch {
	case strings.Contains(msg, "unknown escape character"):
		if i, quoted := badEscape(line); i >= 0 {
			return i + 1, "in double quotes a backslash starts an escape such as \\n; " +
				"write a regex in single quotes, " + singleQuoted(quoted) + ", or double the backslash"
		}
	case strings.Contains(msg, "tab"):
		if i := strings.IndexByte(line, '\t'); i >= 0 {
			return i + 1, "YAML does not allow a tab here: use spaces"
		}
	case msg == "did not find expected key":
		return indent + 1, "this line is indented differently from the keys of the mapping it is in: line it up with them"
	case msg == "did not find expected '-' indicator":
		return indent + 1, "this line is indented differently from the items of the list it is in: line it up with them"
	case msg == "mapping values are not allowed in this context":
		return indent + 1, "is this key indented deeper than the key above it? " +
			"The keys of one mapping line up, and a value that holds \": \" needs quotes"
	case msg == "did not find expected ',' or ']'" || msg == "did not find expected ',' or '}'":
		open := msg[len(msg)-2 : len(msg)-1]
		if i := strings.LastIndex(line, map[string]string{"]": "[", "}": "{"}[open]); i >= 0 {
			return i + 1, "a " + line[i:i+1] + " opened here is not closed with " + open
		}
	case indent < len(line):
		return indent + 1, ""
	}
	return 0, ""
}

// badEscape finds, in a line, a backslash in double quotes that does not
// start one of YAML's escapes. It returns the byte offset of the backslash
// and the double-quoted string holding it, or -1.
func badEscape(line string) (int, string) {
	const escapes = "0abt\tnvfre \"/\\N_LPxuU"
	in, start := false, 0
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '"':
			in, start = !in, i
		case c == '\\' && in:
			if i+1 < len(line) && !strings.ContainsRune(escapes, rune(line[i+1])) {
				end := strings.IndexByte(line[i:], '"')
				if end < 0 {
					end = len(line) - i - 1
				}
				return i, line[start+1 : i+end]
			}
			i++ // an escape: skip what it escapes
		case c == '\'' && !in:
			if j := strings.IndexByte(line[i+1:], '\''); j >= 0 {
				i += j + 1 // a single-quoted string
			}
		case c == '#' && !in && (i == 0 || line[i-1] == ' '):
			return -1, ""
		}
	}
	return -1, ""
}

// singleQuoted writes s as a YAML single-quoted scalar.
func singleQuoted(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
