// Package urls resolves links and reduces URLs to the canonical form the
// crawler de-duplicates by.
package urls

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// Base is a parsed page URL that links are resolved against. Parse it once
// per page and resolve every link against it. A Base is safe for concurrent use.
type Base struct {
	u *url.URL
}

// ParseBase parses an absolute URL to resolve links against.
func ParseBase(raw string) (*Base, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("parse base url: %w", err)
	}
	if !u.IsAbs() {
		return nil, fmt.Errorf("parse base url %q: not absolute", raw)
	}
	return &Base{u: u}, nil
}

// String returns the base URL.
func (b *Base) String() string { return b.u.String() }

// Resolve resolves href against the base and returns the absolute URL with
// its fragment removed.
func (b *Base) Resolve(href string) (string, error) {
	href = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, strings.TrimSpace(href))
	ref, err := url.Parse(href)
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", href, err)
	}
	u := b.u.ResolveReference(ref)
	u.Fragment = ""
	u.RawFragment = ""
	return u.String(), nil
}

// ErrNotAbsolute is returned for a URL that has no scheme.
var ErrNotAbsolute = errors.New("not an absolute URL")

// Canon describes the canonical form of a URL. The zero Canon removes the
// fragment and lower-cases the scheme and host, and nothing else.
type Canon struct{}

// DefaultCanon is the canonical form used when a spider does not set one.
var DefaultCanon = Canon{}

// Canonical returns the canonical form of the absolute URL raw.
func (c Canon) Canonical(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("canonicalize %q: %w", raw, err)
	}
	if !u.IsAbs() {
		return "", fmt.Errorf("canonicalize %q: %w", raw, ErrNotAbsolute)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	u.RawFragment = ""
	return u.String(), nil
}

// Fingerprint returns the 64-bit fingerprint of the canonical form of raw.
// Two URLs with one canonical form have one fingerprint.
func (c Canon) Fingerprint(raw string) (uint64, error) {
	s, err := c.Canonical(raw)
	if err != nil {
		return 0, err
	}
	return xxhash.Sum64String(s), nil
}

// Scheme returns the lower-cased scheme of an absolute URL, or "" when it has none.
func Scheme(abs string) string {
	i := strings.IndexByte(abs, ':')
	if i <= 0 {
		return ""
	}
	return strings.ToLower(abs[:i])
}

// Hostname returns the lower-cased host of an absolute URL without port,
// userinfo or IPv6 brackets, or "" when it has none (file:///x).
func Hostname(abs string) string {
	_, rest, ok := strings.Cut(abs, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i > 0 {
			return strings.ToLower(rest[1:i])
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}
