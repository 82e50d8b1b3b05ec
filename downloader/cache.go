package downloader

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"crawl/urls"
)

// diskCache keeps responses in a directory, for development, like Scrapy's
// HTTPCACHE with its default (dummy) policy: a request that was answered
// once is answered from the directory until the entry expires. One file per
// request, named by the SHA-256 of the method, the canonical URL (as
// urls.DefaultCanon spells it) and the SHA-256 of the request body, under a
// directory named by its first two hex digits. A file is a line of JSON
// (the request, final URL, status, header, whether the body was truncated,
// when it was stored) followed by the body, decompressed and as it came
// (before any charset decoding). Files are written to a temporary name and
// renamed, so a reader never sees half of one, even from another process.
// A diskCache is safe for concurrent use.
type diskCache struct {
	dir string
	ttl time.Duration // 0: entries never expire
}

// cacheMeta is the first line of a cache file.
type cacheMeta struct {
	Request   string      `json:"request"` // method and URL, for people reading the file
	URL       string      `json:"url"`
	Status    int         `json:"status"`
	Header    http.Header `json:"header"`
	Truncated bool        `json:"truncated,omitempty"`
	// Public says whether the answer came from a public address; nil in
	// entries stored before it was recorded.
	Public *bool     `json:"public,omitempty"`
	Stored time.Time `json:"stored"`
}

// cacheable reports whether a response with this status is stored: every
// one but those that are retried, since storing a passing 503 would replay
// the outage on every later run.
func cacheable(status int) bool { return !retryStatuses[status] }

func cacheKey(method, rawurl string, body []byte) string {
	canon, err := urls.DefaultCanon.Canonical(rawurl)
	if err != nil {
		canon = rawurl
	}
	bodySum := sha256.Sum256(body)
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\n%s\n%x", method, canon, bodySum))
	return hex.EncodeToString(sum[:])
}

func (c *diskCache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key)
}

// get returns the entry stored under key, if there is one that has not
// expired at now. An unreadable entry is a miss, and so is, for a request
// that may only reach public addresses (publicOnly), an entry not known to
// have come from one. An entry that does not say where it came from is
// taken for public, so that the links on it are held to public addresses.
func (c *diskCache) get(key string, now time.Time, publicOnly bool) (*exchange, bool) {
	data, err := os.ReadFile(c.path(key))
	if err != nil {
		return nil, false
	}
	line, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil, false
	}
	var m cacheMeta
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, false
	}
	if c.ttl > 0 && now.Sub(m.Stored) > c.ttl {
		return nil, false
	}
	if publicOnly && (m.Public == nil || !*m.Public) {
		return nil, false
	}
	if m.Header == nil {
		m.Header = http.Header{}
	}
	public := m.Public == nil || *m.Public
	return &exchange{url: m.URL, status: m.Status, header: m.Header, body: body, truncated: m.Truncated, public: public}, true
}

// put stores x under key, replacing what was there.
func (c *diskCache) put(key, request string, x *exchange, now time.Time) error {
	line, err := json.Marshal(cacheMeta{
		Request:   request,
		URL:       x.url,
		Status:    x.status,
		Header:    x.header,
		Truncated: x.truncated,
		Public:    &x.public,
		Stored:    now.UTC(),
	})
	if err != nil {
		return fmt.Errorf("cache %s: %w", request, err)
	}
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("cache %s: %w", request, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache %s: %w", request, err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		_, err = f.Write(x.body)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("cache %s: %w", request, err)
	}
	return nil
}
