package robots

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// refMatch is the reference parser's matcher (github.com/google/robotstxt,
// RobotsMatchStrategy::Matches): it tracks every path position the pattern
// prefix can reach. It is slow but obviously right, and checks rule.match.
func refMatch(path, pattern string) bool {
	pos := []int{0}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == '$' && i == len(pattern)-1 {
			return pos[len(pos)-1] == len(path)
		}
		if c == '*' {
			next := make([]int, 0, len(path)-pos[0]+1)
			for p := pos[0]; p <= len(path); p++ {
				next = append(next, p)
			}
			pos = next
			continue
		}
		next := pos[:0]
		for _, p := range pos {
			if p < len(path) && path[p] == c {
				next = append(next, p+1)
			}
		}
		pos = next
		if len(pos) == 0 {
			return false
		}
	}
	return true
}

// refAllowed decides by trying every rule of g with refMatch, with no
// reliance on the rules' order.
func refAllowed(g *Group, pathAndQuery string) bool {
	p := normalizePath(pathAndQuery)
	if isRobotsTxt(p) {
		return true
	}
	bestLen, allow := -1, true
	for _, rules := range g.sets {
		for _, r := range rules {
			if !refMatch(p, r.text) {
				continue
			}
			if r.length > bestLen || r.length == bestLen && r.allow {
				bestLen, allow = r.length, r.allow
			}
		}
	}
	return allow
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, file := range files {
		f.Add(readFixture(f, filepath.Base(file)), "crawl", "/search?q=x")
	}
	f.Add([]byte("User-agent: *\nDisallow: /\n"), "crawl", "/robots.txt")
	f.Add([]byte("User-agent: *\nDisallow: /\nAllow: /$\n"), "crawl/0.1", "")
	f.Add([]byte("User-agent: crawl\nDisallow: /a*b$\nAllow: /a%2A\n"), "crawl", "/a*b")
	f.Add([]byte("\xEF\xBB\xBFuser-agent *\r\ndisalow /%e3%83%84\r\nCrawl-delay: .5"), "CRAWL", "/\u30c4")
	f.Add([]byte("User-agent: *\x00\nDisallow: /\x00\xff%\n"), "", "/\x00")
	f.Add([]byte("User-agent: *\nDisallow: /*$*$\nAllow: /**$$\n"), "x", "/$")
	f.Fuzz(func(t *testing.T, body []byte, agent, path string) {
		r := Parse(body)
		r.Sitemaps()
		for _, a := range []string{agent, "*", "", "crawl"} {
			g := r.Agent(a)
			g.CrawlDelay()
			if !g.Allowed("/robots.txt") {
				t.Fatalf("Agent(%q).Allowed(%q): got false, want true", a, "/robots.txt")
			}
			for _, p := range []string{path, "/", "/" + path} {
				if got, want := g.Allowed(p), refAllowed(g, p); got != want {
					t.Fatalf("Agent(%q).Allowed(%q): got %v, want %v (reference)", a, p, got, want)
				}
			}
		}
		if got, want := canonicalLen(path), len(canonical(path)); got != want {
			t.Fatalf("canonicalLen(%q): got %d, want %d", path, got, want)
		}
		if p := normalizePath(path); normalizePath(p) != p {
			t.Fatalf("normalizePath(%q) = %q: got %q on a second pass, want it unchanged", path, p, normalizePath(p))
		}
	})
}

