package pipeline_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"crawl/item"
	"crawl/pipeline"
)

// writeRecorder keeps each write it is given apart.
type writeRecorder struct{ writes [][]byte }

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

// TestWritesHoldWholeItems writes items of many sizes, some larger than
// the writer's buffer, in each format: every write the output gets must
// hold whole lines only, so that appenders sharing a file never interleave
// inside an item.
func TestWritesHoldWholeItems(t *testing.T) {
	var its []*item.Item
	for i := range 400 {
		its = append(its, page(string(rune('a'+i%26)), "v", strings.Repeat("x", (i*997)%9000), "n", i))
	}
	its = append(its, page("big", "v", strings.Repeat("y", 200<<10)))
	for _, tt := range []struct {
		name string
		new  func(w *writeRecorder) pipeline.Writer
	}{
		{"jsonl", func(w *writeRecorder) pipeline.Writer { return pipeline.NewJSONL(w) }},
		{"json", func(w *writeRecorder) pipeline.Writer { return pipeline.NewJSONArray(w, false) }},
		{"csv", func(w *writeRecorder) pipeline.Writer { return pipeline.NewCSV(w, []string{"v", "n"}, false) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rec writeRecorder
			w := tt.new(&rec)
			for _, it := range its {
				if err := w.Write(it); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if len(rec.writes) < 3 {
				t.Fatalf("%d writes: the test wants items to span several", len(rec.writes))
			}
			for i, b := range rec.writes {
				if tt.name == "json" && (i == 0 || i == len(rec.writes)-1) {
					continue // "[" and "]" come with the first item and alone at the end
				}
				start := 0
				if tt.name == "json" {
					start = 2 // ",\n" before each item: whole when the write starts with it
					if !bytes.HasPrefix(b, []byte(",\n")) {
						t.Errorf("write %d starts inside an item: %.40q", i, b)
					}
				} else if !bytes.HasSuffix(b, []byte("\n")) {
					t.Errorf("write %d ends inside a line: …%q", i, b[max(0, len(b)-40):])
				}
				if b[start] != '{' && tt.name != "csv" {
					t.Errorf("write %d starts inside an item: %.40q", i, b)
				}
			}
			if n, want := w.(interface{ Written() int64 }).Written(), int64(len(its)); n != want {
				t.Errorf("Written() = %d, want %d", n, want)
			}
		})
	}
}

// TestOpenLocks opens outputs as several crawls would (flock locks are
// held by each open file, so one process shows it): JSON Lines appenders
// share a file, a JSON array, -O and an Exclusive output are alone on
// theirs.
func TestOpenLocks(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name        string
		first, then pipeline.Output
		shared      bool // the second Open succeeds while the first holds the file
	}{
		{"two appenders", pipeline.Output{Format: pipeline.JSONLines}, pipeline.Output{Format: pipeline.JSONLines}, true},
		{"two csv appenders", pipeline.Output{Format: pipeline.CSV}, pipeline.Output{Format: pipeline.CSV}, true},
		{"appender, then array", pipeline.Output{Format: pipeline.JSONLines}, pipeline.Output{Format: pipeline.JSONArray}, false},
		{"array, then appender", pipeline.Output{Format: pipeline.JSONArray}, pipeline.Output{Format: pipeline.JSONLines}, false},
		{"appender, then -O", pipeline.Output{Format: pipeline.JSONLines}, pipeline.Output{Format: pipeline.JSONLines, Overwrite: true}, false},
		{"state, then appender", pipeline.Output{Format: pipeline.JSONLines, Exclusive: true}, pipeline.Output{Format: pipeline.JSONLines}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, string(rune('a'+i)))
			tt.first.Path, tt.then.Path = path, path
			first, err := tt.first.Open(nil, []string{"v"})
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			if _, err := first.Start(); err != nil {
				t.Fatal(err)
			}
			second, err := tt.then.Open(nil, []string{"v"})
			if tt.shared != (err == nil) {
				t.Fatalf("second Open: %v; want shared %v", err, tt.shared)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "another crawl is writing it") {
					t.Errorf("error %q does not say another crawl writes the file", err)
				}
				return
			}
			second.Close()
		})
	}
}

// TestOpenCreatesNothingUnlessStarted opens a new file and closes it
// without Start, as a run that fails at start does: the file is gone.
func TestOpenCreatesNothingUnlessStarted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.jsonl")
	p, err := pipeline.Output{Path: path, Format: pipeline.JSONLines}.Open(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the file an unstarted output created is still there: %v", err)
	}
}
