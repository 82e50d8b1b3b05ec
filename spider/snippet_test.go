package spider_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"crawl/downloader"
	"crawl/item"
	"crawl/spider"
)

// page returns the response a fetch of a testdata file would give.
func shellPage(t *testing.T, file, ctype string) *downloader.Response {
	t.Helper()
	body, err := os.ReadFile("testdata/shell/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return &downloader.Response{
		URL: "http://shop.test/dir/" + file, Status: 200, Body: body,
		Header: http.Header{"Content-Type": {ctype}},
	}
}

// TestExpr evaluates the forms a field takes in a spider file, compiled
// on their own, as crawl shell does.
func TestExpr(t *testing.T) {
	html := shellPage(t, "shop.html", "text/html; charset=utf-8")
	js := shellPage(t, "shop.json", "application/json")
	for _, tt := range []struct {
		name, src string
		json      bool
		want      string // the fields as a JSON object, or the error
	}{
		{"css text", "h1::text", false, `{"expression":"Books & more"}`},
		{"css first of many", "li h3", false, `{"expression":"Dune"}`},
		{"all", "{css: li h3, all: true}", false, `{"expression":["Dune","Emma"]}`},
		{"join", "{css: li h3, join: ' / '}", false, `{"expression":"Dune / Emma"}`},
		{"attribute", "a.next::attr(href)", false, `{"expression":"page/2?b=2&a=1#top"}`},
		{"absolute", "{css: a.next::attr(href), absolute: true}", false, `{"expression":"http://shop.test/dir/page/2?b=2&a=1"}`},
		{"xpath and regex", `{xpath: '//p[@class="price"]', regex: '[\d.]+'}`, false, `{"expression":"9.50"}`},
		{"type", `{css: .price, regex: '[\d.]+', type: float}`, false, `{"expression":9.5}`},
		{"named groups", `{css: .price, regex: '(?P<currency>\D+)(?P<amount>[\d.]+)'}`, false, `{"currency":"£","amount":"9.50"}`},
		{"fallbacks", "[h2, h1::text]", false, `{"expression":"Books & more"}`},
		{"default", "{css: h2, default: none}", false, `{"expression":"none"}`},
		{"page URL", `"@url"`, false, `{"expression":"http://shop.test/dir/shop.html"}`},
		{"sub-items", "{each: li, fields: {title: h3, link: 'a::attr(href)'}}", false,
			`{"expression":[{"title":"Dune","link":"/book/1"},{"title":"Emma","link":"/book/2"}]}`},
		{"nothing", "h2", false, `{}`},
		{"json path", "name", true, `{"expression":"Shop"}`},
		{"json number", "count", true, `{"expression":2}`},
		{"json all", "{json: 'items[*].title', all: true}", true, `{"expression":["Dune","Emma"]}`},
		{"json object", "items[0]", true, `{"expression":{"id":1,"title":"Dune"}}`},
		{"json sub-items", "{each: items, fields: {id: id}}", true, `{"expression":[{"id":1},{"id":2}]}`},

		{"comment", "#price", false, `error: expression: # starts a YAML comment: quote the selector, as in a spider file: '#price'`},
		{"bad YAML", "{css: h1", false, `error: expression: invalid YAML: did not find expected ',' or '}'`},
		{"bad regex", "{css: h1, regex: '('}", false, "error: expression.regex: invalid regex"},
		{"misspelt key", "{csss: h1}", false, `error: expression: unknown key "csss" (did you mean "css"?)`},
		{"bad CSS", "h1[", false, "error: expression: invalid CSS selector"},
		{"bad XPath", "{xpath: '//['}", false, "error: expression.xpath: invalid XPath expression"},
		{"json on HTML", "{json: name}", false, "error: expression: json selects in JSON, and the page is read as HTML"},
		{"css on JSON", "{css: h1}", true, "error: expression: css selects in HTML, and the page is read as JSON"},
		{"no conversion", "{css: h1, type: int}", false, `error: "Books & more" is not an int`},
		{"not JSON", "name", true, "error: the body is not JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := html
			if tt.json {
				resp = js
			}
			if tt.name == "not JSON" {
				resp = html
			}
			got := evalExpr(tt.src, tt.json, resp)
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("%s: got %s, want %s", tt.src, got, tt.want)
			}
		})
	}
}

