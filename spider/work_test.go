package spider

import (
	"context"
	"errors"
	"testing"

	"crawl/stats"
)

// multiplyingSpec has a field whose XPath antchfx/xpath evaluates in time
// that grows as the depth to the fourth power: on a page 480 deep, far
// more than its budget.
const multiplyingSpec = `start_urls: ["http://127.0.0.1/"]
items:
  - name: x
    fields:
      first: {css: h2}
      titles: {xpath: "//div//div//div//div//h3", all: true}
`

// TestParseTooComplex: a page that costs more work than its budget is
// stopped, counted under skipped/too_complex, ends with ErrTooComplex, and
// the item being extracted when it stopped is not yielded half-filled;
// Explain says why.
func TestParseTooComplex(t *testing.T) {
	s := parseSpec(t, multiplyingSpec)
	s.Stats = new(stats.Stats)
	resp := response(t, "http://127.0.0.1/p", "", hostilePage(480, 1), 0)
	var items int
	var last Result
	for r := range s.ParseContext(context.Background(), resp) {
		if r.Item != nil {
			items++
		}
		last = r
	}
	if items != 0 {
		t.Errorf("%d items, want none: the only item was cut short", items)
	}
	if !errors.Is(last.Err, ErrTooComplex) {
		t.Errorf("last result's error = %v, want ErrTooComplex", last.Err)
	}
	if n := s.Stats.Get(stats.Skipped + SkipTooComplex); n != 1 {
		t.Errorf("%s = %d, want 1", stats.Skipped+SkipTooComplex, n)
	}
	if ex := s.Explain(resp); ex.Problem == "" || len(ex.Items) != 0 {
		t.Errorf("Explain: problem %q and %d items, want a problem and none", ex.Problem, len(ex.Items))
	}
}

// TestParseContextCancelled: a page parsed under a cancelled context stops
// at the first look at it, within checkEvery steps, not at its budget, and
// ends with the context's error; nothing is counted as too complex.
func TestParseContextCancelled(t *testing.T) {
	s := parseSpec(t, multiplyingSpec)
	s.Stats = new(stats.Stats)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pg, _, _ := s.newPage(response(t, "http://127.0.0.1/p", "", "", 0))
	defer pg.release()
	pg.w.ctx = ctx
	var items int
	s.parse(pg, response(t, "http://127.0.0.1/p", "", hostilePage(480, 4), 0), "", 1, func(r Result) bool {
		if r.Item != nil {
			items++
		}
		return true
	})
	if !errors.Is(pg.w.err, context.Canceled) {
		t.Fatalf("the page ended with %v, want context.Canceled", pg.w.err)
	}
	if pg.w.steps > 2*checkEvery || pg.w.steps >= pg.w.limit {
		t.Errorf("%d steps after the context was done (budget %d), want at most %d", pg.w.steps, pg.w.limit, 2*checkEvery)
	}
	if items != 0 || s.Stats.Get(stats.Skipped+SkipTooComplex) != 0 {
		t.Errorf("%d items and %d too complex, want none", items, s.Stats.Get(stats.Skipped+SkipTooComplex))
	}
	var last Result
	for r := range s.ParseContext(ctx, response(t, "http://127.0.0.1/p", "", hostilePage(480, 1), 0)) {
		last = r
	}
	if !errors.Is(last.Err, context.Canceled) {
		t.Errorf("ParseContext's last result: error %v, want context.Canceled", last.Err)
	}
}
