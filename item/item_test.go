package item_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"crawl/item"
)

func TestMarshalKeepsFieldOrder(t *testing.T) {
	tests := []struct {
		name string
		it   *item.Item
		want string
	}{
		{"empty", &item.Item{}, `{}`},
		{"order", &item.Item{Fields: []item.Field{{Name: "z", Value: "1"}, {Name: "a", Value: "2"}}}, `{"z":"1","a":"2"}`},
		{"no html escaping", &item.Item{Fields: []item.Field{{Name: "h", Value: "<b>&</b>"}}}, `{"h":"<b>&</b>"}`},
		{"list and nil", &item.Item{Fields: []item.Field{{Name: "l", Value: []string{}}, {Name: "n", Value: nil}}}, `{"l":[],"n":null}`},
		{"nested", &item.Item{Fields: []item.Field{{Name: "sub", Value: []*item.Item{{Fields: []item.Field{{Name: "b", Value: "1"}, {Name: "a", Value: "2"}}}}}}}, `{"sub":[{"b":"1","a":"2"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.it.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestSetGetDelete(t *testing.T) {
	it := &item.Item{}
	it.Set("a", "1")
	it.Set("b", "2")
	it.Set("a", "3")
	if v, ok := it.Get("a"); !ok || v != "3" {
		t.Errorf("Get(a) = %v, %v; want 3, true", v, ok)
	}
	it.Delete("a")
	if _, ok := it.Get("a"); ok {
		t.Error("a still present after Delete")
	}
	if got := fmt.Sprint(it.Names()); got != "[b]" {
		t.Errorf("Names = %s, want [b]", got)
	}
}

func ExampleItem_MarshalJSON() {
	it := &item.Item{Fields: []item.Field{
		{Name: "title", Value: "Sapiens"},
		{Name: "tags", Value: []string{"history", "science"}},
	}}
	b, _ := json.Marshal(it)
	fmt.Println(string(b))
	// Output: {"title":"Sapiens","tags":["history","science"]}
}

// encodingJSON writes an item as AppendJSON did before it wrote values
// itself: every key and value through a json.Encoder without HTML escaping.
func encodingJSON(t *testing.T, it *item.Item) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, f := range it.Fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		for j, v := range []any{f.Name, f.Value} {
			if j == 1 {
				buf.WriteByte(':')
			}
			if err := enc.Encode(v); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			buf.Truncate(buf.Len() - 1) // the newline
		}
	}
	buf.WriteByte('}')
	return buf.String()
}

// FuzzAppendJSON checks that AppendJSON writes items byte for byte as
// encoding/json does, whatever the text and numbers in them.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{"", "a", "<b>&amp;</b>", "quote \" back \\ slash", "\x00\x01\b\f\n\r\t\x1f\x7f", "é€😀",
		"\u2028\u2029", "\xff\xfe", "a\xe2\x80", "\xed\xa0\x80", "</script>"} {
		f.Add(s, 0.0, int64(0), true)
	}
	for _, x := range []float64{1, -1.5, 1e-6, 9.99e-7, 1e21, 1e20, 123456789.123, 5e-324, 1.7976931348623157e308, -0.0, 0.1} {
		f.Add("x", x, int64(-1<<63), false)
	}
	f.Fuzz(func(t *testing.T, s string, x float64, n int64, b bool) {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			x = 0
		}
		sub := &item.Item{Fields: []item.Field{{Name: s, Value: []string{s, s + "x"}}}}
		it := &item.Item{Fields: []item.Field{
			{Name: s, Value: s},
			{Name: "f", Value: x},
			{Name: "n", Value: n},
			{Name: "i", Value: int(n)},
			{Name: "b", Value: b},
			{Name: "l", Value: []string{s, "", s}},
			{Name: "nil list", Value: []string(nil)},
			{Name: "any", Value: []any{s, x, n, b, nil, json.Number("1.5"), map[string]any{s: s}}},
			{Name: "subs", Value: []*item.Item{sub, nil, {}}},
			{Name: "nil subs", Value: []*item.Item(nil)},
			{Name: "null", Value: nil},
			{Name: "other", Value: map[string]any{"k": []int{1, 2}, s: x}},
		}}
		got, err := it.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if want := encodingJSON(t, it); string(got) != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
}

func TestAppendJSONErrors(t *testing.T) {
	for _, v := range []any{math.NaN(), math.Inf(1), []any{math.Inf(-1)}, make(chan int)} {
		it := &item.Item{Fields: []item.Field{{Name: "v", Value: v}}}
		if b, err := it.MarshalJSON(); err == nil {
			t.Errorf("%v: got %s, want an error", v, b)
		}
	}
}
