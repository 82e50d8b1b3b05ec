package robots

import (
	"flag"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// check is one question put to a robots.txt: may agent fetch path?
type check struct {
	agent, path string
	want        bool
}

func runChecks(t *testing.T, body string, checks []check) {
	t.Helper()
	r := Parse([]byte(body))
	for _, c := range checks {
		if got := r.Agent(c.agent).Allowed(c.path); got != c.want {
			t.Errorf("Agent(%q).Allowed(%q): got %v, want %v", c.agent, c.path, got, c.want)
		}
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFCExamples runs the examples of RFC 9309 section 5.
func TestRFCExamples(t *testing.T) {
	tests := []struct {
		fixture string
		checks  []check
	}{
		{"rfc9309_simple.txt", []check{
			// "*": everyone without a group of their own.
			{"otherbot", "/", true},
			{"otherbot", "/example/", false},
			{"otherbot", "/example/page.html", false},
			{"otherbot", "/publications/", true},
			{"otherbot", "/publications/report.pdf", true},
			{"otherbot", "/image.gif", false},
			{"otherbot", "/img/logo.gif", false},
			{"otherbot", "/image.gif?size=2", true}, // "$" anchors the end of path and query
			{"otherbot", "/publications/cover.gif", true},
			// foobot: only two URLs.
			{"foobot", "/", false},
			{"foobot", "/example/page.html", true},
			{"foobot", "/example/allowed.gif", true},
			{"foobot", "/example/other.html", false},
			{"foobot", "/publications/", false},
			{"FooBot", "/example/page.html", true},
			{"foobot/2.1 (+https://foo.example/bot)", "/", false},
			// barbot and bazbot share a group.
			{"barbot", "/example/page.html", false},
			{"bazbot", "/example/page.html", false},
			{"barbot", "/example/page.html.bak", false},
			{"bazbot", "/example/", true},
			{"barbot", "/image.gif", true},
			// quxbot: an empty group at the end of the file allows everything.
			{"quxbot", "/", true},
			{"quxbot", "/example/page.html", true},
			{"quxbot", "/image.gif", true},
		}},
		{"rfc9309_longest.txt", []check{
			{"foobot", "/example/page/disallowed.gif", false},
			{"foobot", "/example/page/allowed.gif", true},
			{"foobot", "/example/page/", true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			runChecks(t, string(readFixture(t, tt.fixture)), tt.checks)
		})
	}
}

func TestGroups(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		checks []check
	}{
		{"rules before any user-agent are ignored",
			"Disallow: /\nAllow: /x\nUser-agent: *\nDisallow: /y\n",
			[]check{{"crawl", "/", true}, {"crawl", "/y", false}}},
		{"user-agent after a rule starts a new group",
			"User-agent: a\nDisallow: /a\nUser-agent: b\nDisallow: /b\n",
			[]check{{"a", "/a", false}, {"a", "/b", true}, {"b", "/a", true}, {"b", "/b", false}}},
		{"consecutive user-agent lines share a group",
			"User-agent: a\nUser-agent: b\nDisallow: /x\n",
			[]check{{"a", "/x", false}, {"b", "/x", false}, {"c", "/x", true}}},
		{"blank lines and comments do not split the user-agent lines",
			"User-agent: a\n\n# and\nUser-agent: b\n\nDisallow: /x\n",
			[]check{{"a", "/x", false}, {"b", "/x", false}}},
		{"crawl-delay does not close a group",
			"User-agent: a\nCrawl-delay: 1\nUser-agent: b\nDisallow: /x\n",
			[]check{{"a", "/x", false}, {"b", "/x", false}}},
		{"sitemap does not close a group",
			"User-agent: a\nSitemap: https://example.com/s.xml\nUser-agent: b\nDisallow: /x\n",
			[]check{{"a", "/x", false}, {"b", "/x", false}}},
		{"unknown lines do not close a group",
			"User-agent: a\nNoindex: /y\nUser-agent: b\nDisallow: /x\n",
			[]check{{"a", "/x", false}, {"b", "/x", false}}},
		{"sitemap between rules keeps the group",
			"User-agent: a\nDisallow: /x\nSitemap: https://example.com/s.xml\nDisallow: /y\nUser-agent: b\nDisallow: /z\n",
			[]check{{"a", "/y", false}, {"a", "/z", true}, {"b", "/y", true}, {"b", "/z", false}}},
		{"an empty disallow is a rule that ends the user-agent lines",
			"User-agent: a\nDisallow:\nUser-agent: b\nDisallow: /\n",
			[]check{{"a", "/x", true}, {"b", "/x", false}}},
		{"groups naming the same agent are merged (RFC 9309 2.2.1)",
			"user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: ExampleBot\ndisallow: /baz\n",
			[]check{{"ExampleBot", "/foo", false}, {"ExampleBot", "/bar", false}, {"ExampleBot", "/baz", false}, {"ExampleBot", "/qux", true}}},
		{"merged groups compete by length",
			"User-agent: a\nDisallow: /p\nUser-agent: b\nAllow: /\nUser-agent: A\nAllow: /p/q\n",
			[]check{{"a", "/p/q/r", true}, {"a", "/p/z", false}, {"b", "/p/z", true}}},
		{"merged groups: allow wins a tie across groups",
			"User-agent: a\nDisallow: /p\nUser-agent: b\nAllow: /\nUser-agent: a\nAllow: /p\n",
			[]check{{"a", "/p", true}}},
		{"the * groups are merged too",
			"User-agent: *\nDisallow: /a\nUser-agent: b\nAllow: /\nUser-agent: *\nDisallow: /c\n",
			[]check{{"x", "/a", false}, {"x", "/c", false}, {"x", "/b", true}}},
		{"* applies only when no group matches (RFC 9309 2.2.1)",
			"user-agent: *\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: BazBot\ndisallow: /baz\n",
			[]check{{"ExampleBot", "/foo", false}, {"ExampleBot", "/bar", false}, {"ExampleBot", "/baz", true},
				{"BazBot", "/foo", true}, {"BazBot", "/baz", false}}},
		{"a matching group without rules allows everything",
			"User-agent: *\nDisallow: /\n\nUser-agent: crawl\n",
			[]check{{"crawl", "/x", true}, {"other", "/x", false}}},
		{"a matching group with an empty disallow allows everything",
			"User-agent: crawl\nDisallow:\n\nUser-agent: *\nDisallow: /\n",
			[]check{{"crawl", "/x", true}, {"other", "/x", false}}},
		{"no groups at all allows everything",
			"# nothing here\n",
			[]check{{"crawl", "/x", true}}},
		{"no matching group and no * group allows everything",
			"User-agent: other\nDisallow: /\n",
			[]check{{"crawl", "/x", true}, {"other", "/x", false}}},
		{"agent names are compared case-insensitively",
			"User-agent: CRAWL\nDisallow: /x\n",
			[]check{{"crawl", "/x", false}, {"Crawl", "/x", false}}},
		{"the user-agent value's product token is matched",
			"User-agent: crawl/1.0\nDisallow: /x\n",
			[]check{{"crawl", "/x", false}}},
		{"the crawler's product token is matched",
			"User-agent: crawl\nDisallow: /x\n",
			[]check{{"crawl/0.1 (+https://example.com/bot)", "/x", false}, {"  crawl/0.1", "/x", false}}},
		{"product tokens match whole, not by prefix",
			"User-agent: crawl-images\nDisallow: /x\nUser-agent: crawl\nDisallow: /y\n",
			[]check{{"crawl", "/x", true}, {"crawl", "/y", false}, {"crawl-images", "/x", false}, {"crawl-images", "/y", true}}},
		{"* followed by a comment or more words is still *",
			"User-agent: * # everyone\nDisallow: /x\nUser-agent: other\nUser-agent: * and more\nDisallow: /y\n",
			[]check{{"crawl", "/x", false}, {"crawl", "/y", false}}},
		{"*bot is not *",
			"User-agent: *bot\nDisallow: /x\n",
			[]check{{"crawl", "/x", true}, {"bot", "/x", true}}},
		{"an agent without a product token gets the * group",
			"User-agent: *\nDisallow: /x\n",
			[]check{{"", "/x", false}, {"*", "/x", false}, {"/1.0", "/x", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runChecks(t, tt.body, tt.checks) })
	}
}

// TestPrecedence covers the longest-match rule, with Google's documented
// examples (developers.google.com/search/docs/crawling-indexing/robots/robots_txt).
func TestPrecedence(t *testing.T) {
	tests := []struct {
		rules string
		path  string
		want  bool
	}{
		{"allow: /p\ndisallow: /", "/page", true},
		{"disallow: /\nallow: /p", "/page", true},
		{"allow: /folder\ndisallow: /folder", "/folder/page", true},
		{"disallow: /folder\nallow: /folder", "/folder/page", true},
		{"allow: /page\ndisallow: /*.htm", "/page.htm", false},
		{"allow: /page\ndisallow: /*.ph", "/page.php5", true}, // equal length: allow wins
		{"allow: /$\ndisallow: /", "/", true},
		{"allow: /$\ndisallow: /", "/page.htm", false},
		{"allow: /$\ndisallow: /", "", true},
		{"allow: /*.x\ndisallow: /a.x", "/a.x", true},      // equal length: allow wins
		{"allow: /a\ndisallow: /a*", "/a", false},          // a trailing * counts
		{"allow: /a/bc\ndisallow: /a/%62c", "/a/bc", true}, // lengths are canonical: 5 and 5
		{"disallow: /a\nallow: /a/b\ndisallow: /a/b/c", "/a/b/c/d", false},
		{"disallow: /a\nallow: /a/b\ndisallow: /a/b/c", "/a/b/x", true},
		{"disallow: /a\nallow: /a/b\ndisallow: /a/b/c", "/a/x", false},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.rules, "\n", "; ")+" "+tt.path, func(t *testing.T) {
			runChecks(t, "user-agent: *\n"+tt.rules+"\n", []check{{"crawl", tt.path, tt.want}})
		})
	}
}

// TestPatterns covers "*", "$" and their escapes (RFC 9309 section 2.2.3).
// match says whether "Disallow: pattern" applies to path.
func TestPatterns(t *testing.T) {
	tests := []struct {
		pattern, path string
		match         bool
	}{
		{"/fish", "/fish", true},
		{"/fish", "/fish.html", true},
		{"/fish", "/fish/salmon.html", true},
		{"/fish", "/Fish.asp", false},
		{"/fish", "/catfish", false},
		{"/fish", "/?id=fish", false},
		{"/fish*", "/fishheads", true},
		{"/fish/", "/fish", false},
		{"/*.php", "/index.php", true},
		{"/*.php", "/folder/any.php.file.html", true},
		{"/*.php", "/windows.PHP", false},
		{"/*.php$", "/filename.php", true},
		{"/*.php$", "/folder/filename.php", true},
		{"/*.php$", "/filename.php?parameters", false},
		{"/*.php$", "/filename.php/", false},
		{"/fish*.php", "/fish.php", true},
		{"/fish*.php", "/fishheads/catfish.php?parameters", true},
		{"/fish*.php", "/Fish.PHP", false},
		{"*.gif$", "/a/b.gif", true},
		{"/*", "/", true},
		{"*", "/anything?at=all", true},
		{"/a*b*c", "/abc", true},
		{"/a*b*c", "/aXbYc", true},
		{"/a*b*c", "/acb", false},
		{"/a*b$", "/ab", true},
		{"/a*b$", "/axxb", true},
		{"/a*b$", "/abab", true},
		{"/a*b$", "/abx", false},
		{"/a*b$", "/a", false},
		{"/a**b", "/a/x/b", true},
		{"/a*$", "/a", true},
		{"/a*$", "/abc", true},
		{"/$", "/", true},
		{"/$", "", true},
		{"/$", "/x", false},
		{"/a$b", "/a$b", true}, // "$" is an anchor only at the end
		{"/a$b", "/a%24b", true},
		{"/a$b", "/ab", false},
		{"/a$$", "/a$", true},
		{"/a$$", "/a$b", false},
		{"/path/file-with-a-%2A.html", "/path/file-with-a-*.html", true},
		{"/path/file-with-a-%2A.html", "/path/file-with-a-%2a.html", true},
		{"/path/file-with-a-%2A.html", "/path/file-with-a-x.html", false},
		{"/path/foo-%24", "/path/foo-$", true},
		{"/path/foo-%24", "/path/foo-%24", true},
		{"/path/foo-%24", "/path/foo-x", false},
		{"/?", "/?x", true},
		{"/?", "/x", false},
		{"/*?", "/a?b", true},
		{"/*?", "/a", false},
		{"/a:b", "/a:bc", true},
		{"/a#b", "/abc", true}, // "#" starts a comment: the rule is "/a"
		{"page", "/page", false},
		{"$", "/", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			runChecks(t, "user-agent: *\ndisallow: "+tt.pattern+"\n", []check{{"crawl", tt.path, !tt.match}})
		})
	}
}

// TestPercentEncoding covers RFC 9309 section 2.2.2, starting with its
// table of examples. match says whether "Disallow: rule" applies to path.
func TestPercentEncoding(t *testing.T) {
	tests := []struct {
		name, rule, path string
		match            bool
	}{
		{"rfc plain query", "/foo/bar?baz=quz", "/foo/bar?baz=quz", true},
		{"rfc url in query as written", "/foo/bar?baz=https://foo.bar", "/foo/bar?baz=https://foo.bar", true},
		{"rfc url in query encoded", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", true},
		{"rfc url in query, hex case differs", "/foo/bar?baz=https%3a%2f%2ffoo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", true},
		{"reserved characters are not decoded", "/foo/bar?baz=https://foo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", false},
		{"reserved escapes are not decoded", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", "/foo/bar?baz=https://foo.bar", false},
		{"rfc non-ASCII rule", "/foo/bar/\u30c4", "/foo/bar/%E3%83%84", true},
		{"rfc encoded non-ASCII", "/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84", true},
		{"non-ASCII path", "/foo/bar/%E3%83%84", "/foo/bar/\u30c4", true},
		{"non-ASCII both", "/foo/bar/\u30c4", "/foo/bar/\u30c4", true},
		{"lower-case hex", "/foo/bar/%e3%83%84", "/foo/bar/%E3%83%84", true},
		{"rfc encoded unreserved", "/foo/bar/%62%61%7A", "/foo/bar/baz", true},
		{"encoded unreserved in the path", "/foo/bar/baz", "/foo/bar/%62%61%7a", true},
		{"tilde encoded in rule", "/%7Efoo", "/~foo", true},
		{"tilde encoded in path", "/~foo", "/%7efoo", true},
		{"jörg", "/foo/jörg", "/foo/j%C3%B6rg", true},
		{"jörg encoded", "/foo/j%c3%b6rg", "/foo/jörg", true},
		{"encoded slash is not a slash", "/a%2Fb", "/a/b", false},
		{"slash is not an encoded slash", "/a/b", "/a%2fb", false},
		{"plus is not %2B", "/a+b", "/a%2Bb", false},
		{"%2b is %2B", "/a%2bb", "/a%2Bb", true},
		{"space", "/a b", "/a%20b", true},
		{"stray percent in rule", "/100%", "/100%25", true},
		{"stray percent in path", "/100%25", "/100%", true},
		{"incomplete escape", "/a%2", "/a%252", true},
		{"invalid UTF-8", "/\xff", "/%FF", true},
		{"NUL", "/a\x00b", "/a%00b", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runChecks(t, "user-agent: *\ndisallow: "+tt.rule+"\n", []check{{"crawl", tt.path, !tt.match}})
		})
	}
}

func TestNormalizePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/a/b?c=d&e=f", "/a/b?c=d&e=f"},
		{"/a#frag", "/a"},
		{"#frag", "/"},
		{"?q", "/?q"},
		{"a", "/a"},
		{"/%7e%7E", "/~~"},
		{"/%41%5a%30%2d%2e%5f", "/AZ0-._"},
		{"/%2f%3a%3F", "/%2F%3A%3F"},
		{"/*", "/%2A"},
		{"/$", "/%24"},
		{"/a b", "/a%20b"},
		{"/ö", "/%C3%B6"},
		{"/%", "/%25"},
		{"/%zz", "/%25zz"},
		{"/%4", "/%254"},
		{"/%%41", "/%25A"},
		{"/a\x00\x7f", "/a%00%7F"},
		{"/<>\"{}|\\^`", "/%3C%3E%22%7B%7D%7C%5C%5E%60"},
		{"/:@!&'()+,;=[]", "/:@!&'()+,;=[]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := normalizePath(tt.in)
			if got != tt.want {
				t.Errorf("normalizePath(%q): got %q, want %q", tt.in, got, tt.want)
			}
			if again := normalizePath(got); again != got {
				t.Errorf("normalizePath(%q): got %q, want it unchanged", got, again)
			}
		})
	}
}

