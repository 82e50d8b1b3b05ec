package main

import (
	"fmt"

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
	}
	return nil
}
