package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"crawl/engine"
)

// addEngineFlags binds the scheduling flags of `crawl run` into c.
func addEngineFlags(f *pflag.FlagSet, c *engine.Config) {
	f.IntVar(&c.Workers, "workers", engine.DefaultWorkers, "number of requests in flight at once")
	f.Float64Var(&c.Rate, "rate", 0, "most requests per second across the crawl (0: no limit)")
	f.IntVar(&c.Depth, "depth", 0, "most links followed from a start page (0: no limit)")
	f.IntVar(&c.MaxPages, "max-pages", 0, "stop after this many requests (0: no limit)")
	f.IntVar(&c.MaxErrors, "max-errors", 0, "stop gracefully after this many failed requests (0: no limit)")
	f.IntVar(&c.Politeness.PerHost, "per-host", engine.DefaultPerHost, "most requests in flight to one host")
	f.DurationVar(&c.Politeness.Delay, "delay", 0, "least time between requests to one host")
	f.BoolVar(&c.Politeness.AutoThrottle, "autothrottle", false, "adapt each host's delay to its latency, backing off on 429 and 503")
	f.DurationVar(&c.Politeness.MaxDelay, "max-delay", time.Minute, "most delay --autothrottle and Crawl-delay may set")
	f.IntVar(&c.QueueMemory, "queue-memory", engine.DefaultQueueMemory, "most queued requests kept in memory; the rest wait on disk")
	f.StringVar(&c.SpillDir, "spill-dir", "", "directory for queued requests beyond --queue-memory (default: the system's temporary directory)")
	f.StringVar((*string)(&c.Order), "order", string(engine.BFS), "order of each host's requests: bfs (oldest first, breadth-first) or dfs (newest first, depth-first)")
}

func validateEngine(c *engine.Config) error {
	switch {
	case c.Workers < 1:
		return fmt.Errorf("--workers must be at least 1, got %d", c.Workers)
	case c.Rate < 0:
		return fmt.Errorf("--rate must not be negative, got %g", c.Rate)
	case c.Depth < 0:
		return fmt.Errorf("--depth must not be negative, got %d", c.Depth)
	case c.MaxPages < 0:
		return fmt.Errorf("--max-pages must not be negative, got %d", c.MaxPages)
	case c.MaxErrors < 0:
		return fmt.Errorf("--max-errors must not be negative, got %d", c.MaxErrors)
	case c.Politeness.PerHost < 1:
		return fmt.Errorf("--per-host must be at least 1, got %d", c.Politeness.PerHost)
	case c.Politeness.Delay < 0:
		return fmt.Errorf("--delay must not be negative, got %s", c.Politeness.Delay)
	case c.QueueMemory < 1:
		return fmt.Errorf("--queue-memory must be at least 1, got %d", c.QueueMemory)
	case c.Politeness.MaxDelay <= 0:
		return fmt.Errorf("--max-delay must be positive, got %s", c.Politeness.MaxDelay)
	case c.Order != engine.BFS && c.Order != engine.DFS:
		return fmt.Errorf("--order: %q is not one of bfs, dfs", c.Order)
	}
	return nil
}
