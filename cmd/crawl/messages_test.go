package main

import (
	"strings"
	"testing"
)

// TestRunReportsAllProblems runs crawl run on a spider file with problems
// in its keys and in its settings: all are listed at once, as crawl check
// lists them, each at its line, and no crawl starts.
func TestRunReportsAllProblems(t *testing.T) {
	r := runCrawl(t, nil, "run", "testdata/check/spec_and_settings.yaml")
	if r.code != 2 || r.stdout != "" {
		t.Errorf("exit %d, stdout %q; want 2 and nothing", r.code, r.stdout)
	}
	golden(t, "check/spec_and_settings.run.golden", r.stderr)
	check := runCrawl(t, nil, "check", "testdata/check/spec_and_settings.yaml")
	if check.stderr != r.stderr {
		t.Errorf("crawl run and crawl check differ:\nrun:\n%s\ncheck:\n%s", r.stderr, check.stderr)
	}
	if strings.Contains(r.stderr, "--workers") {
		t.Errorf("a setting reported as a flag the user did not type:\n%s", r.stderr)
	}
}
