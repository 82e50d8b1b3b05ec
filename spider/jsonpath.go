package spider

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// jsonPath is a compiled JSON path: a subset of JSONPath with dotted keys,
// array indexes and wildcards, such as "data.items[*].name", "$.results[0]"
// or `meta["next page"]`. The empty path, or "$", is the value itself.
//
// A jsonPath is immutable and safe for concurrent use.
type jsonPath struct {
	src   string
	steps []jsonStep
}

// jsonStep is one step of a path: a key of an object, an index of an array
// (negative counts from the end), or every element of an array or every
// value of an object.
type jsonStep struct {
	key   string
	index int
	kind  stepKind
}

type stepKind uint8

const (
	stepKey stepKind = iota
	stepIndex
	stepAll
)

// parseJSONPath compiles a path. Keys are written bare (letters, digits and
// anything but ".[]" and spaces) or quoted in brackets: ["a.b"] or ['a b'].
func parseJSONPath(src string) (*jsonPath, error) {
	p := &jsonPath{src: src}
	s := strings.TrimSpace(src)
	s = strings.TrimPrefix(s, "$")
	first := true
	for s != "" {
		switch {
		case s[0] == '.':
			s = s[1:]
			if s == "" || s[0] == '.' || s[0] == '[' {
				return nil, errors.New("a key must follow '.'")
			}
			fallthrough
		case first && s[0] != '[':
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			key := s[:end]
			if strings.ContainsAny(key, "] \t\n\"'") {
				return nil, fmt.Errorf("key %s: quote keys with spaces or brackets, as in [\"a key\"]", quote(key))
			}
			if key == "*" {
				p.steps = append(p.steps, jsonStep{kind: stepAll})
			} else {
				p.steps = append(p.steps, jsonStep{key: key, kind: stepKey})
			}
			s = s[end:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if q := s[1:min(2, len(s))]; q == `"` || q == "'" {
				// A quoted key may hold ']': find the closing quote first.
				close := strings.IndexByte(s[2:], q[0])
				if close < 0 || len(s) < close+4 || s[close+3] != ']' {
					return nil, fmt.Errorf("unterminated quoted key in %s", quote(s))
				}
				p.steps = append(p.steps, jsonStep{key: s[2 : close+2], kind: stepKey})
				s = s[close+4:]
				break
			}
			if end < 0 {
				return nil, fmt.Errorf("missing ']' in %s", quote(s))
			}
			inner := strings.TrimSpace(s[1:end])
			if inner == "*" {
				p.steps = append(p.steps, jsonStep{kind: stepAll})
			} else if n, err := strconv.Atoi(inner); err == nil {
				p.steps = append(p.steps, jsonStep{index: n, kind: stepIndex})
			} else {
				return nil, fmt.Errorf("want [n], [*] or [\"key\"], not %s", quote(s[:end+1]))
			}
			s = s[end+1:]
		default:
			return nil, fmt.Errorf("unexpected %s (want .key, [n] or [*])", quote(s))
		}
		first = false
	}
	return p, nil
}

// each calls yield with every value the path selects in v, in document
// order (the values of an object by "*" in key order), until yield returns
// false. Null values and missing keys select nothing. It reports whether
// yield always returned true.
func (p *jsonPath) each(v any, yield func(any) bool) bool {
	return walkJSON(v, p.steps, yield)
}

func walkJSON(v any, steps []jsonStep, yield func(any) bool) bool {
	if v == nil {
		return true
	}
	if len(steps) == 0 {
		return yield(v)
	}
	st, rest := steps[0], steps[1:]
	switch st.kind {
	case stepKey:
		if m, ok := v.(map[string]any); ok {
			if e, ok := m[st.key]; ok {
				return walkJSON(e, rest, yield)
			}
		}
	case stepIndex:
		if a, ok := v.([]any); ok {
			i := st.index
			if i < 0 {
				i += len(a)
			}
			if i >= 0 && i < len(a) {
				return walkJSON(a[i], rest, yield)
			}
		}
	case stepAll:
		switch c := v.(type) {
		case []any:
			for _, e := range c {
				if !walkJSON(e, rest, yield) {
					return false
				}
			}
		case map[string]any:
			keys := make([]string, 0, len(c))
			for k := range c {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if !walkJSON(c[k], rest, yield) {
					return false
				}
			}
		}
	}
	return true
}

// jsonText is the text of a JSON value for processors that work on text:
// a string as it is, a number as written, true or false, and an object or
// array as compact JSON.
func jsonText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
