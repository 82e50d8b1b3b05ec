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

func validateEngine(c *engine.Config) []error {
	var errs []error
	if c.Workers < 1 {
		errs = append(errs, flagError{"workers", fmt.Sprintf("must be at least 1, got %d", c.Workers)})
	}
	if c.Rate < 0 {
		errs = append(errs, flagError{"rate", fmt.Sprintf("must not be negative, got %g", c.Rate)})
	}
	if c.Depth < 0 {
		errs = append(errs, flagError{"depth", fmt.Sprintf("must not be negative, got %d", c.Depth)})
	}
	if c.MaxPages < 0 {
		errs = append(errs, flagError{"max-pages", fmt.Sprintf("must not be negative, got %d", c.MaxPages)})
	}
	if c.MaxErrors < 0 {
		errs = append(errs, flagError{"max-errors", fmt.Sprintf("must not be negative, got %d", c.MaxErrors)})
	}
	if c.Politeness.PerHost < 1 {
		errs = append(errs, flagError{"per-host", fmt.Sprintf("must be at least 1, got %d", c.Politeness.PerHost)})
	}
	if c.Politeness.Delay < 0 {
		errs = append(errs, flagError{"delay", fmt.Sprintf("must not be negative, got %s", c.Politeness.Delay)})
	}
	if c.QueueMemory < 1 {
		errs = append(errs, flagError{"queue-memory", fmt.Sprintf("must be at least 1, got %d", c.QueueMemory)})
	}
	if c.Politeness.MaxDelay <= 0 {
		errs = append(errs, flagError{"max-delay", fmt.Sprintf("must be positive, got %s", c.Politeness.MaxDelay)})
	}
	if c.Order != engine.BFS && c.Order != engine.DFS {
		errs = append(errs, flagError{"order", oneOf(string(c.Order), "bfs, dfs")})
	}
	return errs
}
