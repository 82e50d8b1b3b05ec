package engine

import (
	"net/http"
	"strings"
)

// sniffHTML applies the WHATWG MIME sniffing algorithm, as net/http does,
// to a body served without a Content-Type.
func sniffHTML(body []byte) bool {
	return strings.HasPrefix(http.DetectContentType(body), "text/html")
}
