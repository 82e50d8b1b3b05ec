package spider

import (
	"context"
	"reflect"
	"testing"
	"time"

	"crawl/downloader"
)

// TestRenderRequests checks which requests a spider asks to be rendered,
// and how: the top-level render for start pages and sitemap pages, a
// follow rule's own render for its links, overriding the top level.
func TestRenderRequests(t *testing.T) {
	const spec = `
start_urls: [http://a.test/]
sitemap_urls: [http://a.test/sitemap.xml]
render:
  wait_for: "#app li"
  wait: 1500ms
  scroll: 2
  block: [image, font]
  capture: /api/
  timeout: 20s
  actions:
    - click: button.more
    - type: {"#q": shoes}
    - wait_for: .results
    - scroll: 3
follow:
  - css: a.plain
    render: false
  - css: a.simple
    render: true
  - css: a.inherit
`
	s, err := Parse("render.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	top := &downloader.Render{
		WaitFor: "#app li", Wait: downloader.WaitDelay, Delay: 1500 * time.Millisecond, Scroll: 2,
		Block: []string{"image", "font"}, Capture: "/api/", Timeout: 20 * time.Second,
		Actions: []downloader.RenderAction{
			{Kind: "click", Selector: "button.more"}, {Kind: "type", Selector: "#q", Text: "shoes"},
			{Kind: "wait_for", Selector: ".results"}, {Kind: "scroll", N: 3},
		},
	}
	if !s.NeedsRender() || !reflect.DeepEqual(s.Render(), top) {
		t.Fatalf("NeedsRender %v, Render %+v, want %+v", s.NeedsRender(), s.Render(), top)
	}
	var starts []*downloader.Request
	for r, err := range s.StartRequests(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, r)
	}
	if len(starts) != 2 || starts[0].Render != s.Render() || starts[1].Render != nil {
		t.Errorf("start requests %+v %+v: want the page rendered, the sitemap not", starts[0], starts[1])
	}
	page := `<a class="plain" href="/p"></a><a class="simple" href="/s"></a><a class="inherit" href="/i"></a>`
	got := map[string]*downloader.Render{}
	for res := range s.Parse(htmlResponse("http://a.test/", []byte(page))) {
		if res.Request != nil {
			got[res.Request.URL] = res.Request.Render
		}
	}
	want := map[string]*downloader.Render{"http://a.test/p": nil, "http://a.test/s": {}, "http://a.test/i": top}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("links rendered as %+v, want %+v", got, want)
	}

	plain, err := Parse("plain.yaml", []byte("start_urls: [http://a.test/]\nfollow: [{css: a, render: {wait: networkidle}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !plain.NeedsRender() || plain.Render() != nil {
		t.Errorf("a spider rendering only a follow rule's pages: NeedsRender %v, Render %+v", plain.NeedsRender(), plain.Render())
	}
}