// evalExpr compiles and evaluates src, returning the fields as a JSON
// object or "error: " and the error.
func evalExpr(src string, isJSON bool, resp *downloader.Response) string {
	e, err := spider.CompileExpr(src, isJSON)
	if err != nil {
		return "error: " + err.Error()
	}
	fields, err := e.Eval(resp)
	if err != nil {
		return "error: " + err.Error()
	}
	js, err := (&item.Item{Fields: fields}).MarshalJSON()
	if err != nil {
		return "error: " + err.Error()
	}
	return string(js)
}

// TestSnippetsFollow checks the links follow entries given on their own
// take: a plain string is a selector, a mapping an entry as in the file.
func TestSnippetsFollow(t *testing.T) {
	html := shellPage(t, "shop.html", "text/html; charset=utf-8")
	js := shellPage(t, "shop.json", "application/json")
	for _, tt := range []struct {
		name, src string
		json      bool
		want      string
	}{
		{"css", "a.next", false, "follow[0] http://shop.test/dir/page/2?b=2&a=1"},
		{"mapping", "{css: li a, deny: '/2$'}", false, "follow[0] http://shop.test/book/1\nfollow[0] http://shop.test/book/2 denied"},
		{"every link", "", false, "follow[0] http://shop.test/book/1\nfollow[0] http://shop.test/book/2\nfollow[0] http://shop.test/dir/page/2?b=2&a=1\nfollow[0] https://elsewhere.example/x"},
		{"xpath", "{xpath: '//li/a/@href'}", false, "follow[0] http://shop.test/book/1\nfollow[0] http://shop.test/book/2"},
		{"json", "next", true, "follow[0] http://shop.test/api?page=2"},
		{"css on JSON", "{css: a}", true, "error: follow: css selects in HTML, and the page is read as JSON"},
		{"bad key", "{css: a, alow: x}", false, `error: follow: unknown key "alow" (did you mean "allow"?)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := spider.FromSnippets(spider.Snippets{Follow: []spider.Snippet{{Name: "follow", Src: tt.src}}, JSON: tt.json})
			var got string
			if err != nil {
				got = "error: " + err.Error()
			} else {
				resp := html
				if tt.json {
					resp = js
				}
				var lines []string
				for _, l := range s.Explain(resp).Links {
					line := l.From + " " + l.URL
					if l.Skip != "" {
						line += " " + l.Skip
					}
					lines = append(lines, line)
				}
				got = strings.Join(lines, "\n")
			}
			if got != tt.want {
				t.Errorf("%s: got\n%s\nwant\n%s", tt.src, got, tt.want)
			}
		})
	}
}

// TestLoadForPages checks that a spider tried on a page named elsewhere
// needs no start URLs, and is otherwise checked as Load checks it.
func TestLoadForPages(t *testing.T) {
	dir := t.TempDir()
	write := func(spec string) string {
		path := dir + "/s.yaml"
		if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	path := write("items: [{fields: {title: h1}}]\n")
	if _, err := spider.Load(path); err == nil || !strings.Contains(err.Error(), "no start URLs") {
		t.Errorf("Load: %v, want no start URLs", err)
	}
	if _, err := spider.LoadForPages(path); err != nil {
		t.Errorf("LoadForPages: %v", err)
	}
	path = write("items: [{fields: {title: {css: h1, regex: '('}}}]\n")
	if _, err := spider.LoadForPages(path); err == nil || !strings.Contains(err.Error(), "s.yaml:1:43: items[0].fields.title.regex: invalid regex") {
		t.Errorf("LoadForPages of a bad spider: %v", err)
	}
}
