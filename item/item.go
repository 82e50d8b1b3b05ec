// Package item defines Item, the record a spider scrapes from a page, and its
// JSON encoding.
package item

import (
	"bytes"
	"encoding/json"
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
func (it *Item) AppendJSON(buf *bytes.Buffer) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, f := range it.Fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(f.Name); err != nil {
			return err
		}
		trimNewline(buf)
		buf.WriteByte(':')
		if err := enc.Encode(f.Value); err != nil {
			return err
		}
		trimNewline(buf)
	}
	buf.WriteByte('}')
	return nil
}

// trimNewline drops the newline json.Encoder.Encode appends after each value.
func trimNewline(buf *bytes.Buffer) {
	if n := buf.Len(); n > 0 && buf.Bytes()[n-1] == '\n' {
		buf.Truncate(n - 1)
	}
}
