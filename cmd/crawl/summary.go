package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"crawl/engine"
	"crawl/spider"
	"crawl/stats"
)

// printSummary writes the end-of-crawl statistics, like Scrapy's stats dump.
func printSummary(w io.Writer, st *stats.Stats, reason engine.Reason, elapsed time.Duration) {
	pages := st.Get(stats.Pages)
	secs := elapsed.Seconds()
	var b strings.Builder
	fmt.Fprintf(&b, "crawl: %s after %s\n", reason, elapsed.Round(time.Millisecond))
	rate := fmt.Sprintf("%.1f/s", float64(pages)/max(secs, 1e-9))
	if n := st.Get(stats.Resumes); n > 0 {
		fmt.Fprintf(&b, "  continued with --state after %d earlier runs: the counts include theirs\n", n)
		rate = ""
	}
	line := func(label string, n int64, detail string) {
		fmt.Fprintf(&b, "  %-16s %10d", label, n)
		if detail != "" {
			b.WriteString("  " + detail)
		}
		b.WriteByte('\n')
	}
	line("requests", st.Get(stats.Requests), "")
	line("pages", pages, rate)
	line("responses", pages, group(st, stats.Status))
	line("errors", st.Sum(stats.Errors), group(st, stats.Errors))
	line("robots denied", st.Get(stats.RobotsDenied), "requests robots.txt disallows, not sent")
	line("robots.txt", st.Sum(stats.Robots), group(st, stats.Robots))
	retries := group(st, stats.Retries)
	if n := st.Get(stats.RetriesExhausted); n > 0 {
		retries = strings.TrimPrefix(retries+fmt.Sprintf("; requests that still failed: %d", n), "; ")
	}
	line("retries", st.Sum(stats.Retries), retries)
	if hits, misses := st.Get(stats.CacheHit), st.Get(stats.CacheMiss); hits+misses > 0 {
		detail := fmt.Sprintf("hit: %d, miss: %d", hits, misses)
		if n := st.Get(stats.CacheErrors); n > 0 {
			detail += fmt.Sprintf(", not stored: %d", n)
		}
		line("cache", hits, detail)
	}
	line("not parsed", st.Sum(stats.Skipped), group(st, stats.Skipped))
	line("truncated", st.Get(stats.Truncated), "bodies cut at the size limit")
	line("items scraped", st.Get(stats.ItemsScraped), "")
	line("items written", st.Get(stats.ItemsWritten), "")
	line("items dropped", st.Sum(stats.ItemsDropped), group(st, stats.ItemsDropped))
	line("fields dropped", st.Sum(spider.FieldsDropped), group(st, spider.FieldsDropped))
	line("duplicates", st.Get(stats.Duplicates), "links already seen")
	line("depth limited", st.Get(stats.DepthLimited), "")
	line("links skipped", st.Sum(stats.LinksSkipped), group(st, stats.LinksSkipped))
	line("bad start URLs", st.Get(stats.StartErrors), "")
	fmt.Fprintf(&b, "  %-16s %10s\n", "bytes", humanBytes(st.Get(stats.Bytes)))
	fmt.Fprintf(&b, "  %-16s %10s\n", "peak memory", humanBytes(peakRSS()))
	io.WriteString(w, b.String())
}

// group renders the counters under prefix as "key: n, key: n".
func group(st *stats.Stats, prefix string) string {
	var parts []string
	for _, c := range st.Group(prefix) {
		parts = append(parts, fmt.Sprintf("%s: %d", c.Key, c.N))
	}
	return strings.Join(parts, ", ")
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// peakRSS returns the most resident memory the process has used, in bytes,
// or 0 where the system does not say.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss) * 1024 // kilobytes on Linux
}

// statsFile is the JSON form of the final statistics (--stats FILE).
type statsFile struct {
	Reason          engine.Reason    `json:"reason"`
	ElapsedSeconds  float64          `json:"elapsed_seconds"`
	PagesPerSecond  float64          `json:"pages_per_second"`
	PeakMemoryBytes int64            `json:"peak_memory_bytes"`
	Counters        map[string]int64 `json:"counters"`
}

func writeStatsFile(path string, st *stats.Stats, reason engine.Reason, elapsed time.Duration) error {
	sf := statsFile{
		Reason:          reason,
		ElapsedSeconds:  elapsed.Seconds(),
		PagesPerSecond:  float64(st.Get(stats.Pages)) / max(elapsed.Seconds(), 1e-9),
		PeakMemoryBytes: peakRSS(),
		Counters:        st.Snapshot(),
	}
	b, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
