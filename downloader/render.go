package downloader

import "time"

// Render asks for a page to be rendered in a browser, its scripts run,
// before it is parsed: the Render field of a Request. A nil *Render means
// the page is parsed as the server sent it. The zero Render renders the
// page and takes its DOM once the load event has fired.
//
// A Render is immutable once set on a request; many requests share one.
type Render struct {
	// WaitFor is a CSS selector the page must match before its DOM is
	// taken. A page where it never matches fails within Timeout.
	WaitFor string
	// Wait is the event the page is given to settle after it is navigated
	// to: WaitLoad (also for ""), WaitDOMContentLoaded, WaitNetworkIdle
	// (the load event, then no request in flight for half a second), or
	// WaitDelay (the load event, then Delay).
	Wait string
	// Delay is how long a page whose Wait is WaitDelay is given after its
	// load event.
	Delay time.Duration
	// Scroll is how many times the page is scrolled to its bottom, each
	// time waiting for it to grow, for lists that load as they are scrolled.
	Scroll int
	// Actions run in order once the page has settled, before Scroll.
	Actions []RenderAction
	// Block lists the resource types the page may not load: "image",
	// "font", "media", "stylesheet".
	Block []string
	// Capture is a regular expression: the responses to the page's XHR
	// and fetch requests whose URL it matches become responses of their
	// own (Response.Captured). Empty captures nothing.
	Capture string
	// Timeout bounds the whole rendering of a page, waits and actions
	// included. Zero means the renderer's default.
	Timeout time.Duration
}

// The values of Render.Wait.
const (
	WaitLoad             = "load"
	WaitDOMContentLoaded = "domcontentloaded"
	WaitNetworkIdle      = "networkidle"
	WaitDelay            = "delay"
)

// RenderAction is one step of Render.Actions: exactly one of its forms.
type RenderAction struct {
	// Kind is "click", "type", "wait_for" or "scroll".
	Kind string
	// Selector is the CSS selector of the element clicked, typed into or
	// waited for.
	Selector string
	// Text is what "type" types.
	Text string
	// N is how many times "scroll" scrolls.
	N int
}

// RenderBlockTypes are the resource types Render.Block may name.
var RenderBlockTypes = []string{"image", "font", "media", "stylesheet"}
