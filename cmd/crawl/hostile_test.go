package main

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/andybalholm/brotli"
)

// The hostile site is a web server on 127.0.0.1 that misbehaves on purpose,
// in every way listed in faultKinds, among pages of a small shop whose
// items a crawl must write exactly once. Which faults each listing page
// links to is drawn at random from a seed that the test logs; the home page
// links every variant of every fault, so each run exercises them all.
// Rerun a failure with: go test ./cmd/crawl -run TestHostileSite -hostile-seed N

var hostileSeed = flag.Uint64("hostile-seed", 0, "seed of TestHostileSite's random choices (0: from the clock)")

// The limits the hostile crawl runs with, those a user would give a crawl
// of a site they do not trust.
const (
	hostileWorkers = 8
	hostileDepth   = 6
	hostileMaxBody = 4 << 20
	hostileTimeout = "5s"
	hostileRetries = 1
)

// hostileMemoryBound is the most resident memory the crawl may use over the
// hostile site: the bound that the README's Reliability section documents.
// The race detector, which `go test -race` builds the crawl child with,
// multiplies the memory a Go program uses several times, so the bound is
// raised for it (raceEnabled).
func hostileMemoryBound() int64 {
	if raceEnabled {
		return 3 << 30
	}
	return 768 << 20
}

// The shop: listing pages of products.
const (
	hostileLists    = 10
	hostileProducts = 20 // per listing page
)

// A fault kind is a way a page misbehaves; variants are the forms it takes.
type faultKind struct {
	name     string
	variants int
}

var faultKinds = []faultKind{
	{"drip", 2},     // a body (0) or headers (1) that trickle in, a few bytes every 50ms, for ever
	{"endless", 2},  // a body that never ends, chunked (0) or with a Content-Length of a terabyte (1)
	{"bomb", 4},     // a compression bomb: gzip (0), deflate (1), br (2), gzip inside gzip (3)
	{"garbage", 3},  // binary garbage as text/html (0), a page of invalid UTF-8 (1), garbage declared gzip (2)
	{"deep", 3},     // HTML nested 100,000 levels deep: divs (0), tables (1); 480 deep, as parsed, against the spider's deep selectors (2)
	{"links", 1},    // a page with 100,000 links
	{"attr", 1},     // attribute values of 1 MB
	{"loop", 2},     // a redirect loop (0), an endless chain of redirects (1)
	{"calendar", 1}, // a crawler trap: a calendar whose every day links to the next, for ever
	{"reset", 2},    // the connection reset before the answer (0) or inside the body (1)
	{"status", 4},   // invalid status lines
	{"length", 2},   // a Content-Length longer (0) or shorter (1) than the body
}

// fault is one misbehaving page.
type fault struct {
	kind    string
	variant int
	n       int // tells apart the pages of one kind and variant
}

func (f fault) path() string {
	if f.kind == "calendar" {
		return fmt.Sprintf("/cal/%d/%s", f.n, calendarStart(f.n).Format(time.DateOnly))
	}
	return fmt.Sprintf("/h/%s/%d/%d", f.kind, f.variant, f.n)
}

// sku is the SKU of the page's item, if it has one.
func (f fault) sku() string { return fmt.Sprintf("H-%s-%d-%d", f.kind, f.variant, f.n) }

// item is the HTML of the page's item, if it has one.
func (f fault) item() string { return product(f.sku(), float64(f.n)+0.5) }

// skus returns the items the page carries that the crawl must write: the
// pages a browser shows, however badly made, and the start of those cut at
// the size limit.
func (f fault) skus() []string {
	sku := f.sku()
	switch {
	case f.kind == "deep":
		return []string{sku + "-before", sku + "-after"}
	case f.kind == "endless", f.kind == "bomb", f.kind == "links", f.kind == "attr",
		f.kind == "garbage" && f.variant == 1, f.kind == "length" && f.variant == 1:
		return []string{sku}
	}
	return nil
}

// calendarStart is the first day of calendar n: any day of three centuries.
func calendarStart(n int) time.Time {
	return time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(rand.New(rand.NewPCG(uint64(n), 7)).IntN(300*365)))
}

