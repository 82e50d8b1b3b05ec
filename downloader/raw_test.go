package downloader_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"crawl/downloader"
)

// TestRaw checks that Response.Raw keeps the bytes an HTML page came in
// while Body is decoded to UTF-8, from the network and from a file.
func TestRaw(t *testing.T) {
	latin1 := []byte("<p>caf\xe9</p>")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.Write(latin1)
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(file, append([]byte(`<meta charset="iso-8859-1">`), latin1...), 0o644); err != nil {
		t.Fatal(err)
	}
	d := downloader.New(downloader.Config{})
	defer d.Close()
	for _, u := range []string{srv.URL + "/", "file://" + filepath.ToSlash(file)} {
		resp, err := d.Fetch(context.Background(), &downloader.Request{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(resp.Body, []byte("<p>café</p>")) {
			t.Errorf("%s: Body = %q, want it decoded to UTF-8", u, resp.Body)
		}
		if !bytes.HasSuffix(resp.Raw, latin1) {
			t.Errorf("%s: Raw = %q, want the bytes as sent", u, resp.Raw)
		}
	}
}