func TestCompileRule(t *testing.T) {
	tests := []struct {
		value  string
		ok     bool
		text   string
		length int
	}{
		{"/", true, "/", 1},
		{"/a*b$", true, "/a*b$", 5},
		{"/a**b", true, "/a*b", 4},
		{"/a***", true, "/a*", 3},
		{"/a$b", true, "/a%24b", 6},
		{"/%2a", true, "/%2A", 4},
		{"/%62%61%7A", true, "/baz", 4},
		{"*.gif$", true, "*.gif$", 6},
		{"/\u30c4", true, "/%E3%83%84", 10},
		{"", false, "", 0},
		{"page", false, "", 0},
		{"$", false, "", 0},
		{"%2F", false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			r, ok := compileRule(tt.value, false)
			if ok != tt.ok {
				t.Fatalf("compileRule(%q): got ok %v, want %v", tt.value, ok, tt.ok)
			}
			if r.text != tt.text || r.length != tt.length {
				t.Errorf("compileRule(%q): got %q (length %d), want %q (length %d)", tt.value, r.text, r.length, tt.text, tt.length)
			}
		})
	}
}

func TestSyntax(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		checks []check
	}{
		{"comments",
			"# top\nUser-agent: * # all\nDisallow: /x # secret\n# Disallow: /y\n   # indented\n",
			[]check{{"crawl", "/x", false}, {"crawl", "/y", true}}},
		{"whitespace around keys and values",
			"  User-agent :   *  \n\t Disallow\t:\t/x\t\n",
			[]check{{"crawl", "/x", false}}},
		{"no space after the colon",
			"User-agent:*\nDisallow:/x\n",
			[]check{{"crawl", "/x", false}}},
		{"keys are case-insensitive",
			"USER-AGENT: *\nDISALLOW: /x\nAlLoW: /x/y\n",
			[]check{{"crawl", "/x", false}, {"crawl", "/x/y", true}}},
		{"values are case-sensitive",
			"User-agent: *\nDisallow: /X\n",
			[]check{{"crawl", "/x", true}, {"crawl", "/X", false}}},
		{"misspellings Google accepts",
			"useragent: a\ndisalow: /1\nuser agent: b\ndissallow: /2\nUser-Agent: c\ndissalow: /3\nuser-agent: d\ndiasllow: /4\nuser-agent: e\ndisallaw: /5\n",
			[]check{{"a", "/1", false}, {"b", "/2", false}, {"c", "/3", false}, {"d", "/4", false}, {"e", "/5", false}}},
		{"unknown keys are ignored",
			"User-agent: *\nNoindex: /x\nDisallowed: /y\nDisallow: /z\n",
			[]check{{"crawl", "/x", true}, {"crawl", "/y", true}, {"crawl", "/z", false}}},
		{"whitespace instead of a colon",
			"User-agent *\nDisallow /x\nDisallow /y /z\n",
			[]check{{"crawl", "/x", false}, {"crawl", "/y", true}}},
		{"lines without a key are ignored",
			"User-agent: *\n: /x\nDisallow: /y\n",
			[]check{{"crawl", "/x", true}, {"crawl", "/y", false}}},
		{"UTF-8 byte order mark",
			"\xEF\xBB\xBFUser-agent: *\nDisallow: /x\n",
			[]check{{"crawl", "/x", false}}},
		{"LF line ends",
			"User-agent: a\nDisallow: /x\nAllow: /x/y\nUser-agent: b\nDisallow: /z",
			[]check{{"a", "/x", false}, {"a", "/x/y", true}, {"b", "/z", false}, {"b", "/x", true}}},
		{"CR line ends",
			"User-agent: a\rDisallow: /x\rAllow: /x/y\rUser-agent: b\rDisallow: /z",
			[]check{{"a", "/x", false}, {"a", "/x/y", true}, {"b", "/z", false}, {"b", "/x", true}}},
		{"CRLF line ends",
			"User-agent: a\r\nDisallow: /x\r\nAllow: /x/y\r\nUser-agent: b\r\nDisallow: /z\r\n",
			[]check{{"a", "/x", false}, {"a", "/x/y", true}, {"b", "/z", false}, {"b", "/x", true}}},
		{"mixed line ends and blank lines",
			"User-agent: a\r\n\r\n\rDisallow: /x\n\r\nAllow: /x/y\r\r\nUser-agent: b\nDisallow: /z",
			[]check{{"a", "/x", false}, {"a", "/x/y", true}, {"b", "/z", false}, {"b", "/x", true}}},
		{"empty disallow matches nothing",
			"User-agent: *\nDisallow:\n",
			[]check{{"crawl", "/", true}, {"crawl", "/x", true}}},
		{"empty disallow beside others",
			"User-agent: *\nDisallow: \nDisallow: /x\nAllow:\n",
			[]check{{"crawl", "/x", false}, {"crawl", "/y", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runChecks(t, tt.body, tt.checks) })
	}
}

