package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestBench runs `crawl bench --pages 200` in a child process and checks
// that it reports every figure, for exactly 200 pages; not how fast.
func TestBench(t *testing.T) {
	r := runCrawl(t, nil, "bench", "--pages", "200", "--workers", "8")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	num := `[0-9]+(\.[0-9]+)?`
	for _, want := range []string{
		`(?m)^crawl bench: 200 pages of a synthetic shop on 127\.0\.0\.1, 8 workers, no latency$`,
		`(?m)^  pages +200 +` + num + `/s$`,
		`(?m)^  items +190 +` + num + `/s$`, // one per product page: 190 products, 10 listing pages
		`(?m)^  bytes +` + num + ` [KMG]iB +` + num + ` MB/s$`,
		`(?m)^  cpu +` + num + ` ms  per page \(user .*, sys .*\)`,
		`(?m)^  peak memory +` + num + ` [KMG]iB  \(the site's pages hold ` + num + ` [KMG]iB of it\)$`,
		`(?m)^  latency p50 +` + num + ` ms  p99 ` + num + ` ms$`,
		`(?m)^  elapsed +` + num + ` s   finished$`,
	} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("output does not match %s:\n%s", want, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr not empty:\n%s", r.stderr)
	}
}

func TestBenchPageCounts(t *testing.T) {
	// Page counts the shop cannot match exactly (one more than a multiple
	// of 21) are cut by the page limit.
	for _, pages := range []string{"1", "22", "43"} {
		t.Run(pages, func(t *testing.T) {
			r := runCrawl(t, nil, "bench", "--pages", pages, "--workers", "4")
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if !regexp.MustCompile(`(?m)^  pages +` + pages + ` (.|\n)* finished\n$`).MatchString(r.stdout) {
				t.Errorf("want %s pages:\n%s", pages, r.stdout)
			}
		})
	}
}

func TestBenchBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--pages", "0"}, "--pages must be at least 1, got 0"},
		{[]string{"--workers", "0"}, "--workers must be at least 1, got 0"},
		{[]string{"--latency", "-1s"}, "--latency must not be negative, got -1s"},
		{[]string{"extra"}, `bench takes no arguments, got "extra"`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCrawl(t, nil, append([]string{"bench"}, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("got exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
}
