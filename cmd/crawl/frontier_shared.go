package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"crawl/engine"
	"crawl/engine/shared"
)

// frontierOptions holds the flags of a crawl shared through Redis.
type frontierOptions struct {
	url   string
	lease time.Duration
}

func addFrontierFlags(f *pflag.FlagSet, o *frontierOptions) {
	f.StringVar(&o.url, "frontier", "", "share the crawl with other crawl processes through the Redis at `URL`: redis://HOST:PORT/DB[?key=NAME]")
	f.DurationVar(&o.lease, "lease", shared.DefaultLeaseTimeout, "with --frontier, how long the requests of a process that stopped answering wait before others take them, and how long a process waits for a Redis that does not answer")
}

// validate checks the flags without connecting. --state keeps a crawl in
// a directory of one machine, --frontier in Redis: one or the other.
func (o *frontierOptions) validate(flags *pflag.FlagSet) error {
	if o.lease <= 0 {
		return fmt.Errorf("--lease must be positive, got %s", o.lease)
	}
	if o.url == "" {
		return nil
	}
	if st := flags.Lookup("state"); st != nil && st.Value.String() != "" {
		return errors.New("--frontier and --state cannot be used together: a shared crawl is kept in Redis")
	}
	if _, _, err := shared.ParseURL(o.url); err != nil {
		return fmt.Errorf("--frontier: %w", err)
	}
	return nil
}

// open joins the shared crawl named name when --frontier is given, and
// puts its frontier in cfg, whose Politeness, Workers, Stats and Log it
// uses. The function it returns closes the frontier, giving back the
// requests this process did not finish; call it once the output is
// written. It returns the error that ended the crawl's part in Redis
// (shared.ErrLost, shared.ErrUnreachable), which says best why the crawl
// stopped, or nil.
func (o *frontierOptions) open(ctx context.Context, cfg *engine.Config, name string) (func() error, error) {
	if o.url == "" {
		return func() error { return nil }, nil
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = engine.DefaultWorkers
	}
	log := cfg.Log
	redis.SetLogger(redisLog{log}) // the client's own retries, at debug level
	f, err := shared.Open(ctx, o.url, shared.Options{
		Politeness:   cfg.Politeness,
		Name:         name,
		LeaseTimeout: o.lease,
		Log:          log,
		Stats:        cfg.Stats,
		Workers:      workers,
	})
	if err != nil {
		return nil, fmt.Errorf("--frontier: %w", err)
	}
	cfg.Frontier = f
	return func() error {
		if err := f.Close(); err != nil {
			log.Error("leave the shared crawl", "error", err)
		}
		if err := f.Err(); err != nil {
			return err
		}
		log.Info("shared crawl totals are in Redis", "hash", f.Key("stats"))
		return nil
	}, nil
}

// redisLog passes the go-redis client's log lines to the crawl's log.
type redisLog struct{ log *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
