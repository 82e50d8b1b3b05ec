package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"crawl/engine/shared/redistest"
)

// skuSite serves list pages /list/0…/list/{lists-1}, each linking to the
// next and to ten item pages; item page i-k has a <p> with the SKU
// (10i+k) mod skus, so that many pages share each SKU. It calls onFetch
// with the running total of fetches before answering each.
type skuSite struct {
	lists, skus int
	total       atomic.Int64
	onFetch     atomic.Pointer[func(n int64)]
}

func (s *skuSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/robots.txt" {
		http.NotFound(w, r)
		return
	}
	n := s.total.Add(1)
	if f := s.onFetch.Load(); f != nil {
		(*f)(n)
	}
	var i, k int
	if _, err := fmt.Sscanf(r.URL.Path, "/item/%d-%d", &i, &k); err == nil {
		fmt.Fprintf(w, `<html><body><h1>%d-%d</h1><p>%d</p></body></html>`, i, k, (10*i+k)%s.skus)
		return
	}
	fmt.Sscanf(r.URL.Path, "/list/%d", &i)
	var b strings.Builder
	b.WriteString("<html><body>")
	for k := range 10 {
		fmt.Fprintf(&b, `<a href="/item/%d-%d">item</a>`, i, k)
	}
	if i+1 < s.lists {
		fmt.Fprintf(&b, `<a href="/list/%d">next</a>`, i+1)
	}
	fmt.Fprint(w, b.String()+"</body></html>")
}

const skuSpec = `start_urls: ["{{URL}}/list/0"]
follow: [{css: a}]
items: [{urls: "/item/", fields: {title: "h1::text", sku: "p::text"}, unique: [sku]}]
`

// readField counts the values of one field of the complete lines of a
// JSON Lines file.
func readField(t *testing.T, path, field string, count map[string]int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasSuffix(line, "\n") {
			continue
		}
		var it map[string]string
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatalf("%s: %v in %q", path, err, line)
		}
		count[it[field]]++
	}
}

// TestUniqueSurvivesKills stops a crawl whose items are unique by SKU
// again and again, with SIGKILL and SIGINT, and runs it again each time
// with the same --state: in the end the output holds one item per SKU,
// as one run without a stop writes.
func TestUniqueSurvivesKills(t *testing.T) {
	site := &skuSite{lists: 30, skus: 37}
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	spec := writeSpec(t, dir, skuSpec, srv.URL)
	out := filepath.Join(dir, "items.jsonl")
	args := []string{"run", spec, "-o", out, "--state", filepath.Join(dir, "state"), "--workers", "4", "--log-level", "warn"}

	kills := stopRepeatedly(t, args, &site.total, &site.onFetch, 10, 5, 30, func(run int, _ *rand.Rand) syscall.Signal {
		if run%3 == 1 {
			return syscall.SIGINT
		}
		return syscall.SIGKILL
	})
	if kills < 2 {
		t.Fatalf("only %d runs were stopped: the test proves little", kills)
	}
	count := make(map[string]int)
	readField(t, out, "sku", count)
	for sku := range site.skus {
		if n := count[fmt.Sprint(sku)]; n != 1 {
			t.Errorf("SKU %d is in the output %d times, want once", sku, n)
		}
		delete(count, fmt.Sprint(sku))
	}
	for sku, n := range count {
		t.Errorf("unexpected SKU %q (%d times)", sku, n)
	}
	t.Logf("%d stops", kills)
}

// TestUniqueShared runs three processes on one shared frontier with a
// spider whose items are unique by the page's parent (the second link of
// a page), so that pages in different processes share keys: their
// outputs together hold one item per parent.
func TestUniqueShared(t *testing.T) {
	const n = 1000
	site, srv := newSharedSite(t, n)
	dir := t.TempDir()
	spec := writeSpec(t, dir, `name: tree
start_urls: ["{{URL}}/p/0"]
follow: [{css: a}]
items: [{fields: {title: "h1::text", up: "a:nth-of-type(2)::attr(href)"}, unique: [up]}]
`, srv.URL)
	url := redistest.URL(t)
	var runs []*sharedRun
	for i := range 3 {
		runs = append(runs, startShared(t, dir, fmt.Sprintf("out%d", i), spec, "--frontier", url))
	}
	openGate(t, site, url, len(runs))
	count := make(map[string]int)
	for _, r := range runs {
		r.wait(t)
		readField(t, r.out, "up", count)
	}
	// Pages 1 and 2 have page 0 as parent, and so has page 0 itself.
	for p := range n / 2 {
		up := fmt.Sprintf("/p/%d", p)
		if count[up] != 1 {
			t.Errorf("parent %s is in the outputs %d times, want once", up, count[up])
		}
		delete(count, up)
	}
	for up, k := range count {
		t.Errorf("unexpected parent %q (%d times)", up, k)
	}
}
