package pipeline_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"crawl/item"
	"crawl/pipeline"
	"crawl/stats"
)

func ExampleNewJSONL() {
	j := pipeline.NewJSONL(os.Stdout)
	j.Write(&item.Item{Fields: []item.Field{
		{Name: "title", Value: "<b>Fish & Chips</b>"},
		{Name: "city", Value: "Zürich"},
		{Name: "tags", Value: []string{"food", "takeaway"}},
	}})
	j.Write(&item.Item{Fields: []item.Field{
		{Name: "title", Value: "Menu"},
		{Name: "dishes", Value: []*item.Item{
			{Fields: []item.Field{{Name: "name", Value: "soup"}, {Name: "price", Value: "4.50"}}},
		}},
	}})
	j.Flush() // nothing reaches os.Stdout before this
	// Output:
	// {"title":"<b>Fish & Chips</b>","city":"Zürich","tags":["food","takeaway"]}
	// {"title":"Menu","dishes":[{"name":"soup","price":"4.50"}]}
}

func ExampleWrite() {
	in := make(chan *item.Item, 2)
	in <- &item.Item{URL: "http://127.0.0.1/a", Fields: []item.Field{{Name: "title", Value: "A"}, {Name: "rank", Value: 1}}}
	in <- &item.Item{URL: "http://127.0.0.1/b", Fields: []item.Field{{Name: "title", Value: "B"}, {Name: "rank", Value: 2}}}
	close(in)

	var st stats.Stats
	if err := pipeline.Write(in, pipeline.NewJSONL(os.Stdout), &st); err != nil {
		fmt.Println("error:", err)
	}
	fmt.Println(stats.ItemsWritten, st.Get(stats.ItemsWritten))
	// Output:
	// {"title":"A","rank":1}
	// {"title":"B","rank":2}
	// items/written 2
}

func ExampleFilter() {
	in := make(chan *item.Item, 3)
	in <- &item.Item{URL: "http://127.0.0.1/1", Fields: []item.Field{{Name: "title", Value: "kept"}}}
	in <- &item.Item{URL: "http://127.0.0.1/2"}
	in <- &item.Item{URL: "http://127.0.0.1/3", Fields: []item.Field{{Name: "title", Value: "kept too"}}}
	close(in)

	requireTitle := func(it *item.Item) error {
		if _, ok := it.Get("title"); !ok {
			return &pipeline.Drop{Reason: "missing_required", Detail: it.URL + " has no title"}
		}
		return nil
	}
	var st stats.Stats
	log := slog.New(slog.DiscardHandler)
	for it := range pipeline.Filter(context.Background(), in, requireTitle, &st, log) {
		fmt.Println("kept", it.URL)
	}
	for _, c := range st.Group(stats.ItemsDropped) {
		fmt.Println("dropped", c.Key, c.N)
	}
	// Output:
	// kept http://127.0.0.1/1
	// kept http://127.0.0.1/3
	// dropped missing_required 1
}

func ExampleDrop() {
	err := error(&pipeline.Drop{Reason: "missing_required", Detail: "no price on http://127.0.0.1/p/7"})
	fmt.Println(err)
	// Output:
	// item dropped: missing_required: no price on http://127.0.0.1/p/7
}
