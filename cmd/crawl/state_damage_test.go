package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// storePages returns the page size, the root page and the high-water
// mark (pages in use are below it) of the bbolt store at path, read from
// its current meta page: of the two, the one of the later transaction.
func storePages(t *testing.T, path string) (pageSize, root, hw int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	meta := b[16:]
	if m1 := b[int(le.Uint32(b[24:]))+16:]; le.Uint64(m1[48:]) > le.Uint64(meta[48:]) {
		meta = m1
	}
	return int64(le.Uint32(meta[8:])), int64(le.Uint64(meta[16:])), int64(le.Uint64(meta[40:]))
}

// overwrite writes data over the file at path from offset off.
func overwrite(t *testing.T, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedState damages the store of a crawl stopped half-way in the
// ways disks and people do, and runs the crawl again: each time, one line
// names the store and what to do, the exit status is 2, nothing is
// fetched, and the output is as it was. A damage bbolt can live with (a
// freed page overwritten) may instead resume and finish the crawl.
func TestDamagedState(t *testing.T) {
	site := &skuSite{lists: 20, skus: 1000}
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	spec := writeSpec(t, dir, skuSpec, srv.URL)

	// A store of a crawl killed half-way, with its output.
	orig := filepath.Join(dir, "orig")
	origOut := filepath.Join(dir, "orig.jsonl")
	cmd := command("run", spec, "-o", origOut, "--state", orig, "--workers", "2", "--log-level", "warn")
	kill := func(n int64) {
		if n >= 100 {
			cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	site.onFetch.Store(&kill)
	if err := cmd.Wait(); err == nil {
		t.Fatal("the crawl finished before it was killed")
	}
	site.onFetch.Store(nil)
	store, err := os.ReadFile(filepath.Join(orig, "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	output, err := os.ReadFile(origOut)
	if err != nil {
		t.Fatal(err)
	}
	pageSize, root, pages := storePages(t, filepath.Join(orig, "crawl.db"))
	t.Logf("store: %d bytes, %d pages of %d in use, root page %d; output %d bytes", len(store), pages, pageSize, root, len(output))

	seed := uint64(rand.Int64())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	random := func(n int64) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	type damage struct {
		name    string
		mayLive bool            // bbolt may open and use it correctly
		apply   func(db string) // damages the store file at db
	}
	cases := []damage{
		{name: "empty", apply: func(db string) { os.Truncate(db, 0) }},
		{name: "cut to 10 bytes", apply: func(db string) { os.Truncate(db, 10) }},
		{name: "cut inside the first meta page", apply: func(db string) { os.Truncate(db, 100) }},
		{name: "cut after the meta pages", apply: func(db string) { os.Truncate(db, 2*pageSize) }},
		{name: "cut to half", apply: func(db string) { os.Truncate(db, (pages/2)*pageSize) }},
		{name: "cut by the last page in use", apply: func(db string) { os.Truncate(db, (pages-1)*pageSize) }},
		{name: "cut by one byte of the last page in use", apply: func(db string) { os.Truncate(db, pages*pageSize-1) }},
		{name: "cut after the last page in use", mayLive: true, apply: func(db string) { os.Truncate(db, pages*pageSize) }},
		{name: "root page zeroed", apply: func(db string) { overwrite(t, db, root*pageSize, make([]byte, pageSize)) }},
		{name: "root page random", apply: func(db string) { overwrite(t, db, root*pageSize, random(pageSize)) }},
		{name: "both meta pages random", apply: func(db string) { overwrite(t, db, 0, random(2*pageSize)) }},
		{name: "wrong file type", apply: func(db string) { os.WriteFile(db, []byte(`{"title":"not a store"}`+"\n"), 0o644) }},
		{name: "directory", apply: func(db string) { os.Remove(db); os.Mkdir(db, 0o755) }},
		{name: "symlink loop", apply: func(db string) { os.Remove(db); os.Symlink(filepath.Base(db), db) }},
	}
	for p := int64(2); p < pages; p++ {
		cases = append(cases,
			damage{name: fmt.Sprintf("page %d zeroed", p), mayLive: p != root, apply: func(db string) { overwrite(t, db, p*pageSize, make([]byte, pageSize)) }},
			damage{name: fmt.Sprintf("page %d random", p), mayLive: p != root, apply: func(db string) { overwrite(t, db, p*pageSize, random(pageSize)) }})
	}
	lived := 0
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The state names its output by absolute path: every case
			// uses the original one, as the killed crawl left it.
			stateDir := filepath.Join(dir, fmt.Sprintf("state%d", i))
			out := origOut
			os.Mkdir(stateDir, 0o755)
			db := filepath.Join(stateDir, "crawl.db")
			if err := os.WriteFile(db, store, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(out, output, 0o644); err != nil {
				t.Fatal(err)
			}
			tc.apply(db)
			before := site.total.Load()
			r := runCrawl(t, nil, "run", spec, "-o", out, "--state", stateDir, "--workers", "2", "--log-level", "warn")
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "[signal") || strings.Contains(r.stderr, "runtime.") {
				t.Fatalf("exit %d with a crash:\n%s", r.code, r.stderr)
			}
			if tc.mayLive && r.code == 0 {
				lived++
				checkSKUs(t, out, 200)
				return
			}
			after, _ := os.ReadFile(out)
			if !bytes.Equal(after, output) {
				t.Errorf("the output changed: %d bytes, was %d", len(after), len(output))
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.code != 2 || len(lines) != 1 || !strings.Contains(r.stderr, db) || !strings.Contains(r.stderr, "is damaged") ||
				!strings.Contains(r.stderr, "start again with a new --state directory, or keep the output already written") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and one line naming %s as damaged and what to do", r.code, r.stderr, db)
			}
			if n := site.total.Load() - before; n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
	t.Logf("%d of %d page damages left a store bbolt could use", lived, 2*(pages-2))
}

// checkSKUs fails unless the JSON Lines file at path holds each of the n
// SKUs once.
func checkSKUs(t *testing.T, path string, n int) {
	t.Helper()
	count := make(map[string]int)
	readField(t, path, "sku", count)
	for sku := range n {
		if k := count[fmt.Sprint(sku)]; k != 1 {
			t.Errorf("SKU %d is in the output %d times, want once", sku, k)
		}
	}
	if len(count) != n {
		t.Errorf("%d SKUs in the output, want %d", len(count), n)
	}
}

// TestUnreadableState gives the crawl a store it may not open: one line
// names the store and what to do, exit status 2, the output unchanged.
// Not a damaged store: the same directory serves again once readable.
// Root may open any file, so as root the crawl runs as user nobody, from
// a copy of the test binary that nobody may run.
func TestUnreadableState(t *testing.T) {
	srv, _ := pageServer(t)
	dir := t.TempDir()
	spec := writeSpec(t, dir, "start_urls: [\"{{URL}}/p/7\"]\nitems: [{fields: {title: \"h1::text\"}}]\n", srv.URL)
	out := filepath.Join(dir, "items.jsonl")
	stateDir := filepath.Join(dir, "state")
	if r := runCrawl(t, nil, "run", spec, "-o", out, "--state", stateDir); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	output, _ := os.ReadFile(out)
	db := filepath.Join(stateDir, "crawl.db")
	if err := os.Chmod(db, 0); err != nil {
		t.Fatal(err)
	}
	cmd := command("run", spec, "-o", out, "--state", stateDir)
	if os.Geteuid() == 0 {
		// nobody must reach the binary, the spider and the store.
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		bin, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		copyPath := filepath.Join(dir, "crawl.test")
		if err := os.WriteFile(copyPath, bin, 0o755); err != nil {
			t.Fatal(err)
		}
		// Only directories of the test's own: the system's temporary
		// directory must already let others in.
		for d := dir; strings.HasPrefix(d, os.TempDir()+string(filepath.Separator)); d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
				if err := os.Chmod(d, fi.Mode().Perm()|0o005); err != nil {
					t.Fatal(err)
				}
			}
		}
		// The output is opened before the store: nobody may write it.
		if err := os.Chmod(out, 0o666); err != nil {
			t.Fatal(err)
		}
		cmd.Path, cmd.Args[0] = copyPath, copyPath
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != 2 || len(lines) != 1 || !strings.Contains(stderr.String(), db) || !strings.Contains(stderr.String(), "permission denied") ||
		!strings.Contains(stderr.String(), "give this user access to it, or use another --state directory") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and one line naming %s", code, stderr.String(), db)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(after, output) {
		t.Errorf("the output changed: %q, was %q", after, output)
	}
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCrawl(t, nil, "run", spec, "-o", out, "--state", stateDir); r.code != 0 {
		t.Errorf("readable again: exit %d\n%s", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(after, output) {
		t.Errorf("the finished crawl run again changed the output: %q, was %q", after, output)
	}
}
