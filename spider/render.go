package spider

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"crawl/downloader"
)

// The keys of a render mapping, and of an entry of its actions.
var (
	renderKeys = []string{"wait_for", "wait", "scroll", "actions", "block", "capture", "timeout"}
	actionKeys = []string{"click", "type", "wait_for", "scroll"}
	waitEvents = []string{downloader.WaitLoad, downloader.WaitDOMContentLoaded, downloader.WaitNetworkIdle}
)

// NeedsRender reports whether some page of the crawl is rendered in a
// browser: the spider has render at the top level or on a follow rule.
func (s *Spider) NeedsRender() bool {
	if s.render != nil {
		return true
	}
	for _, r := range s.follow {
		if r.render != nil {
			return true
		}
	}
	return false
}

// Render returns how the spider renders its start pages (the top-level
// render key), or nil when it does not.
func (s *Spider) Render() *downloader.Render { return s.render }

// renderOf returns how the pages a follow rule leads to are rendered: its
// own render key, else the spider's.
func (r *followRule) renderOf(s *Spider) *downloader.Render {
	if r.renderSet {
		return r.render
	}
	return s.render
}

// render compiles a render key: true, false, or a mapping of options. It
// returns nil for false (and for errors).
func (c *compiler) render(n *yaml.Node, path string) *downloader.Render {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		if on, ok := c.boolean(n, path); ok && on {
			return &downloader.Render{}
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		c.errorf(n, path, "want true, false or a mapping of %s, not %s", strings.Join(renderKeys, ", "), describe(n))
		return nil
	}
	r := &downloader.Render{}
	for _, p := range c.pairs(n, path, renderKeys, true) {
		key, val := p.key.Value, p.val
		field := path + "." + key
		switch key {
		case "wait_for":
			r.WaitFor = c.renderCSS(val, field)
		case "wait":
			r.Wait, r.Delay = c.renderWait(val, field)
		case "scroll":
			r.Scroll = c.renderCount(val, field)
		case "actions":
			for i, a := range c.seq(val, field) {
				if act, ok := c.renderAction(a, fmt.Sprintf("%s[%d]", field, i)); ok {
					r.Actions = append(r.Actions, act)
				}
			}
		case "block":
			for _, e := range c.strList(val, field) {
				if !contains(downloader.RenderBlockTypes, e.value) {
					c.errorf(e.node, e.path, "unknown resource type %s (want one of %s)", quote(e.value), strings.Join(downloader.RenderBlockTypes, ", "))
					continue
				}
				r.Block = append(r.Block, e.value)
			}
		case "capture":
			if v, ok := c.str(val, field); ok {
				if _, ok := c.regex(strNode{v, val, field}); ok {
					r.Capture = v
				}
			}
		case "timeout":
			r.Timeout = c.duration(val, field)
		}
	}
	return r
}

// renderAction compiles one entry of actions: a mapping of one key.
func (c *compiler) renderAction(n *yaml.Node, path string) (downloader.RenderAction, bool) {
	pairs := c.pairs(n, path, actionKeys, false)
	if len(pairs) != 1 {
		if resolve(n).Kind == yaml.MappingNode && len(pairs) > 1 {
			c.errorf(n, path, "want one action per entry (click, type, wait_for or scroll)")
		} else if resolve(n).Kind == yaml.MappingNode && len(resolve(n).Content) == 0 {
			c.errorf(n, path, "empty action (want click, type, wait_for or scroll)")
		}
		return downloader.RenderAction{}, false
	}
	key, val := pairs[0].key.Value, resolve(pairs[0].val)
	field := path + "." + key
	a := downloader.RenderAction{Kind: key}
	switch key {
	case "click", "wait_for":
		a.Selector = c.renderCSS(val, field)
		return a, a.Selector != ""
	case "scroll":
		a.N = c.renderCount(val, field)
		return a, a.N > 0
	default: // type: {CSS: text}
		kv := c.pairs(val, field, nil, false)
		if len(kv) != 1 {
			if val.Kind == yaml.MappingNode {
				c.errorf(val, field, "want one selector and the text to type into it, as {\"#q\": shoes}")
			}
			return a, false
		}
		a.Selector = c.renderCSS(kv[0].key, field)
		text, ok := c.str(kv[0].val, field+"."+kv[0].key.Value)
		a.Text = text
		return a, ok && a.Selector != ""
	}
}

// renderCSS checks a CSS selector the browser is to match.
func (c *compiler) renderCSS(n *yaml.Node, path string) string {
	v, ok := c.str(n, path)
	if !ok {
		return ""
	}
	if _, ok := c.css(n, path, v); !ok {
		return ""
	}
	return v
}

// renderCount is a count of scrolls: a positive integer.
func (c *compiler) renderCount(n *yaml.Node, path string) int {
	v, ok := c.integer(resolve(n), path)
	if !ok {
		return 0
	}
	if v < 1 || v > 1000 {
		c.errorf(n, path, "want a number of scrolls from 1 to 1000, not %d", v)
		return 0
	}
	return int(v)
}

// renderWait compiles wait: an event, or a duration to wait after the load.
func (c *compiler) renderWait(n *yaml.Node, path string) (string, time.Duration) {
	v, ok := c.str(n, path)
	if !ok {
		return "", 0
	}
	if contains(waitEvents, v) {
		return v, 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		c.errorf(n, path, "want load, domcontentloaded, networkidle or a duration such as 2s, not %s", quote(v))
		return "", 0
	}
	return downloader.WaitDelay, d
}

// duration compiles a positive duration such as 30s.
func (c *compiler) duration(n *yaml.Node, path string) time.Duration {
	v, ok := c.str(n, path)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		c.errorf(n, path, "want a duration such as 30s, not %s", quote(v))
		return 0
	}
	return d
}

// renderStarts has the start pages yielded through it rendered as the
// spider's render key says: every start request but sitemaps.
func (s *Spider) renderStarts(yield func(*downloader.Request, error) bool) func(*downloader.Request, error) bool {
	return func(r *downloader.Request, err error) bool {
		if r != nil && r.Rule != SitemapRule {
			r.Render = s.render
		}
		return yield(r, err)
	}
}
