package spider

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"crawl/item"
	"crawl/pipeline"
)

func TestUnique(t *testing.T) {
	s := parseSpec(t, `
start_urls: ["https://example.com/"]
items:
  - name: book
    fields: {isbn: .isbn, title: h1, tags: {css: li, all: true}}
    required: [title]
    unique: [isbn, tags]
  - name: other
    fields: {isbn: .isbn}
`)
	book := func(fields ...any) *item.Item {
		it := &item.Item{Rule: "book"}
		for i := 0; i+1 < len(fields); i += 2 {
			it.Set(fields[i].(string), fields[i+1])
		}
		return it
	}
	steps := []struct {
		item *item.Item
		drop string
	}{
		{book("isbn", "1", "title", "A", "tags", []string{"x"}), ""},
		{book("isbn", "1", "title", "B", "tags", []string{"x"}), "duplicate"},
		{book("isbn", "1", "title", "C", "tags", []string{"x", "y"}), ""},
		{book("isbn", "1", "tags", []string{"z"}), "missing_required"},
		{book("isbn", "1", "title", "D", "tags", []string{"z"}), ""}, // the dropped item did not claim the key
		{book("title", "E", "tags", []string{"x"}), ""},              // no isbn: not de-duplicated
		{book("title", "F", "tags", []string{"x"}), ""},
		{book("isbn", "1\x00", "title", "G", "tags", []string{"x"}), ""}, // values are length-prefixed: no collision
		{&item.Item{Rule: "other", Fields: []item.Field{{Name: "isbn", Value: "1"}}}, ""},
		{&item.Item{Rule: "other", Fields: []item.Field{{Name: "isbn", Value: "1"}}}, ""}, // other has no unique key
	}
	for i, st := range steps {
		err := s.Check(st.item)
		var d *pipeline.Drop
		switch {
		case st.drop == "" && err != nil:
			t.Errorf("step %d: Check = %v, want nil", i, err)
		case st.drop != "" && (!errors.As(err, &d) || d.Reason != st.drop):
			t.Errorf("step %d: Check = %v, want a %s drop", i, err, st.drop)
		}
	}
	d := &pipeline.Drop{}
	errors.As(s.Check(book("isbn", "1", "title", "A", "tags", []string{"x"})), &d)
	if want := `book: isbn="1", tags=["x"]`; d.Detail != want {
		t.Errorf("duplicate detail = %q, want %q", d.Detail, want)
	}
}

// TestUniqueConcurrent checks that of many goroutines checking items with
// the same keys at once, exactly one keeps each key (run with -race).
func TestUniqueConcurrent(t *testing.T) {
	s := parseSpec(t, `
start_urls: ["https://example.com/"]
items: [{name: p, fields: {id: .id}, unique: [id]}]
`)
	const keys, goroutines = 100, 8
	var kept atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for k := range keys {
				if s.Check(&item.Item{Rule: "p", Fields: []item.Field{{Name: "id", Value: fmt.Sprint(k)}}}) == nil {
					kept.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := kept.Load(); n != keys {
		t.Errorf("kept %d items, want %d", n, keys)
	}
}
