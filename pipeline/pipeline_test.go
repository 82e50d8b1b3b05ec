package pipeline_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"crawl/item"
	"crawl/pipeline"
	"crawl/stats"
)

// TestMain fails the package if any test leaves a stage's goroutine running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testCtx is a safety net against a hung test, not a timing assertion.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// page returns an item from a loopback URL with the given fields, given as
// name, value pairs.
func page(path string, kv ...any) *item.Item {
	it := &item.Item{Rule: "page", URL: "http://127.0.0.1/" + path}
	for i := 0; i < len(kv); i += 2 {
		it.Set(kv[i].(string), kv[i+1])
	}
	return it
}

// closedChan returns a closed channel that holds its: all items queued.
func closedChan(its ...*item.Item) chan *item.Item {
	ch := make(chan *item.Item, len(its))
	for _, it := range its {
		ch <- it
	}
	close(ch)
	return ch
}

// collect reads ch until it is closed, failing the test if that does not
// happen before the safety net.
func collect(ctx context.Context, t *testing.T, ch <-chan *item.Item) []*item.Item {
	t.Helper()
	var got []*item.Item
	for {
		select {
		case it, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, it)
		case <-ctx.Done():
			t.Fatalf("channel not closed after %d items: %v", len(got), ctx.Err())
		}
	}
}

func urlsOf(its []*item.Item) []string {
	us := make([]string, len(its))
	for i, it := range its {
		us[i] = it.URL
	}
	return us
}

func requireTitle(it *item.Item) error {
	v, ok := it.Get("title")
	if !ok || v == "" {
		return &pipeline.Drop{Reason: "missing_required", Detail: it.URL + ": no title"}
	}
	if v == "broken" {
		return errors.New("title is broken")
	}
	if s, _ := v.(string); len(s) > 10 {
		return fmt.Errorf("check title: %w", &pipeline.Drop{Reason: "too_long"})
	}
	return nil
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name        string
		in          []*item.Item
		wantKept    []string
		wantDropped map[string]int64 // by reason
	}{
		{"empty input", nil, nil, map[string]int64{}},
		{
			"all kept in order",
			[]*item.Item{page("a", "title", "A"), page("b", "title", "B"), page("c", "title", "C")},
			[]string{"http://127.0.0.1/a", "http://127.0.0.1/b", "http://127.0.0.1/c"},
			map[string]int64{},
		},
		{
			"mixed",
			[]*item.Item{
				page("1", "title", "one"),
				page("2"),
				page("3", "title", "broken"),
				page("4", "title", ""),
				page("5", "title", "much too long a title"),
				page("6", "title", "six"),
			},
			[]string{"http://127.0.0.1/1", "http://127.0.0.1/6"},
			// A wrapped *Drop still names its reason; any other error is
			// "invalid".
			map[string]int64{"missing_required": 2, "invalid": 1, "too_long": 1},
		},
		{
			"all dropped",
			[]*item.Item{page("x"), page("y", "title", "broken")},
			nil,
			map[string]int64{"missing_required": 1, "invalid": 1},
		},
	}
	for _, tt := range tests {
		for _, capacity := range []int{0, 4} {
			t.Run(fmt.Sprintf("%s/cap %d", tt.name, capacity), func(t *testing.T) {
				ctx := testCtx(t)
				in := make(chan *item.Item, capacity)
				go func() {
					defer close(in)
					for _, it := range tt.in {
						in <- it
					}
				}()
				var st stats.Stats
				var logBuf bytes.Buffer
				log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))

				out := pipeline.Filter(ctx, in, requireTitle, &st, log)
				got := urlsOf(collect(ctx, t, out))

				if strings.Join(got, " ") != strings.Join(tt.wantKept, " ") {
					t.Errorf("kept: got %q, want %q", got, tt.wantKept)
				}
				gotDropped := map[string]int64{}
				for _, c := range st.Group(stats.ItemsDropped) {
					gotDropped[c.Key] = c.N
				}
				if fmt.Sprint(gotDropped) != fmt.Sprint(tt.wantDropped) {
					t.Errorf("dropped stats: got %v, want %v", gotDropped, tt.wantDropped)
				}
				// The channel is closed, so the goroutine has finished logging.
				var n int64
				for _, c := range tt.wantDropped {
					n += c
				}
				if got := int64(strings.Count(logBuf.String(), `msg="item dropped"`)); got != n {
					t.Errorf("debug log lines about dropped items: got %d, want %d\n%s", got, n, logBuf.String())
				}
				if n > 0 && !strings.Contains(logBuf.String(), "url=http://127.0.0.1/") {
					t.Errorf("debug log does not name the dropped item's URL:\n%s", logBuf.String())
				}
			})
		}
	}
}