// TestGarbage feeds Parse input no robots.txt should contain and checks it
// neither panics nor takes more time or memory than MaxSize warrants.
func TestGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	// Noise made of robots.txt's own vocabulary reaches deeper than random bytes.
	words := []string{"User-agent:", "Disallow:", "Allow:", "Sitemap:", "Crawl-delay:", "*", "$", "/", "%", "%2", "%4", "%e3",
		"#", ":", " ", "\t", "\n", "\r", "\r\n", "\x00", "\xff", "\xEF\xBB\xBF", "a", "crawl", "0.5", "?", "/a*b$"}
	vocabulary := func(n int) []byte {
		var b bytes.Buffer
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
		}
		return b.Bytes()
	}
	// Many agents named in many groups that each have many rules: a parser
	// that copied every group's rules to every agent would build millions,
	// and one that de-duplicated agents pairwise would compare millions.
	var manyAgents bytes.Buffer
	for g := 0; manyAgents.Len() < MaxSize; g++ {
		for a := range 2000 {
			manyAgents.WriteString("User-agent: bot" + letters(a) + "\n")
		}
		for i := range 2000 {
			fmt.Fprintf(&manyAgents, "Disallow: /%d/%d\n", g, i)
		}
	}
	var oneGroup bytes.Buffer
	for a := 0; oneGroup.Len() < MaxSize; a++ {
		oneGroup.WriteString("User-agent: " + letters(a) + "\n")
	}
	tests := []struct {
		name string
		body []byte
	}{
		{"random bytes", noise(64 << 10)},
		{"10 MB of noise", noise(10 << 20)},
		{"10 MB of robots.txt words", vocabulary(10 << 20)},
		{"one very long line", bytes.Repeat([]byte("Disallow: /a"), 1<<20)},
		{"a very long rule", []byte("User-agent: *\nDisallow: /" + strings.Repeat("a*", 200<<10) + "b\n")},
		{"a very long anchored rule", []byte("User-agent: *\nDisallow: /" + strings.Repeat("*a", 200<<10) + "$\n")},
		{"NUL bytes", []byte("User-agent: *\x00\nDisallow: /a\x00b\n\x00\x00\nDisallow:\x00/c\n\x00User-agent\x00: x\n")},
		{"only line ends", bytes.Repeat([]byte("\r\n\r"), 1<<20)},
		{"many agents and rules", manyAgents.Bytes()},
		{"many agents in one group", oneGroup.Bytes()},
	}
	paths := []string{"/", "/robots.txt", "/" + strings.Repeat("a", 100<<10), strings.Repeat("/a%", 10<<10), "/a\x00b", string(noise(1 << 10))}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			r := Parse(tt.body)
			parsed := time.Since(start)
			runtime.ReadMemStats(&after)
			// The rules are at most a few copies of the MaxSize bytes read.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32*MaxSize {
				t.Errorf("Parse allocated %d bytes, want at most %d", alloc, 32*MaxSize)
			}
			start = time.Now()
			for _, agent := range []string{"crawl", "botbcd", "*"} {
				g := r.Agent(agent)
				if !g.Allowed("/robots.txt") {
					t.Errorf("Agent(%q).Allowed(%q): got false, want true", agent, "/robots.txt")
				}
				for _, p := range paths {
					g.Allowed(p)
				}
			}
			matched := time.Since(start)
			t.Logf("parse %v, match %v", parsed, matched)
			// Generous bounds: the race detector and a busy machine slow
			// things down, but a quadratic blow-up would take minutes.
			if parsed > 5*time.Second || matched > 5*time.Second {
				t.Errorf("got parse %v, match %v, want each under 5s", parsed, matched)
			}
		})
	}
}

// letters spells n in base 26 with the letters a to z.
func letters(n int) string {
	s := string(rune('a' + n%26))
	for n /= 26; n > 0; n /= 26 {
		s = string(rune('a'+n%26)) + s
	}
	return s
}

// TestGarbageRules checks Allowed against the reference matcher on rules
// built from a small alphabet, where wildcards and escapes interact most.
func TestGarbageRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "/", "*", "$", "%", "%2A", "%24", "%61", "?", "="}
	word := func(n int) string {
		var b strings.Builder
		for range rng.IntN(n) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := range 2000 {
		var body strings.Builder
		body.WriteString("User-agent: *\n")
		for range 1 + rng.IntN(4) {
			verb := "Disallow: /"
			if rng.IntN(2) == 0 {
				verb = "Allow: /"
			}
			body.WriteString(verb + word(8) + "\n")
		}
		g := Parse([]byte(body.String())).Agent("crawl")
		for range 20 {
			p := "/" + word(10)
			if got, want := g.Allowed(p), refAllowed(g, p); got != want {
				t.Fatalf("case %d: %q: Allowed(%q): got %v, want %v (reference)", i, body.String(), p, got, want)
			}
		}
	}
}
