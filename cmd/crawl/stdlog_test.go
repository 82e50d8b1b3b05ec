package main

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStdlibLogIsDebug: a server that sends bytes after its response makes
// net/http log "Unsolicited response received on idle HTTP channel" with
// those bytes, through the standard log package. crawl turns it into a
// quoted debug line: absent by default, a proper log line with -v.
func TestStdlibLogIsDebug(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The crawl must not end before net/http has read the bytes: /b,
	// linked from /a, is answered only once the crawler has closed the
	// connection that sent them, which it does just after logging them.
	var mu sync.Mutex
	var closed chan struct{} // closed when the connection that sent the bytes ends
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				var mine chan struct{}
				defer func() {
					if mine != nil {
						close(mine)
					}
				}()
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					switch req.URL.Path {
					case "/robots.txt":
						c.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
					case "/a":
						mu.Lock()
						mine = make(chan struct{})
						closed = mine
						mu.Unlock()
						c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 29\r\n\r\n<h1>page</h1><a href=/b>b</a>HTTP/1.1 200 OK\r\n\x00\x01garbage"))
					default:
						mu.Lock()
						wait := closed
						mu.Unlock()
						select {
						case <-wait:
						case <-time.After(30 * time.Second): // a hang guard: the log line will be missing
						}
						c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<h1>next</h1>"))
					}
				}
			}()
		}
	}()
	dir := t.TempDir()
	spec := writeSpec(t, dir, "start_urls: [\"{{URL}}/a\"]\nfollow: [{css: a}]\nitems: [{fields: {title: \"h1::text\"}}]\n", "http://"+ln.Addr().String())
	for _, tc := range []struct {
		args []string
		want bool
	}{{nil, false}, {[]string{"-v"}, true}} {
		r := runCrawl(t, nil, append([]string{"run", spec, "--workers", "1"}, tc.args...)...)
		if r.code != 0 || r.stdout != "{\"title\":\"page\"}\n{\"title\":\"next\"}\n" {
			t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "\x00") {
			t.Errorf("%v: raw bytes on stderr:\n%q", tc.args, r.stderr)
		}
		var found bool
		for _, line := range strings.Split(r.stderr, "\n") {
			if strings.Contains(line, "Unsolicited response") {
				found = true
				if !strings.HasPrefix(line, "time=") || !strings.Contains(line, "level=DEBUG") {
					t.Errorf("%v: not a debug log line: %q", tc.args, line)
				}
			}
		}
		if found != tc.want {
			t.Errorf("%v: net/http's complaint logged: %v, want %v; stderr:\n%s", tc.args, found, tc.want, r.stderr)
		}
	}
}
