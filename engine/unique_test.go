package engine_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"testing"

	"crawl/engine"
	"crawl/engine/state"
	"crawl/stats"
)

// TestUniqueClaimedFromFrontier crawls, with a frontier that keeps the
// unique keys, three pages whose items share one key: the first item
// lacks a required field, so only the second keeps the key, and the third
// is dropped as a duplicate by the engine.
func TestUniqueClaimedFromFrontier(t *testing.T) {
	checkLeaks(t)
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		title := r.URL.Path[1:]
		if title == "a" {
			title = ""
		}
		fmt.Fprintf(w, `<html><body><h1>%s</h1><p>sku-1</p></body></html>`, title)
	}))
	sp := loadSpider(t, `start_urls: ["{{URL}}/a", "{{URL}}/b", "{{URL}}/c"]
items: [{fields: {title: "h1::text", sku: "p::text"}, required: [title], unique: [sku]}]
`, srv.URL)
	st := new(stats.Stats)
	fr, err := state.Open(t.TempDir(), state.Options{Spider: "s", Output: "/out.jsonl", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	// One worker: the pages are parsed, and claim, in order.
	items, _, reason := crawl(t, engine.Config{Workers: 1, Frontier: fr, Stats: st}, sp)
	if reason != engine.Finished {
		t.Errorf("reason %s", reason)
	}
	var kept []string
	for _, it := range items {
		if it.IsMark() {
			it.Reached()
			continue
		}
		if sp.Validate(it) == nil {
			kept = append(kept, field(it, "title"))
		}
	}
	if !slices.Equal(kept, []string{"b"}) {
		t.Errorf("items kept: %q, want [b]", kept)
	}
	if n := st.Get(stats.ItemsDropped + "duplicate"); n != 1 {
		t.Errorf("%d duplicates counted, want 1", n)
	}
}