// With nobody reading its output, Filter is blocked sending a kept item; a
// cancelled context must free it, and it must close its channel on the way
// out.
func TestFilterExitsOnCancelWithoutReader(t *testing.T) {
	for _, capacity := range []int{0, 2} {
		t.Run(fmt.Sprintf("cap %d", capacity), func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			safety := testCtx(t)
			ctx, cancel := context.WithCancel(safety)
			defer cancel()
			in := make(chan *item.Item, capacity) // never closed: only ctx can end the stage
			out := pipeline.Filter(ctx, in, func(*item.Item) error { return nil }, &stats.Stats{}, discardLog())

			// in's buffer, out's buffer and the one item the goroutine holds:
			// once the last send completes, out is full and the goroutine is
			// past receiving, waiting to send.
			for i := range 2*capacity + 1 {
				in <- page(fmt.Sprint(i), "title", "t")
			}
			cancel()
			goleak.VerifyNone(t, ignore)

			if n := len(collect(safety, t, out)); n != capacity {
				t.Errorf("items on out after cancel: got %d, want %d (the buffered ones)", n, capacity)
			}
		})
	}
}

// Filter's doc promises the goroutine exits when in is closed or ctx is
// done; a producer that is itself waiting for work may hold in open.
func TestFilterExitsOnCancelWhileInputIdle(t *testing.T) {
	ctx, cancel := context.WithCancel(testCtx(t))
	in := make(chan *item.Item)
	t.Cleanup(func() { close(in) }) // lets the goroutine go if the bug is there
	out := pipeline.Filter(ctx, in, func(*item.Item) error { return nil }, &stats.Stats{}, discardLog())
	cancel()
	select {
	case it, ok := <-out:
		if ok {
			t.Fatalf("got item %v after cancel, want out closed", it.URL)
		}
	case <-time.After(10 * time.Second): // safety net, not a timing assertion
		t.Fatal("out not closed after ctx was cancelled with the input open and idle")
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		in   []*item.Item
		want string
	}{
		{"no items", nil, ""},
		{
			"one",
			[]*item.Item{page("a", "title", "A")},
			`{"title":"A"}` + "\n",
		},
		{
			"field order kept",
			[]*item.Item{
				page("a", "z", "last letter", "a", "first letter", "m", []string{"x", "y"}),
				page("b", "price", 9.5, "title", "B"),
			},
			`{"z":"last letter","a":"first letter","m":["x","y"]}` + "\n" + `{"price":9.5,"title":"B"}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			var st stats.Stats
			if err := pipeline.Write(closedChan(tt.in...), pipeline.NewJSONL(&out), &st); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("output: got %q, want %q", got, tt.want)
			}
			if got := st.Get(stats.ItemsWritten); got != int64(len(tt.in)) {
				t.Errorf("%s: got %d, want %d", stats.ItemsWritten, got, len(tt.in))
			}
		})
	}
}

// A reader of the output sees each item the moment it exists: Write flushes
// when no further item is waiting, without waiting for the input to close.
func TestWriteFlushesWhileInputOpen(t *testing.T) {
	for _, capacity := range []int{0, 8} {
		t.Run(fmt.Sprintf("cap %d", capacity), func(t *testing.T) {
			ctx := testCtx(t)
			pr, pw := io.Pipe()
			lines := make(chan string, 16) // lets the reader finish even if the test stops early
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(pr)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			in := make(chan *item.Item, capacity)
			closeIn := sync.OnceFunc(func() { close(in) })
			t.Cleanup(closeIn) // ends Write if the test stops early
			var st stats.Stats
			done := make(chan error, 1)
			go func() {
				done <- pipeline.Write(in, pipeline.NewJSONL(pw), &st)
				pw.Close()
			}()

			next := func() string {
				t.Helper()
				select {
				case l := <-lines:
					return l
				case <-ctx.Done():
					t.Fatal("no line reached the reader while the input was open")
					return ""
				}
			}
			in <- page("first", "n", "1")
			if got, want := next(), `{"n":"1"}`; got != want {
				t.Errorf("first line: got %q, want %q", got, want)
			}
			in <- page("second", "n", "2")
			if got, want := next(), `{"n":"2"}`; got != want {
				t.Errorf("second line: got %q, want %q", got, want)
			}
			closeIn()
			if err := <-done; err != nil {
				t.Errorf("Write: %v", err)
			}
			if l, ok := <-lines; ok {
				t.Errorf("extra line after the input closed: %q", l)
			}
			if got := st.Get(stats.ItemsWritten); got != 2 {
				t.Errorf("%s: got %d, want 2", stats.ItemsWritten, got)
			}
		})
	}
}

// Items that come one at a time, faster than the flush interval, share a
// write to the output, except the first, which is flushed at once.
func TestWriteCoalescesFlushes(t *testing.T) {
	const every = time.Hour // no flush falls due during the test
	ctx := testCtx(t)
	pr, pw := io.Pipe()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	in := make(chan *item.Item) // unbuffered: a send returns once Write took the item
	closeIn := sync.OnceFunc(func() { close(in) })
	t.Cleanup(closeIn)
	cw := &countingWriter{w: pw}
	var st stats.Stats
	done := make(chan error, 1)
	go func() {
		done <- pipeline.WriteEvery(in, pipeline.NewJSONL(cw), &st, every)
		pw.Close()
	}()
	in <- page("first", "n", "1")
	select {
	case l := <-lines:
		if want := `{"n":"1"}`; l != want {
			t.Errorf("first line: got %q, want %q", l, want)
		}
	case <-ctx.Done():
		t.Fatal("the first item was not flushed at once")
	}
	for i := 2; i <= 5; i++ {
		in <- page(fmt.Sprint(i), "n", fmt.Sprint(i))
	}
	// Write has handled items 2 to 4 (it took 5): none was flushed.
	if got := st.Get(stats.ItemsWritten); got != 1 {
		t.Errorf("%s while items wait: got %d, want 1", stats.ItemsWritten, got)
	}
	closeIn()
	if err := <-done; err != nil {
		t.Fatalf("Write: %v", err)
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if got, want := strings.Join(rest, " "), `{"n":"2"} {"n":"3"} {"n":"4"} {"n":"5"}`; got != want {
		t.Errorf("lines after the first: got %q, want %q", got, want)
	}
	if cw.writes != 2 {
		t.Errorf("writes to the output: got %d, want 2 (the first item, then the rest at the end)", cw.writes)
	}
	if got := st.Get(stats.ItemsWritten); got != 5 {
		t.Errorf("%s: got %d, want 5", stats.ItemsWritten, got)
	}
}

// A flush that falls due while no item comes writes what waits.
func TestWriteFlushesWhenDue(t *testing.T) {
	ctx := testCtx(t)
	pr, pw := io.Pipe()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	in := make(chan *item.Item)
	closeIn := sync.OnceFunc(func() { close(in) })
	t.Cleanup(closeIn)
	done := make(chan error, 1)
	go func() {
		done <- pipeline.WriteEvery(in, pipeline.NewJSONL(pw), new(stats.Stats), time.Millisecond)
		pw.Close()
	}()
	for i := 1; i <= 3; i++ {
		in <- page(fmt.Sprint(i), "n", fmt.Sprint(i))
	}
	for i := 1; i <= 3; i++ {
		select {
		case l := <-lines:
			if want := fmt.Sprintf(`{"n":"%d"}`, i); l != want {
				t.Errorf("line %d: got %q, want %q", i, l, want)
			}
		case <-ctx.Done():
			t.Fatalf("line %d never reached the reader while the input was open", i)
		}
	}
	closeIn()
	if err := <-done; err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// countingWriter counts the writes that reach it.
type countingWriter struct {
	w      io.Writer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.w.Write(p)
}

// While items are queued, Write leaves them in the buffer: a fast stream
// costs few writes to the output.
func TestWriteBatchesQueuedItems(t *testing.T) {
	const n = 10000
	in := make(chan *item.Item, n)
	for i := range n {
		in <- page(fmt.Sprint(i), "i", i)
	}
	close(in)
	var out bytes.Buffer
	cw := &countingWriter{w: &out}
	var st stats.Stats
	if err := pipeline.Write(in, pipeline.NewJSONL(cw), &st); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if cw.writes >= 100 {
		t.Errorf("writes to the output for %d queued items: got %d, want fewer than 100", n, cw.writes)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("lines: got %d, want %d", len(lines), n)
	}
	for i, l := range lines {
		if want := fmt.Sprintf(`{"i":%d}`, i); l != want {
			t.Fatalf("line %d: got %q, want %q", i, l, want)
		}
	}
	if got := st.Get(stats.ItemsWritten); got != n {
		t.Errorf("%s: got %d, want %d", stats.ItemsWritten, got, n)
	}
}

var errDiskFull = errors.New("disk full")

// limitWriter accepts limit bytes, then fails with errDiskFull.
type limitWriter struct {
	limit int
	out   bytes.Buffer
}

func (w *limitWriter) Write(p []byte) (int, error) {
	room := w.limit - w.out.Len()
	if len(p) <= room {
		return w.out.Write(p)
	}
	w.out.Write(p[:room])
	return room, errDiskFull
}

// completeLines counts the newline-terminated lines in s.
func completeLines(s string) int64 { return int64(strings.Count(s, "\n")) }

// feed sends its on a new unbuffered channel until ctx is done and reports
// how many were taken. The channel is closed only if all of them were.
func feed(ctx context.Context, its ...*item.Item) (<-chan *item.Item, <-chan int) {
	in := make(chan *item.Item)
	sent := make(chan int, 1)
	go func() {
		for i, it := range its {
			select {
			case in <- it:
			case <-ctx.Done():
				sent <- i
				return
			}
		}
		close(in)
		sent <- len(its)
	}()
	return in, sent
}

// Items arrive one at a time and, with no flush interval, Write flushes
// after each, so the failing flush is the third item's. What Write guarantees then: the error wraps the
// output's error (through "flush output: …", which does not name an item: a
// flush may carry many), Write stops taking items, and the earlier items are
// whole on the output and counted.
func TestWriteErrorOnFlush(t *testing.T) {
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	const line = `{"v":"0123456789"}` + "\n"
	its := make([]*item.Item, 5)
	for i := range its {
		its[i] = page(fmt.Sprint(i), "v", "0123456789")
	}
	in, sent := feed(ctx, its...)
	w := &limitWriter{limit: 2*len(line) + len(line)/2}
	var st stats.Stats

	err := pipeline.WriteEvery(in, pipeline.NewJSONL(w), &st, 0)
	cancel()
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Write: got %v, want an error wrapping %v", err, errDiskFull)
	}
	if n := <-sent; n != 3 {
		t.Errorf("items taken from in: got %d, want 3 (Write must stop at the failing one)", n)
	}
	if got, want := w.out.String(), line+line+line[:len(line)/2]; got != want {
		t.Errorf("output: got %q, want %q", got, want)
	}
	if got := st.Get(stats.ItemsWritten); got != 2 {
		t.Errorf("%s: got %d, want 2 (the third item's flush failed)", stats.ItemsWritten, got)
	}
}

// A line too big for the buffer goes straight to the output from inside
// JSONL.Write, so the error names the item it was writing.
func TestWriteErrorNamesItem(t *testing.T) {
	big := page("big", "text", strings.Repeat("x", 100<<10))
	w := &limitWriter{limit: 10}
	var st stats.Stats
	err := pipeline.Write(closedChan(big), pipeline.NewJSONL(w), &st)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Write: got %v, want an error wrapping %v", err, errDiskFull)
	}
	if !strings.Contains(err.Error(), big.URL) {
		t.Errorf("error %q does not name the item's URL %s", err, big.URL)
	}
	if got := st.Get(stats.ItemsWritten); got != 0 {
		t.Errorf("%s: got %d, want 0", stats.ItemsWritten, got)
	}
}

// An item that cannot be encoded stops the stage with an error naming it,
// and none of its bytes reach the output.
func TestWriteUnencodableItem(t *testing.T) {
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	bad := page("bad", "title", "half", "score", math.NaN())
	in, sent := feed(ctx, page("good", "title", "ok"), bad, page("after", "title", "never"))
	var out bytes.Buffer
	var st stats.Stats

	err := pipeline.Write(in, pipeline.NewJSONL(&out), &st)
	cancel()
	var uerr *json.UnsupportedValueError
	if !errors.As(err, &uerr) {
		t.Fatalf("Write: got %v, want a *json.UnsupportedValueError", err)
	}
	if !strings.Contains(err.Error(), bad.URL) {
		t.Errorf("error %q does not name the item's URL %s", err, bad.URL)
	}
	if got, want := out.String(), `{"title":"ok"}`+"\n"; got != want {
		t.Errorf("output: got %q, want %q", got, want)
	}
	if n := <-sent; n != 2 {
		t.Errorf("items taken from in: got %d, want 2", n)
	}
	if got := st.Get(stats.ItemsWritten); got != 1 {
		t.Errorf("%s: got %d, want 1", stats.ItemsWritten, got)
	}
}

// stats.ItemsWritten is "items the writer wrote": Write counts an item once
// it has reached the output whole, so the summary never counts items whose
// bytes were lost, and when a flush of several items fails part way, the
// items it did deliver are counted: the count equals the whole lines on the
// output. The items that did not make it are counted as dropped.
func TestWriteCountsOnlyDeliveredItems(t *testing.T) {
	const line = `{"v":"0123456789"}` + "\n"
	tests := []struct {
		name  string
		queue bool // all items queued up front (one flush at the end) or one at a time
		limit int
		exact bool // the count must equal the whole lines, not merely not exceed them
	}{
		{"one at a time, third flush fails", false, 2*len(line) + len(line)/2, true},
		{"queued, final flush fails at once", true, 0, true},
		{"queued, final flush fails part way", true, 2*len(line) + len(line)/2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()
			its := []*item.Item{page("0", "v", "0123456789"), page("1", "v", "0123456789"), page("2", "v", "0123456789"), page("3", "v", "0123456789")}
			var in <-chan *item.Item
			if tt.queue {
				in = closedChan(its...)
			} else {
				in, _ = feed(ctx, its...)
			}
			w := &limitWriter{limit: tt.limit}
			var st stats.Stats
			err := pipeline.WriteEvery(in, pipeline.NewJSONL(w), &st, 0)
			cancel()
			if !errors.Is(err, errDiskFull) {
				t.Fatalf("Write: got %v, want an error wrapping %v", err, errDiskFull)
			}
			got, whole := st.Get(stats.ItemsWritten), completeLines(w.out.String())
			if dropped := st.Get(stats.ItemsDropped + "write_failed"); tt.queue && got+dropped != int64(len(its)) {
				t.Errorf("written %d + dropped %d, want the %d items taken", got, dropped, len(its))
			}
			if got > whole || (tt.exact && got != whole) {
				t.Errorf("%s: got %d with %d whole lines on the output, want %s %d", stats.ItemsWritten, got, whole, map[bool]string{true: "exactly", false: "at most"}[tt.exact], whole)
			}
		})
	}
}

func TestJSONL(t *testing.T) {
	tests := []struct {
		name string
		its  []*item.Item
		want string
	}{
		{"empty item", []*item.Item{{}}, "{}\n"},
		{
			"html not escaped",
			[]*item.Item{page("a", "html", "<b>&</b>", "q", `"quoted" \ back`)},
			`{"html":"<b>&</b>","q":"\"quoted\" \\ back"}` + "\n",
		},
		{
			"unicode kept",
			[]*item.Item{page("a", "title", "café — 日本語 🙂", "name", "Zoë")},
			`{"title":"café — 日本語 🙂","name":"Zoë"}` + "\n",
		},
		{
			"newlines stay inside the line",
			[]*item.Item{page("a", "text", "line one\nline two\r\n\ttabbed")},
			`{"text":"line one\nline two\r\n\ttabbed"}` + "\n",
		},
		{
			"line and paragraph separators",
			[]*item.Item{page("a", "text", "a\u2028b\u2029c")},
			`{"text":"a\u2028b\u2029c"}` + "\n",
		},
		{
			"nested items keep their order",
			[]*item.Item{page("a",
				"title", "list",
				"entries", []*item.Item{
					page("a", "z", "1", "a", "2"),
					page("a", "name", "<i>x</i>", "tags", []string{"p", "q"}),
				},
				"empty", []*item.Item{},
			)},
			`{"title":"list","entries":[{"z":"1","a":"2"},{"name":"<i>x</i>","tags":["p","q"]}],"empty":[]}` + "\n",
		},
		{
			"values of other types",
			[]*item.Item{page("a", "n", 42, "f", 1.5, "b", true, "null", nil, "list", []string{})},
			`{"n":42,"f":1.5,"b":true,"null":null,"list":[]}` + "\n",
		},
		{
			"one line per item",
			[]*item.Item{page("a", "i", "1"), page("b", "i", "2"), page("c", "i", "3")},
			`{"i":"1"}` + "\n" + `{"i":"2"}` + "\n" + `{"i":"3"}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			j := pipeline.NewJSONL(&out)
			for _, it := range tt.its {
				if err := j.Write(it); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			if err := j.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("output:\ngot  %s\nwant %s", got, tt.want)
			}
			lines := strings.SplitAfter(out.String(), "\n")
			lines = lines[:len(lines)-1] // after the last newline
			if len(lines) != len(tt.its) {
				t.Errorf("lines: got %d, want %d", len(lines), len(tt.its))
			}
			for i, l := range lines {
				if !json.Valid([]byte(l)) {
					t.Errorf("line %d is not valid JSON: %q", i, l)
				}
			}
		})
	}
}