func TestRobotsTxtAlwaysAllowed(t *testing.T) {
	tests := []struct {
		name string
		r    *Robots
	}{
		{"disallow /", Parse([]byte("User-agent: *\nDisallow: /\n"))},
		{"disallow /robots.txt", Parse([]byte("User-agent: *\nDisallow: /robots.txt\nDisallow: /\n"))},
		{"disallow *", Parse([]byte("User-agent: *\nDisallow: *\n"))},
		{"DisallowAll", DisallowAll()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.r.Agent("crawl")
			for _, p := range []string{"/robots.txt", "/robots.txt?v=2", "/%72obots.txt", "/robots.txt#x"} {
				if !g.Allowed(p) {
					t.Errorf("Allowed(%q): got false, want true", p)
				}
			}
			for _, p := range []string{"/robots.txtx", "/robots.txt/", "/Robots.txt", "/a/robots.txt"} {
				if g.Allowed(p) {
					t.Errorf("Allowed(%q): got true, want false", p)
				}
			}
		})
	}
}

func TestCrawlDelay(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		agent string
		want  time.Duration
		ok    bool
	}{
		{"whole seconds", "User-agent: *\nCrawl-delay: 10\n", "crawl", 10 * time.Second, true},
		{"fraction", "User-agent: *\nCrawl-delay: 0.5\n", "crawl", 500 * time.Millisecond, true},
		{"leading dot", "User-agent: *\nCrawl-delay: .25\n", "crawl", 250 * time.Millisecond, true},
		{"trailing dot", "User-agent: *\nCrawl-delay: 3.\n", "crawl", 3 * time.Second, true},
		{"comment", "User-agent: *\nCrawl-delay: 1.5 # be nice\n", "crawl", 1500 * time.Millisecond, true},
		{"zero", "User-agent: *\nCrawl-delay: 0\n", "crawl", 0, true},
		{"key spelled crawldelay", "User-agent: *\ncrawldelay: 2\n", "crawl", 2 * time.Second, true},
		{"huge", "User-agent: *\nCrawl-delay: 99999999999999999999999\n", "crawl", math.MaxInt64, true},
		{"negative", "User-agent: *\nCrawl-delay: -1\n", "crawl", 0, false},
		{"word", "User-agent: *\nCrawl-delay: soon\n", "crawl", 0, false},
		{"exponent", "User-agent: *\nCrawl-delay: 1e3\n", "crawl", 0, false},
		{"hex", "User-agent: *\nCrawl-delay: 0x10\n", "crawl", 0, false},
		{"infinity", "User-agent: *\nCrawl-delay: Inf\n", "crawl", 0, false},
		{"two dots", "User-agent: *\nCrawl-delay: 1.2.3\n", "crawl", 0, false},
		{"only a dot", "User-agent: *\nCrawl-delay: .\n", "crawl", 0, false},
		{"empty", "User-agent: *\nCrawl-delay:\n", "crawl", 0, false},
		{"none", "User-agent: *\nDisallow: /\n", "crawl", 0, false},
		{"before any user-agent", "Crawl-delay: 5\nUser-agent: *\nDisallow: /x\n", "crawl", 0, false},
		{"first wins", "User-agent: *\nCrawl-delay: 2\nCrawl-delay: 3\n", "crawl", 2 * time.Second, true},
		{"first valid wins", "User-agent: *\nCrawl-delay: x\nCrawl-delay: 3\n", "crawl", 3 * time.Second, true},
		{"after the rules", "User-agent: *\nDisallow: /x\nCrawl-delay: 4\n", "crawl", 4 * time.Second, true},
		{"from a merged group", "User-agent: a\nDisallow: /\nUser-agent: a\nCrawl-delay: 4\n", "a", 4 * time.Second, true},
		{"first merged group wins", "User-agent: a\nCrawl-delay: 1\nDisallow: /\nUser-agent: a\nCrawl-delay: 4\n", "a", time.Second, true},
		{"shared by the group's agents", "User-agent: a\nCrawl-delay: 2\nUser-agent: b\nDisallow: /\n", "b", 2 * time.Second, true},
		{"not from the * group when a group matches", "User-agent: *\nCrawl-delay: 2\nDisallow: /x\nUser-agent: a\nDisallow: /\n", "a", 0, false},
		{"from the * group otherwise", "User-agent: *\nCrawl-delay: 2\nDisallow: /x\nUser-agent: a\nDisallow: /\n", "b", 2 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse([]byte(tt.body)).Agent(tt.agent).CrawlDelay()
			if got != tt.want || ok != tt.ok {
				t.Errorf("CrawlDelay(): got %v, %v, want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSitemaps(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"none", "User-agent: *\nDisallow: /\n", nil},
		{"anywhere, in order",
			"Sitemap: https://example.com/a.xml\nUser-agent: *\nSITEMAP: https://example.com/b.xml\nDisallow: /\nsite-map: https://example.com/c.xml # comment\n",
			[]string{"https://example.com/a.xml", "https://example.com/b.xml", "https://example.com/c.xml"}},
		{"repeats dropped",
			"Sitemap: https://example.com/a.xml\nSitemap: https://example.com/b.xml\nSitemap: https://example.com/a.xml\n",
			[]string{"https://example.com/a.xml", "https://example.com/b.xml"}},
		{"empty ignored", "Sitemap:\nSitemap: # none\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse([]byte(tt.body)).Sitemaps()
			if !slices.Equal(got, tt.want) {
				t.Errorf("Sitemaps(): got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("the slice is the caller's", func(t *testing.T) {
		r := Parse([]byte("Sitemap: https://example.com/a.xml\n"))
		r.Sitemaps()[0] = "changed"
		if got := r.Sitemaps()[0]; got != "https://example.com/a.xml" {
			t.Errorf("Sitemaps()[0]: got %q, want %q", got, "https://example.com/a.xml")
		}
	})
}

func TestAllowAllDisallowAll(t *testing.T) {
	for _, p := range []string{"", "/", "/a", "/a?b"} {
		if !AllowAll().Agent("crawl").Allowed(p) {
			t.Errorf("AllowAll: Allowed(%q): got false, want true", p)
		}
		if DisallowAll().Agent("crawl").Allowed(p) {
			t.Errorf("DisallowAll: Allowed(%q): got true, want false", p)
		}
	}
	if d, ok := DisallowAll().Agent("crawl").CrawlDelay(); ok {
		t.Errorf("DisallowAll: CrawlDelay(): got %v, true, want none", d)
	}
}

func TestZeroValues(t *testing.T) {
	var nilRobots *Robots
	var nilGroup *Group
	tests := []struct {
		name string
		g    *Group
	}{
		{"nil Robots", nilRobots.Agent("crawl")},
		{"zero Robots", (&Robots{}).Agent("crawl")},
		{"nil Group", nilGroup},
		{"zero Group", &Group{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.g.Allowed("/x") {
				t.Errorf("Allowed(%q): got false, want true", "/x")
			}
			if d, ok := tt.g.CrawlDelay(); ok {
				t.Errorf("CrawlDelay(): got %v, true, want none", d)
			}
		})
	}
	if got := nilRobots.Sitemaps(); got != nil {
		t.Errorf("nil Robots: Sitemaps(): got %q, want nil", got)
	}
	if nilRobots.Agent("crawl") == nil {
		t.Error("nil Robots: Agent(): got nil, want a Group")
	}
}

func TestAllowedURL(t *testing.T) {
	g := Parse([]byte("User-agent: *\nDisallow: /a%2Fb\nDisallow: /*?q=\nDisallow: /p$\n")).Agent("crawl")
	tests := []struct {
		url  string
		want bool
	}{
		{"https://example.com", true},
		{"https://example.com/a%2Fb", false},
		{"https://example.com/a/b", true},
		{"https://example.com/s?q=go", false},
		{"https://example.com/p#section", false},
		{"https://example.com/p?", true},
		{"https://example.com/robots.txt", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.AllowedURL(u); got != tt.want {
				t.Errorf("AllowedURL(%s): got %v, want %v", tt.url, got, tt.want)
			}
		})
	}
}

func TestMaxSize(t *testing.T) {
	// pad fills prefix up to exactly n bytes with comment lines.
	pad := func(prefix string, n int) string {
		var b strings.Builder
		b.WriteString(prefix)
		for b.Len() < n {
			if left := n - b.Len(); left < 3 {
				b.WriteString(strings.Repeat("\n", left))
			} else {
				b.WriteString("# " + strings.Repeat("x", min(70, left-3)) + "\n")
			}
		}
		return b.String()
	}
	head := "User-agent: *\nDisallow: /a\n"
	tests := []struct {
		name   string
		body   string
		checks []check
	}{
		{"rules past MaxSize are ignored",
			pad(head, MaxSize) + "Disallow: /b\n",
			[]check{{"crawl", "/a", false}, {"crawl", "/b", true}}},
		{"a line cut by MaxSize is dropped",
			pad(head, MaxSize-len("Disallow: /priv")) + "Disallow: /private\n",
			[]check{{"crawl", "/a", false}, {"crawl", "/priv", true}, {"crawl", "/private", true}}},
		{"a line ending at MaxSize is kept",
			pad(head, MaxSize-len("Disallow: /private")) + "Disallow: /private\nDisallow: /b\n",
			[]check{{"crawl", "/private", false}, {"crawl", "/priv", true}, {"crawl", "/b", true}}},
		{"a line ending at MaxSize with CRLF is kept",
			pad(head, MaxSize-len("Disallow: /private\r")) + "Disallow: /private\r\nDisallow: /b\n",
			[]check{{"crawl", "/private", false}, {"crawl", "/b", true}}},
		{"one line longer than MaxSize",
			"Disallow: /" + strings.Repeat("x", MaxSize),
			[]check{{"crawl", "/x", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runChecks(t, tt.body, tt.checks) })
	}
}

// TestGolden parses each testdata/*.txt file and compares a dump of the
// result with testdata/*.golden. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			body := readFixture(t, filepath.Base(file))
			got := dump(Parse(body))
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("dump of %s:\ngot:\n%s\nwant:\n%s", file, got, want)
			}
		})
	}
}

