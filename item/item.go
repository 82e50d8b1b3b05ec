// Package item defines Item, the record a spider scrapes from a page, and its
// JSON encoding.
package item

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// Item is one scraped record: named fields in the order the spider declares
// them. Rule and URL describe where the item came from; they are not part of
// its JSON form unless the spider copies them into a field.
//
// An Item is owned by one goroutine at a time: the worker that extracts it,
// then each pipeline stage in turn. It is not safe for concurrent use.
type Item struct {
	Rule   string  // name of the item rule that produced the item
	URL    string  // URL of the page the item was extracted from
	Fields []Field // in declaration order

	mark func() // set on a mark only; see NewMark
}

// Field is one named value of an Item. Value is anything encoding/json can
// encode; spiders produce string, []string and nested []*Item values.
type Field struct {
	Name  string
	Value any
}

// Get returns the value of the named field and whether it is present.
func (it *Item) Get(name string) (any, bool) {
	for _, f := range it.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return nil, false
}

// Set sets the named field, replacing its value in place or appending it.
func (it *Item) Set(name string, value any) {
	for i := range it.Fields {
		if it.Fields[i].Name == name {
			it.Fields[i].Value = value
			return
		}
	}
	it.Fields = append(it.Fields, Field{Name: name, Value: value})
}

// Delete removes the named field if it is present.
func (it *Item) Delete(name string) {
	for i := range it.Fields {
		if it.Fields[i].Name == name {
			it.Fields = append(it.Fields[:i], it.Fields[i+1:]...)
			return
		}
	}
}

// Names returns the field names in order.
func (it *Item) Names() []string {
	names := make([]string, len(it.Fields))
	for i, f := range it.Fields {
		names[i] = f.Name
	}
	return names
}

// MarshalJSON encodes the item as a JSON object whose keys keep the field
// order, so that output lines read the way the spider declares them.
func (it *Item) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := it.AppendJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// AppendJSON writes the item's JSON object to buf without a trailing newline.
// HTML-significant characters are not escaped: the output is data, not markup.
//
// The values spiders produce most (strings, lists of strings, numbers,
// booleans, sub-items) are written directly, byte for byte as
// encoding/json writes them; any other value goes through encoding/json.
func (it *Item) AppendJSON(buf *bytes.Buffer) error {
	var enc *json.Encoder // made for the first value only encoding/json knows
	return it.appendJSON(buf, &enc)
}

func (it *Item) appendJSON(buf *bytes.Buffer, enc **json.Encoder) error {
	buf.WriteByte('{')
	for i, f := range it.Fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(appendString(buf.AvailableBuffer(), f.Name))
		buf.WriteByte(':')
		if err := appendValue(buf, f.Value, enc); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// appendValue writes v as encoding/json would, with HTML escaping off.
func appendValue(buf *bytes.Buffer, v any, enc **json.Encoder) error {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case string:
		buf.Write(appendString(buf.AvailableBuffer(), v))
	case bool:
		buf.Write(strconv.AppendBool(buf.AvailableBuffer(), v))
	case int64:
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), v, 10))
	case int:
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(v), 10))
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return encode(buf, v, enc) // for encoding/json's error
		}
		buf.Write(appendFloat(buf.AvailableBuffer(), v))
	case []string:
		if v == nil {
			buf.WriteString("null")
			return nil
		}
		buf.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(appendString(buf.AvailableBuffer(), s))
		}
		buf.WriteByte(']')
	case []any:
		if v == nil {
			buf.WriteString("null")
			return nil
		}
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := appendValue(buf, e, enc); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case []*Item:
		if v == nil {
			buf.WriteString("null")
			return nil
		}
		buf.WriteByte('[')
		for i, sub := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if sub == nil {
				buf.WriteString("null")
			} else if err := sub.appendJSON(buf, enc); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		return encode(buf, v, enc)
	}
	return nil
}

// encode writes v with encoding/json.
func encode(buf *bytes.Buffer, v any, enc **json.Encoder) error {
	if *enc == nil {
		*enc = json.NewEncoder(buf)
		(*enc).SetEscapeHTML(false)
	}
	if err := (*enc).Encode(v); err != nil {
		return err
	}
	trimNewline(buf)
	return nil
}

// trimNewline drops the newline json.Encoder.Encode appends after each value.
func trimNewline(buf *bytes.Buffer) {
	if n := buf.Len(); n > 0 && buf.Bytes()[n-1] == '\n' {
		buf.Truncate(n - 1)
	}
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string, as encoding/json writes it with
// HTML escaping off: quotes, backslashes and control characters escaped,
// U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendFloat appends a finite f as encoding/json writes a float64: like
// JavaScript, in exponent form only below 1e-6 and from 1e21.
func appendFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
