package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"crawl/item"
	"crawl/pipeline"
	"crawl/stats"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		arg, format string
		want        pipeline.Output
		err         bool
	}{
		{"-", "", pipeline.Output{Path: "-", Format: pipeline.JSONLines}, false},
		{"items.jsonl", "", pipeline.Output{Path: "items.jsonl", Format: pipeline.JSONLines}, false},
		{"items.jl", "", pipeline.Output{Path: "items.jl", Format: pipeline.JSONLines}, false},
		{"items.NDJSON", "", pipeline.Output{Path: "items.NDJSON", Format: pipeline.JSONLines}, false},
		{"items", "", pipeline.Output{Path: "items", Format: pipeline.JSONLines}, false},
		{"/dev/stdout", "", pipeline.Output{Path: "/dev/stdout", Format: pipeline.JSONLines}, false},
		{"items.JSON", "", pipeline.Output{Path: "items.JSON", Format: pipeline.JSONArray}, false},
		{"items.csv", "", pipeline.Output{Path: "items.csv", Format: pipeline.CSV}, false},
		{"items.txt", "csv", pipeline.Output{Path: "items.txt", Format: pipeline.CSV}, false},
		{"items.json:jsonlines", "", pipeline.Output{Path: "items.json", Format: pipeline.JSONLines}, false},
		{"items.out:CSV", "", pipeline.Output{Path: "items.out", Format: pipeline.CSV}, false},
		{"-:csv", "json", pipeline.Output{Path: "-", Format: pipeline.CSV}, false},
		{"dir:with:colons.json", "", pipeline.Output{Path: "dir:with:colons.json", Format: pipeline.JSONArray}, false},
		{"./a:b.jsonl", "", pipeline.Output{Path: "./a:b.jsonl", Format: pipeline.JSONLines}, false},
		{"data:v2/items.csv", "", pipeline.Output{Path: "data:v2/items.csv", Format: pipeline.CSV}, false},
		{"a:b:jsonl", "", pipeline.Output{Path: "a:b", Format: pipeline.JSONLines}, false},
		{"a:b.txt:jsonl", "", pipeline.Output{Path: "a:b.txt", Format: pipeline.JSONLines}, false},
		// Refused: a name that promises a format crawl does not write, an
		// empty or unknown format after the colon.
		{"items", "xml", pipeline.Output{}, true},
		{"out.xml", "", pipeline.Output{}, true},
		{"items.txt", "", pipeline.Output{}, true},
		{"out.csv:", "", pipeline.Output{}, true},
		{"x.jsonl:yaml", "", pipeline.Output{}, true},
		{"a:b", "jsonl", pipeline.Output{}, true},
		{":csv", "", pipeline.Output{}, true},
		{"", "", pipeline.Output{}, true},
	}
	for _, tt := range tests {
		got, err := pipeline.ParseOutput(tt.arg, false, tt.format)
		if (err != nil) != tt.err || (!tt.err && got != tt.want) {
			t.Errorf("ParseOutput(%q, %q) = %+v, %v; want %+v, error %v", tt.arg, tt.format, got, err, tt.want, tt.err)
		}
	}
}

func items(n int) []*item.Item {
	var its []*item.Item
	for i := range n {
		its = append(its, &item.Item{Fields: []item.Field{{Name: "n", Value: string(rune('a' + i))}}})
	}
	return its
}

func TestJSONArrayWriter(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		var buf bytes.Buffer
		w := pipeline.NewJSONArray(&buf, false)
		for _, it := range items(n) {
			if err := w.Write(it); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var got []map[string]string
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil || len(got) != n {
			t.Errorf("%d items: %q parses as %v, %v", n, buf.String(), got, err)
		}
	}
}

// TestOpenAppendsToJSONArray appends twice to a file through Output.Open.
func TestOpenAppendsToJSONArray(t *testing.T) {
	path := filepath.Join(t.TempDir(), "items.json")
	out := pipeline.Output{Path: path, Format: pipeline.JSONArray}
	for range 2 {
		p, err := out.Open(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		w, err := p.Start()
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items(2) {
			w.Write(it)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		p.Close()
	}
	b, _ := os.ReadFile(path)
	var got []map[string]string
	if err := json.Unmarshal(b, &got); err != nil || len(got) != 4 {
		t.Errorf("after two appends: %q parses as %d items, %v", b, len(got), err)
	}
}

func TestCSVWriterCells(t *testing.T) {
	var buf bytes.Buffer
	w := pipeline.NewCSV(&buf, []string{"a", "list", "nested", "missing"}, false)
	it := &item.Item{Fields: []item.Field{
		{Name: "a", Value: `say "hi", then go`},
		{Name: "list", Value: []string{"x", "y"}},
		{Name: "nested", Value: []*item.Item{{Fields: []item.Field{{Name: "k", Value: "v"}}}}},
	}}
	if err := w.Write(it); err != nil {
		t.Fatal(err)
	}
	w.Close()
	want := "a,list,nested,missing\n\"say \"\"hi\"\", then go\",\"x,y\",\"[{\"\"k\"\":\"\"v\"\"}]\",\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestLimitIsExact(t *testing.T) {
	for _, n := range []int64{1, 5, 10} {
		in := make(chan *item.Item, 20)
		for _, it := range items(12) {
			in <- it
		}
		close(in)
		var st stats.Stats
		calls := 0
		var got int64
		for range pipeline.Limit(context.Background(), in, n, func() { calls++ }, &st) {
			got++
		}
		if got != n || calls != 1 {
			t.Errorf("Limit %d passed %d items and called onLimit %d times; want %d and 1", n, got, calls, n)
		}
		if d := st.Get(stats.ItemsDropped + "over_limit"); d != 12-n {
			t.Errorf("Limit %d counted %d over the limit, want %d", n, d, 12-n)
		}
	}
}