// dump writes out what Parse understood, one agent at a time.
func dump(r *Robots) string {
	var b strings.Builder
	writeGroup := func(name string, g *Group) {
		fmt.Fprintf(&b, "agent %s\n", name)
		if d, ok := g.CrawlDelay(); ok {
			fmt.Fprintf(&b, "  crawl-delay %v\n", d)
		}
		for i, rules := range g.sets {
			if len(g.sets) > 1 {
				fmt.Fprintf(&b, "  group %d\n", i+1)
			}
			for _, r := range rules {
				verb := "disallow"
				if r.allow {
					verb = "allow"
				}
				fmt.Fprintf(&b, "    %-8s %s\n", verb, r.text)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.agents)) {
		writeGroup(name, r.agents[name])
	}
	if r.star != nil {
		writeGroup("*", r.star)
	}
	for _, s := range r.Sitemaps() {
		fmt.Fprintf(&b, "sitemap %s\n", s)
	}
	return b.String()
}

// TestConcurrentUse checks, under -race, that a parsed Robots can be shared.
func TestConcurrentUse(t *testing.T) {
	r := Parse(readFixture(t, "realistic.txt"))
	agents := []string{"crawl/0.1", "Googlebot", "bingbot", "GPTBot", "other", "yandex"}
	paths := []string{"/", "/cart", "/search?q=x", "/category/shoes/?page=2", "/static/a.css", "/a.pdf", "/promo/5305-watches/x"}
	want := make(map[string]bool)
	for _, a := range agents {
		for _, p := range paths {
			want[a+" "+p] = r.Agent(a).Allowed(p)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				for _, a := range agents {
					g := r.Agent(a)
					g.CrawlDelay()
					for _, p := range paths {
						if got := g.Allowed(p); got != want[a+" "+p] {
							t.Errorf("Agent(%q).Allowed(%q): got %v, want %v", a, p, got, want[a+" "+p])
							return
						}
					}
				}
				r.Sitemaps()
			}
		})
	}
	wg.Wait()
}