// hostileSite is the server and what it was built to serve.
type hostileSite struct {
	srv    *httptest.Server
	seed   uint64
	home   []fault   // faults the home page links
	lists  [][]fault // faults each listing page links
	robots []byte    // 10 MB of garbage
	links  []byte    // 100,000 links

	// Compressed zeros for the bombs.
	gzipZeros    []byte         // a gzip member of 1 MiB of zeros
	deflateZeros []byte         // DEFLATE blocks of 1 MiB of zeros, after zeros
	brotli       map[int][]byte // by fault: a Brotli stream of its item and 16 MiB of zeros
	done         chan struct{}

	mu   sync.Mutex
	hits map[string]int // requests by path
}

func newHostileSite(t *testing.T, seed uint64) *hostileSite {
	t.Helper()
	s := &hostileSite{seed: seed, done: make(chan struct{}), hits: map[string]int{}}
	rnd := rand.New(rand.NewPCG(seed, 1))
	n := 0
	for _, k := range faultKinds {
		for v := range k.variants {
			s.home = append(s.home, fault{k.name, v, n})
			n++
		}
	}
	// Each listing page links up to two faults of any kind, but no kind
	// is drawn more than twice, so that the memory the crawl needs does
	// not depend on the draw.
	drawn := map[string]int{}
	for range hostileLists {
		var fs []fault
		for range rnd.IntN(3) {
			k := faultKinds[rnd.IntN(len(faultKinds))]
			for drawn[k.name] == 2 {
				k = faultKinds[rnd.IntN(len(faultKinds))]
			}
			drawn[k.name]++
			fs = append(fs, fault{k.name, rnd.IntN(k.variants), n})
			n++
		}
		s.lists = append(s.lists, fs)
	}
	s.robots = garbageRobots(seed)
	s.links = manyLinks()
	s.gzipZeros = gzipped(string(make([]byte, 1<<20)))
	s.deflateZeros = deflateZeros()
	s.brotli = map[int][]byte{}
	for _, f := range s.faults() {
		if f.kind == "bomb" && f.variant == 2 {
			var b bytes.Buffer
			bw := brotli.NewWriterLevel(&b, brotli.BestSpeed)
			io.WriteString(bw, "<html><body>"+f.item())
			bw.Write(make([]byte, 16<<20))
			bw.Close()
			s.brotli[f.n] = b.Bytes()
		}
	}
	s.srv = httptest.NewServer(s)
	t.Cleanup(func() {
		close(s.done) // ends the handlers that trickle or never end
		s.srv.Close()
	})
	return s
}

// garbageRobots returns a robots.txt of 10 MB of garbage: binary noise and
// lines that look like rules outside any group. Far beyond the 500 KiB that
// a crawler reads, it disallows everything: a crawler that read it whole
// would fetch nothing.
func garbageRobots(seed uint64) []byte {
	b := randomBytes(seed, 0, 10<<20)
	for i := 0; i < len(b)-100; i += 4 << 10 {
		copy(b[i:], "\nDisallow: /\nAllow: /*\x00\xff\n") // before any User-agent line: no group, no rule
	}
	copy(b[1<<20:], "\nUser-agent: *\nDisallow: /\n")
	return b
}

// manyLinks returns 100,000 links. Half lead off the site, to a loopback
// address it does not serve; the other half to the shop's products, each a
// page already seen once its fragment is dropped.
func manyLinks() []byte {
	var b []byte
	for i := range 100_000 {
		if i%2 == 0 {
			b = append(b, `<a href="http://127.0.0.2:9/`...)
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, `">off</a>`+"\n"...)
			continue
		}
		b = append(b, `<a href="/product/`...)
		b = strconv.AppendInt(b, int64(i%(hostileLists*hostileProducts)), 10)
		b = append(b, "#r"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `">p</a>`+"\n"...)
	}
	return b
}

