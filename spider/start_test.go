package spider

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// describeStarts ranges over the start requests, stopping after limit of
// them (0: no limit), and formats each as "<url>" or "error: <message>".
func describeStarts(t *testing.T, s *Spider, limit int) []string {
	t.Helper()
	out := []string{}
	for req, err := range s.StartRequests(context.Background()) {
		switch {
		case err != nil:
			out = append(out, "error: "+err.Error())
		case req.Depth != 0 || req.Method != "":
			t.Errorf("start request %s has depth %d and method %q, want 0 and \"\"", req.URL, req.Depth, req.Method)
		default:
			out = append(out, req.URL)
		}
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out
}

func TestStartRequests(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "urls.txt")
	writeFile(t, urlFile, "\ufeffhttps://example.com/a\n"+
		"\n"+
		"# a comment\n"+
		"   https://example.com/b   \n"+
		"htp:/x\n"+
		"  # an indented comment\n"+
		"example.com/c\r\n"+
		"file:pages/d.html\n"+
		"https://example.com/e # not a comment\n"+
		"http://bad host/\n"+
		"https://example.com/last")
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	absSlash := filepath.ToSlash(abs)
	if !strings.HasPrefix(absSlash, "/") {
		absSlash = "/" + absSlash
	}

	tests := []struct {
		name  string
		spec  string
		stdin string
		want  []string
	}{
		{
			name: "list, file and range, in order",
			spec: fmt.Sprintf(`
start_urls_range: {template: "https://example.com/page/{n}", from: 1, to: 10, step: 4}
start_urls_file: %q
start_urls: ["https://example.com/", "file:site/index.html"]
`, urlFile),
			want: []string{
				"https://example.com/",
				"file://" + testdataAbs(t) + "/site/index.html",
				"https://example.com/a",
				"https://example.com/b",
				`error: ` + urlFile + `:5: invalid start URL "htp:/x": unsupported scheme "htp" (want http, https or file)`,
				`error: ` + urlFile + `:7: invalid start URL "example.com/c": not an absolute URL`,
				"file://" + absSlash + "/pages/d.html",
				"https://example.com/e # not a comment",
				`error: ` + urlFile + `:10: invalid start URL "http://bad host/": invalid character " " in host name`,
				"https://example.com/last",
				"https://example.com/page/1",
				"https://example.com/page/5",
				"https://example.com/page/9",
			},
		},
		{
			name: "range to the largest integer",
			spec: `start_urls_range: {template: "https://example.com/{n}", from: 9223372036854775805, to: 9223372036854775807, step: 2}`,
			want: []string{
				"https://example.com/9223372036854775805",
				"https://example.com/9223372036854775807",
			},
		},
		{
			name: "range of local files",
			spec: `start_urls_range: {template: "file:pages/p{n}.html", from: 1, to: 2}`,
			want: []string{
				"file://" + testdataAbs(t) + "/pages/p1.html",
				"file://" + testdataAbs(t) + "/pages/p2.html",
			},
		},
		{
			name: "range of one",
			spec: `start_urls_range: {template: "https://example.com/{n}/{n}", from: -1, to: -1}`,
			want: []string{"https://example.com/-1/-1"},
		},
		{
			name:  "stdin",
			spec:  `start_urls_file: "-"`,
			stdin: "https://example.com/1\n\n# comment\nnope\nhttps://example.com/2",
			want: []string{
				"https://example.com/1",
				`error: stdin:4: invalid start URL "nope": not an absolute URL`,
				"https://example.com/2",
			},
		},
		{
			name:  "long line",
			spec:  `start_urls_file: "-"`,
			stdin: "https://example.com/1\nhttps://example.com/" + strings.Repeat("x", maxLine) + "\nhttps://example.com/3\n",
			want: []string{
				"https://example.com/1",
				`error: stdin:2: invalid start URL "https://example.com/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...": line longer than 65536 bytes`,
				"https://example.com/3",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parseSpec(t, tt.spec)
			if tt.stdin != "" {
				s.Stdin = strings.NewReader(tt.stdin)
			}
			got := describeStarts(t, s, 0)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestStartURLErrorIs(t *testing.T) {
	s := parseSpec(t, `start_urls_file: "-"`)
	s.Stdin = strings.NewReader("htp:/x\n")
	for _, err := range s.StartRequests(context.Background()) {
		var serr *StartURLError
		if !errors.As(err, &serr) || serr.Line != 1 || serr.URL != "htp:/x" || !errors.Is(err, ErrScheme) {
			t.Errorf("got %#v, want a *StartURLError for line 1 wrapping ErrScheme", err)
		}
	}
}

func TestStartRequestsReadError(t *testing.T) {
	s := parseSpec(t, `
start_urls_file: "-"
start_urls_range: {template: "https://example.com/{n}", from: 1, to: 1}
`)
	boom := errors.New("boom")
	s.Stdin = io.MultiReader(strings.NewReader("https://example.com/a\nhttps://exa"), errReader{boom})
	var got []string
	for req, err := range s.StartRequests(context.Background()) {
		if err != nil {
			if !errors.Is(err, boom) {
				t.Errorf("error %v does not wrap the read error", err)
			}
			got = append(got, "error: "+err.Error())
			continue
		}
		got = append(got, req.URL)
	}
	want := []string{"https://example.com/a", "error: read start URLs from stdin: boom", "https://example.com/1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestStartRequestsFileRemoved checks that a URL file that disappears
// between Load and the crawl is an error of that source only.
func TestStartRequestsFileRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "urls.txt")
	writeFile(t, path, "https://example.com/a\n")
	s := parseSpec(t, fmt.Sprintf("start_urls_file: %q\nstart_urls: [\"https://example.com/\"]", path))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	got := describeStarts(t, s, 0)
	if len(got) != 2 || got[0] != "https://example.com/" || !strings.HasPrefix(got[1], "error: read start URLs: open ") {
		t.Errorf("got %q, want the start URL then an open error", got)
	}
}

func TestStartRequestsLazyRange(t *testing.T) {
	s := parseSpec(t, `start_urls_range: {template: "https://example.com/page/{n}", from: 1, to: 5000000}`)
	allocs := testing.AllocsPerRun(10, func() {
		got := describeStarts(t, s, 3)
		if len(got) != 3 {
			t.Fatalf("got %d requests, want 3", len(got))
		}
	})
	// A handful per request; a slice of five million URLs would be far more.
	if allocs > 100 {
		t.Errorf("3 requests from a range of 5,000,000 cost %v allocations", allocs)
	}
}

// TestStartRequestsLazyStdin checks that only a small prefix of an endless
// standard input is read when the consumer stops after three requests.
func TestStartRequestsLazyStdin(t *testing.T) {
	s := parseSpec(t, `start_urls_file: "-"`)
	src := &endlessURLs{}
	s.Stdin = src
	got := describeStarts(t, s, 3)
	want := []string{"https://example.com/0", "https://example.com/1", "https://example.com/2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if src.read > 2*maxLine {
		t.Errorf("read %d bytes of standard input for 3 URLs, want at most %d", src.read, 2*maxLine)
	}
}

// TestStartRequestsLazyFile checks that a large URL file is read a buffer at
// a time and closed when the consumer stops early. It watches the file's
// descriptor through /proc, so it runs on Linux only.
func TestStartRequestsLazyFile(t *testing.T) {
	if _, err := os.Stat("/proc/self/fdinfo"); err != nil {
		t.Skip("needs /proc/self/fdinfo")
	}
	path := filepath.Join(t.TempDir(), "urls.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	const lines = 200000
	for i := range lines {
		fmt.Fprintf(w, "https://example.com/page/%d\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	s := parseSpec(t, fmt.Sprintf("start_urls_file: %q", path))
	n := 0
	for req, err := range s.StartRequests(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("https://example.com/page/%d", n); req.URL != want {
			t.Errorf("request %d is %s, want %s", n, req.URL, want)
		}
		n++
		if n == 3 {
			pos, open := filePos(t, path)
			if !open {
				t.Fatal("URL file is not open while ranging over it")
			}
			if pos > maxLine || pos >= fi.Size() {
				t.Errorf("read %d bytes of a %d-byte file for 3 URLs, want at most %d", pos, fi.Size(), maxLine)
			}
			break
		}
	}
	if _, open := filePos(t, path); open {
		t.Error("URL file still open after the consumer stopped")
	}
}

// filePos returns the offset of this process's open descriptor for path,
// and whether there is one.
func filePos(t *testing.T, path string) (int64, bool) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil || target != path {
			continue
		}
		info, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", fd.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "pos:"); ok {
				pos, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return pos, true
			}
		}
		t.Fatalf("no pos in /proc/self/fdinfo/%s", fd.Name())
	}
	return 0, false
}

// endlessURLs is a standard input of endless URL lines that counts the
// bytes read from it.
type endlessURLs struct {
	next    int
	pending []byte
	read    int
}

func (r *endlessURLs) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.pending) == 0 {
			r.pending = fmt.Appendf(nil, "https://example.com/%d\n", r.next)
			r.next++
		}
		c := copy(p[n:], r.pending)
		r.pending = r.pending[c:]
		n += c
	}
	r.read += n
	return n, nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// testdataAbs returns the absolute path of testdata with forward slashes.
func testdataAbs(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(abs)
}

func TestCheckStartURL(t *testing.T) {
	tests := []struct {
		raw, want, err string
	}{
		{raw: "https://example.com/", want: "https://example.com/"},
		{raw: "HTTP://example.com:8080/x?y#z", want: "HTTP://example.com:8080/x?y#z"},
		{raw: "file:///srv/a.html", want: "file:///srv/a.html"},
		{raw: "file://localhost/srv/a.html", want: "file:///srv/a.html"},
		{raw: "file:/srv/a.html", want: "file:///srv/a.html"},
		{raw: "file:site/a%20b.html", want: "file://" + testdataAbs(t) + "/site/a%20b.html"},
		{raw: "file:../x.html", want: "file://" + filepath.ToSlash(filepath.Dir(testdataAbs(t))) + "/x.html"},
		{raw: "file:", err: "file URL without a path"},
		{raw: "https:example.com", err: "missing host"},
		{raw: "https://", err: "missing host"},
		{raw: "/just/a/path", err: "not an absolute URL"},
		{raw: "localhost:8080", err: `unsupported scheme "localhost" (want http, https or file)`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := checkStartURL(tt.raw, "testdata")
			var gotErr string
			if err != nil {
				gotErr = err.Error()
			}
			if got != tt.want || gotErr != tt.err {
				t.Errorf("got %q, %q; want %q, %q", got, gotErr, tt.want, tt.err)
			}
		})
	}
}
