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
	if declaredUTF8(resp, contentType) && utf8.Valid(resp.Body) {
		resp.Charset = "utf-8" // and nothing to change
		return
	}
	d.toUTF8Slow(resp, contentType)
}

// declaredUTF8 reports whether contentType, which is also the response's
// Content-Type, declares UTF-8 and no byte order mark says otherwise: the
// common case, in which toUTF8Slow leaves a valid body and the header as
// they are.
func declaredUTF8(resp *Response, contentType string) bool {
	if resp.Header.Get("Content-Type") != contentType || hasBOM(resp.Body) {
		return false
	}
	if asciiEqualFold(contentType, "text/html; charset=utf-8") {
		return true // as most servers write it, known without parsing it
	}
	_, params, err := mime.ParseMediaType(contentType)
	return err == nil && asciiEqualFold(params["charset"], "utf-8")
}

// asciiEqualFold is strings.EqualFold for ASCII only: "ſ" (U+017F) is not
// an "s" to a media type.
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// hasBOM reports whether body starts with a byte order mark that the
// encoding sniffing algorithm knows: UTF-8, UTF-16BE or UTF-16LE.
func hasBOM(body []byte) bool {
	return bytes.HasPrefix(body, utf8BOM) || bytes.HasPrefix(body, []byte{0xfe, 0xff}) || bytes.HasPrefix(body, []byte{0xff, 0xfe})
}

// toUTF8Slow is toUTF8 without its shortcut.
func (d *Downloader) toUTF8Slow(resp *Response, contentType string) {
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