func (s *hostileSite) hit(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// faults returns every fault the site links, home page first.
func (s *hostileSite) faults() []fault {
	out := slices.Clone(s.home)
	for _, fs := range s.lists {
		out = append(out, fs...)
	}
	return out
}

// skus returns every item the crawl must write.
func (s *hostileSite) skus() []string {
	var out []string
	for i := range hostileLists * hostileProducts {
		out = append(out, fmt.Sprintf("P-%d", i))
	}
	for _, f := range s.faults() {
		out = append(out, f.skus()...)
	}
	return out
}

func product(sku string, price float64) string {
	return fmt.Sprintf(`<div class="product"><h1>Product %s</h1><span class="sku">%s</span><span class="price">%.2f</span></div>`, sku, sku, price)
}

func (s *hostileSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/robots.txt":
		w.Header().Set("Content-Type", "text/plain")
		w.Write(s.robots)
	case r.URL.Path == "/":
		var b strings.Builder
		b.WriteString("<html><body><h1>Hostile shop</h1>")
		for i := range hostileLists {
			fmt.Fprintf(&b, `<a href="/list/%d">list %d</a>`, i, i)
		}
		for _, f := range s.home {
			fmt.Fprintf(&b, `<a href="%s">%s</a>`, f.path(), f.kind)
		}
		io.WriteString(w, b.String())
	case len(parts) == 2 && parts[0] == "list":
		i, err := strconv.Atoi(parts[1])
		if err != nil || i < 0 || i >= hostileLists {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "<html><body><h1>List %d</h1>", i)
		if i+1 < hostileLists {
			fmt.Fprintf(&b, `<a href="/list/%d">next</a>`, i+1)
		}
		for p := i * hostileProducts; p < (i+1)*hostileProducts; p++ {
			fmt.Fprintf(&b, `<a href="/product/%d">product %d</a>`, p, p)
		}
		for _, f := range s.lists[i] {
			fmt.Fprintf(&b, `<a href="%s">%s</a>`, f.path(), f.kind)
		}
		io.WriteString(w, b.String())
	case len(parts) == 2 && parts[0] == "product":
		p, err := strconv.Atoi(parts[1])
		if err != nil {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<html><body>%s<a href="/">home</a><a href="/list/%d">list</a></body></html>`,
			product(fmt.Sprintf("P-%d", p), float64(p)+0.25), p/hostileProducts)
	case len(parts) == 3 && parts[0] == "cal":
		day, err := time.Parse(time.DateOnly, parts[2])
		if err != nil {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<html><body><h2>%s</h2><a href="/cal/%s/%s">previous day</a> <a href="/cal/%s/%s">next day</a></body></html>`,
			parts[2], parts[1], day.AddDate(0, 0, -1).Format(time.DateOnly), parts[1], day.AddDate(0, 0, 1).Format(time.DateOnly))
	case len(parts) >= 4 && parts[0] == "h":
		v, err1 := strconv.Atoi(parts[2])
		n, err2 := strconv.Atoi(parts[3])
		if err1 != nil || err2 != nil {
			http.NotFound(w, r)
			return
		}
		s.serveFault(w, r, fault{parts[1], v, n}, parts[4:])
	default:
		http.NotFound(w, r)
	}
}

