package item_test

import (
	"encoding/json"
	"fmt"
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
