package spider

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestLoadLimits loads generated hostile spider files: each is refused
// with one problem that names the limit, and none costs more than a few
// megabytes beyond its own size to refuse.
func TestLoadLimits(t *testing.T) {
	const head = "start_urls: [\"http://127.0.0.1/\"]\n"
	repeat := func(format string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.String()
	}
	laughs := head + "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	for k := 1; k < 10; k++ {
		laughs += fmt.Sprintf("x%d: &a%d [%s]\n", k, k, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d,", k-1), 9), ","))
	}
	laughs += "items: [{fields: {t: h1}}]\nsettings: {rate: *a9}\n"
	tests := []struct {
		name string
		data string
		size int64 // when set, a sparse file of this size instead of data
		want string
	}{
		{"100 MB file", "", 100 << 20, `spider.yaml: the file is bigger than 256 KiB, the most a spider file may be`},
		{"one byte too many", head + "# " + strings.Repeat("x", MaxFileSize-len(head)-2) + "\n", 0, "bigger than 256 KiB"},
		{"many follow rules", head + "follow:\n" + repeat("  - css: a.n%d\n", MaxRules+1), 0, `spider.yaml:3:3: follow: 1001 rules, more than the 1000 a spider file may have`},
		{"many fields", head + "items:\n  - fields:\n" + repeat("      f%d: h1\n", MaxFields+1), 0, `spider.yaml:4:7: fields: 1001 fields, more than the 1000 an item may have`},
		{"deep nesting", head + "items: " + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + "\n", 0, `spider.yaml:2:\d+: values nested more than 50 deep`},
		{"billion laughs", laughs, 0, `spider.yaml:7:10: the file holds more than 100000 values \(each use of an alias counts all it names\)`},
		{"many values", head + "allowed_domains: [" + strings.TrimSuffix(strings.Repeat("a,", MaxNodes), ",") + "]\n", 0, `the file holds more than 100000 values`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spider.yaml")
			if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.size > 0 {
				if err := os.Truncate(path, tt.size); err != nil {
					t.Fatal(err)
				}
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Load(path)
			runtime.ReadMemStats(&after)
			var specErrs SpecErrors
			if !errors.As(err, &specErrs) || len(specErrs) != 1 {
				t.Fatalf("Load: %v, want one problem", err)
			}
			if !regexpMatch(tt.want, specErrs[0].Error()) {
				t.Errorf("got  %s\nwant %s", specErrs[0].Error(), tt.want)
			}
			// Allocation, not timing: a generous bound that the old
			// unbounded reading and alias expansion exceed many times.
			if n := after.TotalAlloc - before.TotalAlloc; n > 100<<20 {
				t.Errorf("refusing the file allocated %d MiB", n>>20)
			}
		})
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