// serveFault misbehaves as f says. rest is the path after the fault's own.
func (s *hostileSite) serveFault(w http.ResponseWriter, r *http.Request, f fault, rest []string) {
	sku, item := f.sku(), f.item()
	switch f.kind {
	case "drip":
		if f.variant == 1 {
			s.hijack(w, func(c net.Conn) {
				s.trickle(c, []byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"), []byte("X-Slow: a\r\n"))
			})
			return
		}
		w.Header().Set("Content-Type", "text/html")
		s.trickle(flushWriter{w}, []byte("<html><body>"+item), []byte("<p>"))
	case "endless":
		w.Header().Set("Content-Type", "text/html")
		if f.variant == 1 {
			w.Header().Set("Content-Length", strconv.FormatInt(1<<40, 10))
		}
		s.stream(w, "<html><body>"+item, strings.Repeat("and more ", 8<<10), 1<<40, nil)
	case "bomb":
		// A gigabyte of zeros (16 MiB in Brotli), which shrinks a thousand
		// times or more: a megabyte on the wire.
		w.Header().Set("Content-Type", "text/html")
		head := "<html><body>" + item
		switch f.variant {
		case 0:
			// A gzip stream may hold many members, read as one.
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipped(head))
			s.repeat(w, s.gzipZeros, 1024, nil)
		case 1:
			w.Header().Set("Content-Encoding", "deflate")
			w.Write(zlibStart(head))
			s.repeat(w, s.deflateZeros, 1024, nil)
		case 2:
			w.Header().Set("Content-Encoding", "br")
			w.Write(s.brotli[f.n])
		default:
			// The gzip stream of variant 0, gzipped again.
			w.Header().Set("Content-Encoding", "gzip, gzip")
			zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			defer zw.Close()
			zw.Write(gzipped(head))
			s.repeat(zw, s.gzipZeros, 1024, zw.Flush)
		}
	case "garbage":
		rnd := randomBytes(s.seed, f.n, 64<<10)
		switch f.variant {
		case 0:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(rnd)
		case 1:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			bad := "Caf\xe9 \xff\xfe \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80 "
			io.WriteString(w, "<html><body>"+strings.Replace(item, "<h1>Product ", "<h1>"+bad, 1))
			w.Write(rnd[:4<<10])
		default:
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(rnd)
		}
	case "deep":
		w.Header().Set("Content-Type", "text/html")
		open, close, levels := "<div>", "</div>", 100_000
		switch f.variant {
		case 1:
			open, close, levels = "<table><tr><td>", "</td></tr></table>", 100_000/3
		case 2:
			open, close, levels = "<div><h2>x</h2>", "</div>", 480
			close = `<a href="#top">top</a>` + close // a link deep down, to this page
		}
		io.WriteString(w, "<html><body>"+product(sku+"-before", float64(f.n)+0.5)+
			strings.Repeat(open, levels)+"deep down"+strings.Repeat(close, levels)+
			product(sku+"-after", float64(f.n)+0.75)+"</body></html>")
	case "links":
		io.WriteString(w, "<html><body>"+item)
		w.Write(s.links)
		io.WriteString(w, "</body></html>")
	case "attr":
		mb := strings.Repeat("x", 1<<20)
		words := strings.Repeat("w ", 1<<19)
		io.WriteString(w, `<html><body><div class="`+words+`" data-blob="`+mb+`">`+item+`</div><a href="/`+mb+`">long</a></body></html>`)
	case "loop":
		if f.variant == 0 {
			next := r.URL.Path + "/again"
			if len(rest) > 0 {
				next = strings.TrimSuffix(r.URL.Path, "/again")
			}
			http.Redirect(w, r, next, http.StatusFound)
			return
		}
		hop := 0
		if len(rest) > 0 {
			hop, _ = strconv.Atoi(rest[0])
		}
		http.Redirect(w, r, fmt.Sprintf("/h/loop/1/%d/%d", f.n, hop+1), http.StatusMovedPermanently)
	case "reset":
		s.hijack(w, func(c net.Conn) {
			if f.variant == 1 {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><body>"+item)
			}
			c.(*net.TCPConn).SetLinger(0) // close with RST
		})
	case "status":
		lines := []string{
			"HTTP/1.1 2OO OK\r\n\r\n",
			"HTTP/1.1 99999 Too Big\r\n\r\n",
			"I am not HTTP at all\r\n\r\n<h1>hello</h1>",
			"\x00\x01\x02\xff\xfe\r\n\r\n",
		}
		s.hijack(w, func(c net.Conn) { io.WriteString(c, lines[f.variant%len(lines)]) })
	case "length":
		body := "<html><body>" + item
		s.hijack(w, func(c net.Conn) {
			if f.variant == 0 {
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body)+10_000, body)
				return
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s%s", len(body), body, randomBytes(s.seed, f.n, 4<<10))
		})
	default:
		http.NotFound(w, r)
	}
}

// hijack takes over the connection of w, lets serve write to it as it
// likes, and closes it.
func (s *hostileSite) hijack(w http.ResponseWriter, serve func(net.Conn)) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(fmt.Sprintf("hijack: %v", err)) // the server logs it, and the request fails
	}
	defer c.Close()
	serve(c)
}

// trickle writes head, then tail once every 50ms, until the reader goes
// away or the site closes.
func (s *hostileSite) trickle(w io.Writer, head, tail []byte) {
	if _, err := w.Write(head); err != nil {
		return
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.done:
			return
		}
		for _, b := range tail {
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
		}
	}
}

// stream writes head, then fill until limit bytes are written, the reader
// goes away or the site closes, calling flush, if set, after each fill.
func (s *hostileSite) stream(w io.Writer, head, fill string, limit int64, flush func() error) {
	if _, err := io.WriteString(w, head); err != nil {
		return
	}
	for n := int64(len(head)); n < limit; n += int64(len(fill)) {
		select {
		case <-s.done:
			return
		default:
		}
		if _, err := io.WriteString(w, fill); err != nil {
			return
		}
		if flush != nil && flush() != nil {
			return
		}
	}
}

