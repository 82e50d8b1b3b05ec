package downloader

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"

	"crawl/stats"
)

// InvalidUTF8 is the Stats counter of HTML pages in UTF-8 (declared, or
// found to be) that held bytes that are not UTF-8; toUTF8 replaces them.
const InvalidUTF8 = "html/invalid_utf8"

// isHTML reports whether a media type is one whose body toUTF8 decodes.
func isHTML(mediaType string) bool {
	return mediaType == "text/html" || mediaType == "application/xhtml+xml"
}

var utf8BOM = []byte("\xef\xbb\xbf")

// toUTF8 makes an HTML response's body UTF-8 and records the charset it was
// in. The charset is found as a browser finds it (the WHATWG encoding
// sniffing algorithm, golang.org/x/net/html/charset): a byte order mark,
// else the charset of contentType, else a <meta charset> or <meta
// http-equiv="Content-Type"> in the first 1024 bytes. With none of these a
// browser would assume windows-1252; toUTF8 first checks whether the whole
// body is valid UTF-8, which undeclared pages nowadays almost always are.
// A byte order mark is dropped. A UTF-8 body with bytes that are not UTF-8
// gets U+FFFD for each bad sequence, as a browser shows it, so that items,
// regexes and the output only ever see valid text; it is counted as
// InvalidUTF8. The Content-Type gets "charset=utf-8" whenever it named
// another charset or the body was decoded, so that the header says what
// the body now is.
func (d *Downloader) toUTF8(resp *Response, contentType string) {
	enc, name, certain := charset.DetermineEncoding(resp.Body, contentType)
	if name == "utf-8" || !certain && name == "windows-1252" {
		valid := utf8.Valid(resp.Body)
		if !certain && name == "windows-1252" && valid {
			name = "utf-8"
		}
		if name == "utf-8" && !valid {
			if body, err := enc.NewDecoder().Bytes(resp.Body); err == nil {
				resp.Body = body
				d.st.Inc(InvalidUTF8)
			}
		}
	}
	resp.Charset = name
	transcoded := false
	if name != "utf-8" {
		body, err := enc.NewDecoder().Bytes(resp.Body)
		if err != nil {
			return // keep the bytes as they came: better than nothing
		}
		resp.Body, transcoded = body, true
		d.st.Inc(stats.Charset + name)
	}
	resp.Body = bytes.TrimPrefix(resp.Body, utf8BOM) // a UTF-16 BOM decodes to U+FEFF too
	ct := resp.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = mediaType(ct), map[string]string{}
	}
	if cs, ok := params["charset"]; !transcoded && (!ok || strings.EqualFold(cs, "utf-8")) {
		return // the header does not contradict the body
	}
	params["charset"] = "utf-8"
	if s := mime.FormatMediaType(mt, params); s != "" {
		resp.Header.Set("Content-Type", s)
	} else {
		resp.Header.Set("Content-Type", "text/html; charset=utf-8")
	}
}
