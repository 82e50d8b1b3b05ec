package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// smallDisk mounts a tmpfs of size bytes on a new directory for t, and
// unmounts it when t ends; size may be changed with resize. Mounting needs
// root: where it cannot, the test fails under CI and is skipped elsewhere.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("cannot mount a small tmpfs for a full disk (needs root): %v: %s", err, out)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// resize changes the size of the tmpfs mounted on dir.
func resize(t *testing.T, dir string, size int) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", fmt.Sprintf("remount,size=%d", size), dir).CombinedOutput(); err != nil {
		t.Fatalf("resize %s: %v: %s", dir, err, out)
	}
}

// TestStateDiskFull runs a crawl whose --state directory is on a disk
// that fills up: the crawl stops with reason commit_failed, one log line
// and exit status 1; its output holds whole lines, as many items as the
// summary says were written; and once the disk has room, the same command
// cuts the output back to the pages the store recorded and finishes the
// crawl with every item exactly once.
func TestStateDiskFull(t *testing.T) {
	site := &shopSite{lists: 300, fetches: make(map[string]int)}
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	spec := writeSpec(t, dir, shopSpec, srv.URL)
	out := filepath.Join(dir, "items.jsonl")
	statsPath := filepath.Join(dir, "stats.json")
	disk := smallDisk(t, 160<<10)
	args := []string{"run", spec, "-o", out, "--state", filepath.Join(disk, "state"), "--workers", "4", "--log-level", "warn", "--stats", statsPath}

	r := runCrawl(t, nil, args...)
	var st struct {
		Reason string           `json:"reason"`
		Stats  map[string]int64 `json:"counters"`
	}
	b, err := os.ReadFile(statsPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	t.Logf("exit %d, reason %s, stderr:\n%s", r.code, st.Reason, r.stderr)
	if r.code != 1 || st.Reason != "commit_failed" {
		t.Errorf("exit %d, reason %q; want exit 1, reason commit_failed", r.code, st.Reason)
	}
	if !strings.Contains(r.stderr, "no space left on device") {
		t.Errorf("stderr does not name the full disk:\n%s", r.stderr)
	}
	if n := strings.Count(r.stderr, "record a page as done"); n != 1 {
		t.Errorf("%d log lines for the failed commits, want one", n)
	}
	if b, _ := os.ReadFile(out); len(b) > 0 && b[len(b)-1] != '\n' {
		t.Errorf("the output ends in a partial line")
	}
	titles := readTitles(t, out)
	if int64(len(titles)) != st.Stats["items/written"] {
		t.Errorf("the output holds %d items, the stats say %d written", len(titles), st.Stats["items/written"])
	}
	if len(titles) == 0 || len(titles) >= len(site.titles()) {
		t.Fatalf("%d items written before the disk was full, want some but not all %d", len(titles), len(site.titles()))
	}

	resize(t, disk, 16<<20)
	if r := runCrawl(t, nil, args...); r.code != 0 {
		t.Fatalf("resumed with room on the disk: exit %d\n%s", r.code, r.stderr)
	}
	count := make(map[string]int)
	for _, title := range readTitles(t, out) {
		count[title]++
	}
	for _, title := range site.titles() {
		if count[title] != 1 {
			t.Errorf("item %s is in the output %d times, want once", title, count[title])
		}
	}
}