// repeat writes b n times, or until the reader goes away or the site
// closes, calling flush, if set, after each write.
func (s *hostileSite) repeat(w io.Writer, b []byte, n int, flush func() error) {
	for range n {
		select {
		case <-s.done:
			return
		default:
		}
		if _, err := w.Write(b); err != nil {
			return
		}
		if flush != nil && flush() != nil {
			return
		}
	}
}

// flushWriter sends every write at once.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = http.NewResponseController(f.w).Flush()
	}
	return n, err
}

// zlibStart returns the start of a zlib stream of head and 64 KiB of
// zeros, which deflateZeros can follow.
func zlibStart(head string) []byte {
	var b bytes.Buffer
	b.WriteString("\x78\x01") // zlib header: DEFLATE, 32 KiB window
	fw, _ := flate.NewWriter(&b, flate.BestSpeed)
	io.WriteString(fw, head)
	fw.Write(make([]byte, 64<<10))
	fw.Flush()
	return b.Bytes()
}

// deflateZeros returns DEFLATE blocks, ended by a flush so that they end on
// a byte, that inflate to 1 MiB of zeros. What they inflate to depends only
// on the 32 KiB inflated before them: after zeros, the blocks may follow
// themselves any number of times.
func deflateZeros() []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	fw.Write(make([]byte, 64<<10))
	fw.Flush()
	start := b.Len()
	fw.Write(make([]byte, 1<<20))
	fw.Flush()
	return b.Bytes()[start:]
}

// gzipped returns s as a gzip member.
func gzipped(s string) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	io.WriteString(zw, s)
	zw.Close()
	return b.Bytes()
}

