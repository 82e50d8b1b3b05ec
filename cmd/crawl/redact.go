package main

import (
	"log/slog"
	"regexp"
)

// userinfo matches the user and password part of a URL's authority, up to
// its last "@", as URL parsers read it: a password may hold an unescaped
// "@".
var userinfo = regexp.MustCompile(`://[^/?#\s"]*@`)

// redact hides the credentials of every URL in s, user name included (a
// token is often sent as the user name), so that no log line or error
// message shows them.
func redact(s string) string {
	return userinfo.ReplaceAllString(s, "://xxxxx@")
}

// redactAttr is a slog ReplaceAttr that redacts strings and errors.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Any().(type) {
	case string:
		if r := redact(v); r != v {
			return slog.String(a.Key, r)
		}
	case error:
		if s := v.Error(); redact(s) != s {
			return slog.String(a.Key, redact(s))
		}
	}
	return a
}