func TestJSONLBuffersUntilFlush(t *testing.T) {
	var out bytes.Buffer
	j := pipeline.NewJSONL(&out)
	if err := j.Write(page("a", "t", "x")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("output before Flush: got %q, want nothing", out.String())
	}
	if err := j.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got, want := out.String(), `{"t":"x"}`+"\n"; got != want {
		t.Errorf("output after Flush: got %q, want %q", got, want)
	}
	if err := j.Write(page("b", "t", "y")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, want := out.String(), `{"t":"x"}`+"\n"+`{"t":"y"}`+"\n"; got != want {
		t.Errorf("output after Close: got %q, want %q (Close flushes, JSON Lines has no trailer)", got, want)
	}
}

// A failed encoding leaves nothing half-written: the next item starts on a
// clean line.
func TestJSONLEncodeErrorWritesNothing(t *testing.T) {
	var out bytes.Buffer
	j := pipeline.NewJSONL(&out)
	if err := j.Write(page("bad", "ok", "first field", "bad", math.Inf(1))); err == nil {
		t.Fatal("Write of +Inf: got no error, want one")
	}
	if err := j.Write(page("bad", "fn", func() {})); err == nil {
		t.Fatal("Write of a func: got no error, want one")
	}
	if err := j.Write(page("good", "t", "x")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := j.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got, want := out.String(), `{"t":"x"}`+"\n"; got != want {
		t.Errorf("output: got %q, want %q", got, want)
	}
}