// randomBytes returns n bytes drawn from seed and k.
func randomBytes(seed uint64, k, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	binary.LittleEndian.PutUint64(key[8:], uint64(k))
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

const hostileSpec = `name: hostile
start_urls: ["{{URL}}/"]
allowed_domains: ["127.0.0.1"]
follow:
  - css: a
  # Selectors that select nothing on the site, and that cascadia matched
  # in time growing as a power of the depth: minutes on a page 480 deep.
  - css: "h4 ~ div div div div a"
  - css: "div > div div div div h4 a"
  - css: "div:nth-child(2n) span div div div a"
items:
  - name: product
    each: div.product
    fields:
      sku: .sku
      name: h1
      price: {css: .price, type: float}
      url: "@url"
    required: [sku, name, price]
`

// TestHostileSite crawls the hostile site with the real command and checks
// that the crawl finishes by itself, writes every item of the pages that
// have one exactly once, stays under its memory bound, and counts every
// fault the site commits.
func TestHostileSite(t *testing.T) {
	if testing.Short() {
		t.Skip("a crawl of several seconds, cut by timeouts")
	}
	seed := *hostileSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d: rerun with go test ./cmd/crawl -run TestHostileSite -hostile-seed %d", seed, seed)
	site := newHostileSite(t, seed)
	dir := t.TempDir()
	spec := writeSpec(t, dir, hostileSpec, site.srv.URL)
	statsPath := filepath.Join(dir, "stats.json")
	out := filepath.Join(dir, "items.jsonl")

	// The crawl must end by itself; this only turns a hang into a failure
	// that says so, long before the test binary's own timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "run", spec, "-o", out, "--stats", statsPath,
		"--workers", strconv.Itoa(hostileWorkers), "--per-host", strconv.Itoa(hostileWorkers),
		"--depth", strconv.Itoa(hostileDepth), "--timeout", hostileTimeout, "--retries", strconv.Itoa(hostileRetries),
		"--max-body", strconv.Itoa(hostileMaxBody), "--log-level", "warn")
	cmd.Env = append(os.Environ(), "CRAWL_TEST_MAIN=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the crawl did not end; stderr:\n%s", tail(stderr.String(), 40))
	}
	if err != nil {
		t.Fatalf("crawl: %v; stderr:\n%s", err, tail(stderr.String(), 40))
	}
	rss := int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) * 1024 // kilobytes on Linux
	t.Logf("peak memory of the crawl: %.1f MiB (bound %d MiB)", float64(rss)/(1<<20), hostileMemoryBound()>>20)
	if rss > hostileMemoryBound() {
		t.Errorf("peak memory %.1f MiB, over the bound of %d MiB", float64(rss)/(1<<20), hostileMemoryBound()>>20)
	}

	sf := readStats(t, statsPath)
	if sf.Reason != "finished" {
		t.Errorf("crawl ended with %q, want finished", sf.Reason)
	}
	c := sf.Counters
	t.Logf("counters: %v", c)

	// Every item exactly once, and nothing else.
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(data) {
		t.Errorf("output is not valid UTF-8")
	}
	got := map[string]int{}
	for line := range strings.Lines(string(data)) {
		var it struct{ SKU, Name string }
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Errorf("output line %.100q is not an item: %v", line, err)
			continue
		}
		got[it.SKU]++
		if strings.HasPrefix(it.SKU, "H-garbage-1-") && !strings.Contains(it.Name, "\uFFFD") {
			t.Errorf("item %s: name %q, want its invalid bytes as U+FFFD", it.SKU, it.Name)
		}
	}
	want := site.skus()
	for _, sku := range want {
		if got[sku] != 1 {
			t.Errorf("item %s written %d times, want once", sku, got[sku])
		}
		delete(got, sku)
	}
	for sku, n := range got {
		t.Errorf("unexpected item %s written %d times", sku, n)
	}
	if c["items/written"] != int64(len(want)) {
		t.Errorf("items/written %d, want %d", c["items/written"], len(want))
	}
	// No good page was fetched twice.
	for p := range hostileLists * hostileProducts {
		if n := site.hit(fmt.Sprintf("/product/%d", p)); n != 1 {
			t.Errorf("/product/%d requested %d times, want once", p, n)
		}
	}
	if n := site.hit("/robots.txt"); n != 1 {
		t.Errorf("robots.txt requested %d times, want once", n)
	}

	// Every fault is counted.
	count := map[string]int64{}
	for _, f := range site.faults() {
		count[f.kind+"/"+strconv.Itoa(f.variant)]++
		count[f.kind]++
	}
	wantCounters := []struct {
		name string
		min  int64
		max  int64
	}{
		{"errors/timeout", count["drip"], count["drip"]},
		{"errors/redirect", count["loop"], count["loop"]},
		{"errors/connection_reset", count["reset"] + count["length/0"], count["reset"] + count["length/0"]},
		{"errors/other", count["status"], count["status"]},
		{"errors/body", count["garbage/2"], count["garbage/2"]},
		{"truncated", count["endless"] + count["bomb"] + 1, count["endless"] + count["bomb"] + 1}, // and robots.txt
		{"html/invalid_utf8", count["garbage/0"] + count["garbage/1"], count["garbage/0"] + count["garbage/1"]},
		{"html/too_deep", count["deep/0"] + count["deep/1"], count["deep/0"] + count["deep/1"]},
		{"links/skipped/invalid", count["attr"], count["attr"]},
		{"links/skipped/offsite", 50_000 * count["links"], 50_000 * count["links"]},
		{"requests/duplicate", hostileLists * hostileProducts * count["links"], 1 << 62},
		{"requests/depth_limit", count["calendar"], 1 << 62},
		{"robots/fetched", 1, 1},
	}
	for _, w := range wantCounters {
		if n := c[w.name]; n < w.min || n > w.max {
			if w.min == w.max {
				t.Errorf("counter %s = %d, want %d", w.name, n, w.min)
			} else {
				t.Errorf("counter %s = %d, want at least %d", w.name, n, w.min)
			}
		}
	}
	// An endless chain of redirects is followed 10 hops, no more.
	for _, f := range site.faults() {
		if f.kind == "loop" && f.variant == 1 {
			hop := func(k int) int { return site.hit(fmt.Sprintf("/h/loop/1/%d/%d", f.n, k)) }
			if hop(10) != 1 || hop(11) != 0 {
				t.Errorf("redirect chain %d: hop 10 requested %d times, hop 11 %d times; want 1 and 0", f.n, hop(10), hop(11))
			}
		}
	}
	// The trap is cut at --depth: no calendar has more pages than that.
	for _, f := range site.faults() {
		if f.kind != "calendar" {
			continue
		}
		pages := 0
		for d := range hostileDepth + 2 {
			pages += site.hit(fmt.Sprintf("/cal/%d/%s", f.n, calendarStart(f.n).AddDate(0, 0, d).Format(time.DateOnly)))
		}
		if pages == 0 || pages > hostileDepth {
			t.Errorf("calendar %d: %d pages fetched, want 1 to %d", f.n, pages, hostileDepth)
		}
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
