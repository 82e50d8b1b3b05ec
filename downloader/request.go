package downloader

import "net/http"

// Request is one page to fetch. URL is absolute and already resolved; the
// zero Method means GET. Depth is the number of links followed from a start
// request (start requests have depth 0).
//
// A Request is immutable once handed to the engine.
type Request struct {
	URL    string
	Method string
	Header http.Header
	Body   []byte
	Depth  int
	// Rule names the item rule that should handle the response, when the
	// link that produced the request asked for one; empty means every rule
	// whose URL pattern matches.
	Rule string
	// Lastmod is the <lastmod> of the sitemap entry that listed the URL,
	// as written there, or "": what "@lastmod" scrapes from the page.
	Lastmod string
	// PublicOnly lets the request connect only to public addresses when
	// Config.DenyPrivate is set. The engine sets it on a link found on a
	// page answered from a public address (Response.Public), or on a page
	// that was itself requested PublicOnly, so that no page on the web can
	// lead the crawl into this host or its networks. Start requests leave
	// it false: they may go anywhere the spider file says.
	PublicOnly bool
	// Render, when set, has the page rendered in a browser before it is
	// parsed; see Render. Nil parses the page as the server sent it.
	Render *Render
}

// Response is a fetched page. URL is the final URL after redirects; Body is
// the whole body as read (at most Config.MaxBody bytes), decompressed, and
// for an HTML page decoded to UTF-8.
type Response struct {
	Request   *Request
	URL       string
	Status    int
	Header    http.Header
	Body      []byte
	Truncated bool // the body was longer than Config.MaxBody and was cut there
	// Charset is the character encoding an HTML body came in, as a WHATWG
	// name ("utf-8", "shift_jis", "windows-1251"); Body has been decoded
	// from it to UTF-8. It is empty for other media types.
	Charset string
	// Raw is the body as it came, after undoing its Content-Encoding but
	// before any charset decoding: the same bytes as Body unless an HTML
	// body was decoded to UTF-8 (what `crawl fetch --raw` writes).
	Raw []byte
	// Public says that the answer came from a public address: one not in
	// Config.PrivateNets. It is false for local files and when no address
	// is known. Through a proxy it is judged by the host as written (see
	// Config.DenyPrivate); from the cache, by what was stored with it, or
	// true if nothing was.
	Public bool
	// Captured are the responses to the XHR and fetch requests that a
	// rendered page made and that Render.Capture matched, in the order
	// they arrived: each is parsed as a page of its own, for the items of
	// the API behind the page.
	Captured []*Response
}

// ContentType returns the media type of the response without parameters,
// lower-cased, e.g. "text/html".
func (r *Response) ContentType() string {
	return mediaType(r.Header.Get("Content-Type"))
}
