// Package shared keeps a crawl's frontier in Redis, so that several crawl
// processes, on one machine or many, share one crawl: one queue of
// requests, one set of requests seen, one politeness per host, and one end.
//
// Each process takes requests under a lease: the process renews it while
// it lives, and when it dies any other process gives the requests it had
// taken back to the queue once the lease has run out. A request is
// forgotten only when its items are written (Commit) and its links queued
// (Done), so a process killed at any moment loses nothing; the page it was
// writing may be written twice. The state changes are Lua scripts, each
// atomic in Redis, one round trip each.
//
// Every script first checks the crawl's identity, written when the crawl
// is created, and how many calls of the process Redis has run: a crawl
// whose keys vanished, or whose Redis went back to an older snapshot,
// fails with ErrLost on its next call rather than look finished. A Redis
// that does not answer is waited for, up to Options.Patience.
//
// Ready requests are handed out fairly: a process takes one only when one
// of its workers is free (Options.Workers), and while other processes want
// work it takes no more than its share of a host's slots.
package shared

import (
	"context"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"crawl/downloader"
	"crawl/engine"
	"crawl/stats"
	"crawl/urls"
)

// DefaultLeaseTimeout is Options.LeaseTimeout when it is zero.
const DefaultLeaseTimeout = time.Minute

// Requeued counts the requests this process gave back to the shared queue:
// those of processes that stopped answering, and its own unfinished ones
// when it closed.
const Requeued = "frontier/requeued"

// poll is how long a process waits before asking again when no request
// may start now: another process may queue one, or free a host's slot, at
// any moment.
const poll = 50 * time.Millisecond

// Options configures a shared Frontier. The zero value means the engine's
// default politeness, the crawl name "crawl", a one-minute lease, the
// default logger and no shared stats.
type Options struct {
	// Politeness limits the requests to each host, across every process
	// of the crawl: give them all the same.
	Politeness engine.Politeness
	// Name names the crawl: its keys in Redis start with "crawl:NAME:".
	// The URL's key parameter, when given, wins. Empty means "crawl".
	Name string
	// LeaseTimeout is how long the requests taken by a process that stops
	// answering wait before other processes fetch them. A live process
	// renews its lease three times in each period. Zero means
	// DefaultLeaseTimeout.
	LeaseTimeout time.Duration
	// Log receives a line when requests are given back. Nil means
	// slog.Default().
	Log *slog.Logger
	// Stats, when not nil, is added to the crawl's shared counters in
	// Redis (hash crawl:NAME:stats) while the crawl runs and on Close.
	Stats *stats.Stats
	// Workers bounds the requests this process holds, taken and not yet
	// done: a process takes no more than its workers can fetch at once,
	// and leaves the rest to the others. Zero means no bound.
	Workers int
	// Patience is how long a call waits for a Redis that does not answer
	// (down, restarting, loading its data) before it fails with
	// ErrUnreachable. Zero means LeaseTimeout: by then the other processes
	// would give this one's requests back to the queue anyway.
	Patience time.Duration
}

// Frontier is an engine.Frontier kept in Redis and shared with other
// processes; it is also an engine.Committer, engine.Starter and
// engine.Sharer. As the engine requires, only Commit may be called
// concurrently with the other methods. Close it when the crawl's output is
// written.
//
// Times are reckoned on the Redis server's clock, one for every process:
// the now the methods are given is not used.
type Frontier struct {
	rdb    *redis.Client
	script *redis.Script
	prefix string // "crawl:NAME:"
	name   string // NAME
	where  string // redis://HOST:PORT, for messages
	proc   string // this process's name among the crawl's processes
	id     string // the crawl's identity in Redis
	opts   Options
	log    *slog.Logger
	// fixedClock makes the scripts take the times the methods are given,
	// for tests; else they read the Redis server's clock.
	fixedClock bool

	acked   atomic.Int64          // calls Redis answered
	failed  atomic.Pointer[error] // ErrLost or ErrUnreachable, for good
	waiting atomic.Bool           // Redis does not answer at the moment
	claims  atomic.Uint64         // names claims, so that a retry is known

	// Owned by the scheduler goroutine.
	queued  int // requests waiting, over the whole crawl, as last seen
	taken   int // requests taken and not yet done
	seq     uint64
	seen    seenCache
	pending []finished
	buf     []byte

	mu     sync.Mutex
	leases map[*downloader.Request]*lease
	closed bool

	feeding atomic.Bool // still reading start requests

	stopBeat context.CancelFunc
	beatDone chan struct{}
	pushed   map[string]int64 // counters already added to the shared stats
}

// lease is what this process knows of a request it has taken.
type lease struct {
	seq             string
	done, committed bool
}

// finished is a request done, waiting for its links to be queued before
// Redis hears of it.
type finished struct {
	seq                         string
	status, latency, crawlDelay int64
}

// ParseURL checks a Redis URL for Open and returns the client options and
// the crawl name its key parameter gives ("" when none). The forms are
// redis://[USER:PASSWORD@]HOST[:PORT][/DB][?key=NAME], rediss:// for TLS
// and unix:///PATH?db=DB&key=NAME, with go-redis's other parameters
// (dial_timeout=5s, …).
func ParseURL(rawURL string) (*redis.Options, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("bad Redis URL: %w", err)
	}
	q := u.Query()
	name := q.Get("key")
	if q.Has("key") && name == "" {
		return nil, "", fmt.Errorf("bad Redis URL %s: empty key", u.Redacted())
	}
	q.Del("key")
	u.RawQuery = q.Encode()
	ro, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, "", fmt.Errorf("bad Redis URL %s: %w", u.Redacted(), err)
	}
	return ro, name, nil
}

// Open connects to the Redis at rawURL (see ParseURL), joins the crawl
// there, and returns its frontier. It fails when Redis cannot be reached.
func Open(ctx context.Context, rawURL string, opts Options) (*Frontier, error) {
	ro, name, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = opts.Name
	}
	if name == "" {
		name = "crawl"
	}
	if opts.Politeness.PerHost <= 0 {
		opts.Politeness.PerHost = engine.DefaultPerHost
	}
	if opts.Politeness.MaxDelay <= 0 {
		opts.Politeness.MaxDelay = time.Minute
	}
	if opts.LeaseTimeout <= 0 {
		opts.LeaseTimeout = DefaultLeaseTimeout
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Patience <= 0 {
		opts.Patience = opts.LeaseTimeout
	}
	if ro.MaxRetries == 0 {
		// Retries are call's, bounded by Patience.
		ro.MaxRetries = -1
	}
	// Plain RESP over one connection per worker: no identity or
	// maintenance-notification handshakes, which older servers refuse
	// with a log line.
	ro.DisableIdentity = true
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	f := &Frontier{
		rdb:      redis.NewClient(ro),
		script:   redis.NewScript(frontierLua),
		prefix:   "crawl:" + name + ":",
		name:     name,
		proc:     processName(),
		opts:     opts,
		log:      opts.Log,
		leases:   make(map[*downloader.Request]*lease),
		beatDone: make(chan struct{}),
		pushed:   make(map[string]int64),
	}
	f.where = (&url.URL{Scheme: "redis", Host: ro.Addr}).String()
	if err := f.rdb.Ping(ctx).Err(); err != nil {
		f.rdb.Close()
		return nil, fmt.Errorf("connect to Redis at %s: %w", f.where, err)
	}
	if err := checkEviction(ctx, f.rdb); err != nil {
		f.rdb.Close()
		return nil, fmt.Errorf("join the crawl at %s: %w", f.where, err)
	}
	f.feeding.Store(true)
	f.id = newID()
	res, err := f.run(ctx, time.Now(), "open").Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		f.rdb.Close()
		return nil, fmt.Errorf("join the crawl at %s: %w", f.where, err)
	}
	f.acked.Add(1)
	f.id, _ = res[0].(string)
	q, _ := res[1].(int64)
	f.queued = int(q)
	beatCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	f.stopBeat = stop
	go f.beat(beatCtx)
	return f, nil
}

//go:embed frontier.lua
var frontierLua string

// processName names this process among the crawl's: host name, process
// id and a random part, so that a restarted process is a new one.
func processName() string {
	host, _ := os.Hostname()
	var r [4]byte
	binary.LittleEndian.PutUint32(r[:], rand.Uint32())
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), r)
}

// newID returns an identity for a crawl created now.
func newID() string {
	return fmt.Sprintf("%016x%016x", rand.Uint64(), rand.Uint64())
}

// Key returns the key of name in Redis: Key("stats") is the hash of the
// crawl's shared counters.
func (f *Frontier) Key(name string) string { return f.prefix + name }

// run runs one command of the script at now, with the arguments every
// command shares, then args.
func (f *Frontier) run(ctx context.Context, now time.Time, cmd string, args ...any) *redis.Cmd {
	p := f.opts.Politeness
	throttle := "0"
	if p.AutoThrottle {
		throttle = "1"
	}
	all := append([]any{
		f.prefix,
		f.ms(now),
		p.PerHost,
		f.proc,
		f.opts.LeaseTimeout.Milliseconds(),
		p.Delay.Milliseconds(),
		p.MaxDelay.Milliseconds(),
		throttle,
		cmd,
		f.id,
		f.acked.Load(),
	}, args...)
	return f.script.Run(ctx, f.rdb, nil, all...)
}

// ms returns the time the scripts are to take as now: 0, which makes them
// read the Redis server's clock, so that every process on every machine
// reckons delays and leases on one clock, however far the machines'
// clocks are apart.
func (f *Frontier) ms(now time.Time) int64 {
	if f.fixedClock {
		return now.UnixMilli()
	}
	return 0
}

// pendingArgs returns the requests waiting to be finished as arguments.
func (f *Frontier) pendingArgs(args []any) []any {
	for _, d := range f.pending {
		args = append(args, d.seq, d.status, d.latency, d.crawlDelay)
	}
	return args
}

// Add implements engine.Frontier. A start request already seen is refused
// too: every process reads the same start requests, and one fetch of each
// is enough.
func (f *Frontier) Add(ctx context.Context, req *downloader.Request, fp uint64, _ bool, now time.Time) (bool, error) {
	if f.seen.has(fp) {
		return false, nil
	}
	f.buf = engine.AppendRequest(f.buf[:0], req)
	res, err := f.callInts(ctx, now, "add", fingerprint(fp), urls.Hostname(req.URL), f.buf)
	if err != nil {
		return false, fmt.Errorf("queue %s in Redis: %w", req.URL, err)
	}
	f.seen.put(fp)
	f.queued = int(res[1])
	return res[0] == 1, nil
}

// AddAll implements engine.Batcher: the links of a page in one call.
func (f *Frontier) AddAll(ctx context.Context, reqs []*downloader.Request, fps []uint64, now time.Time) (int, error) {
	var args []any
	for i, req := range reqs {
		if f.seen.has(fps[i]) {
			continue
		}
		args = append(args, fingerprint(fps[i]), urls.Hostname(req.URL), engine.AppendRequest(nil, req))
	}
	if len(args) == 0 {
		return 0, nil
	}
	res, err := f.callInts(ctx, now, "adds", args...)
	if err != nil {
		return 0, fmt.Errorf("queue %d links in Redis: %w", len(args)/3, err)
	}
	for i := range reqs {
		f.seen.put(fps[i])
	}
	f.queued = int(res[1])
	return int(res[0]), nil
}

func fingerprint(fp uint64) []byte { return binary.BigEndian.AppendUint64(nil, fp) }

// Claim implements engine.Frontier.
func (f *Frontier) Claim(ctx context.Context, req *downloader.Request, fp uint64) (bool, error) {
	if f.seen.has(fp) {
		return false, nil
	}
	name := strconv.FormatUint(f.claims.Add(1), 36) + "-" + f.proc
	n, err := f.callInt(ctx, time.Now(), "claim", fingerprint(fp), name)
	if err != nil {
		return false, fmt.Errorf("claim the page %s led to in Redis: %w", req.URL, err)
	}
	f.seen.put(fp)
	return n == 1, nil
}

// Next implements engine.Frontier. When no request may start, it asks to
// be asked again soon: other processes queue requests and free hosts'
// slots without telling this one.
func (f *Frontier) Next(ctx context.Context, now time.Time) (*downloader.Request, time.Duration, error) {
	if f.opts.Workers > 0 && f.taken >= f.opts.Workers {
		// Every worker has a request: one taken now would wait here while
		// another process could fetch it.
		return nil, poll, nil
	}
	f.seq++
	seq := strconv.FormatUint(f.seq, 36)
	res, err := f.callSlice(ctx, now, 4, "next", f.pendingArgs([]any{seq})...)
	if err != nil {
		return nil, 0, fmt.Errorf("take a request from Redis: %w", err)
	}
	f.pending = f.pending[:0]
	enc, _ := res[0].(string)
	wait, _ := res[1].(int64)
	queued, _ := res[2].(int64)
	f.queued = int(queued)
	f.noteReaped(res[3])
	if enc == "" {
		d := poll
		if wait >= 0 {
			d = min(max(time.Duration(wait)*time.Millisecond, time.Millisecond), poll)
		}
		return nil, d, nil
	}
	req, err := engine.DecodeRequest([]byte(enc))
	if err != nil {
		// Written by something else than this version of crawl: skipped,
		// counted, and forgotten by the crawl.
		f.log.Error("request in the shared queue skipped", "error", err)
		if f.opts.Stats != nil {
			f.opts.Stats.Inc(stats.LinksSkipped + "corrupt")
		}
		f.pending = append(f.pending, finished{seq: seq})
		if _, err := f.call(ctx, now, "commit", seq); err != nil {
			return nil, 0, fmt.Errorf("skip a request in Redis: %w", err)
		}
		return nil, time.Millisecond, nil
	}
	f.mu.Lock()
	f.leases[req] = &lease{seq: seq}
	f.mu.Unlock()
	f.taken++
	return req, 0, nil
}

// noteReaped logs and counts the requests given back from processes whose
// lease ran out, listed as name, count, name, count…
func (f *Frontier) noteReaped(v any) {
	list, _ := v.([]any)
	for i := 0; i+1 < len(list); i += 2 {
		name, _ := list[i].(string)
		n, _ := list[i+1].(int64)
		f.log.Warn("a crawl process stopped answering: its requests go back to the queue", "process", name, "requests", n)
		if f.opts.Stats != nil {
			f.opts.Stats.Add(Requeued, n)
		}
	}
}

// Done implements engine.Frontier. Redis hears of it with the next call
// of the scheduler, once the request's links are queued: a process killed
// in between gives the request back rather than lose its links.
func (f *Frontier) Done(ctx context.Context, req *downloader.Request, now time.Time, latency time.Duration, status int, crawlDelay time.Duration) error {
	if len(f.pending) > 0 {
		// The links of the requests done before are queued by now.
		if err := f.flush(ctx, now); err != nil {
			return err
		}
	}
	f.mu.Lock()
	l := f.leases[req]
	if l != nil {
		l.done = true
		if l.committed {
			delete(f.leases, req)
		}
	}
	f.mu.Unlock()
	if l == nil {
		return nil
	}
	f.taken--
	f.pending = append(f.pending, finished{
		seq:        l.seq,
		status:     int64(status),
		latency:    latency.Milliseconds(),
		crawlDelay: crawlDelay.Milliseconds(),
	})
	return nil
}

// flush tells Redis of the requests done.
func (f *Frontier) flush(ctx context.Context, now time.Time) error {
	q, err := f.callInt(ctx, now, "finish", f.pendingArgs(nil)...)
	if err != nil {
		return fmt.Errorf("record requests done in Redis: %w", err)
	}
	f.pending = f.pending[:0]
	f.queued = int(q)
	return nil
}

// Commit implements engine.Committer: the request's items are written.
func (f *Frontier) Commit(req *downloader.Request) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return errors.New("commit a request: the shared frontier is closed")
	}
	l := f.leases[req]
	if l != nil {
		l.committed = true
		if l.done {
			delete(f.leases, req)
		}
	}
	f.mu.Unlock()
	if l == nil {
		return nil
	}
	if _, err := f.call(context.Background(), time.Now(), "commit", l.seq); err != nil {
		return fmt.Errorf("record %s as written in Redis: %w", req.URL, err)
	}
	return nil
}

// Len implements engine.Frontier: the requests waiting in the whole
// crawl, as Redis last said.
func (f *Frontier) Len() int { return f.queued }

// StartsTaken implements engine.Starter. Every process reads the start
// requests from the first: those another process has queued are refused
// as seen.
func (f *Frontier) StartsTaken() int64 { return 0 }

// StartTaken implements engine.Starter.
func (f *Frontier) StartTaken(context.Context) error { return nil }

// StartsDone implements engine.Starter: this process has queued every
// start request it had. The crawl is not over while a live process has
// not.
func (f *Frontier) StartsDone(ctx context.Context) error {
	f.feeding.Store(false)
	if _, err := f.call(ctx, time.Now(), "beat", "0"); err != nil {
		return fmt.Errorf("record the end of the start requests in Redis: %w", err)
	}
	return nil
}

// Settled implements engine.Sharer: no request waits, none is taken by a
// live process, and every live process has read its start requests. It
// first gives back the requests of processes whose lease ran out.
func (f *Frontier) Settled(ctx context.Context) (bool, error) {
	return f.settledAt(ctx, time.Now())
}

func (f *Frontier) settledAt(ctx context.Context, now time.Time) (bool, error) {
	res, err := f.callSlice(ctx, now, 3, "settled", f.pendingArgs(nil)...)
	if err != nil {
		return false, fmt.Errorf("ask Redis whether the crawl is over: %w", err)
	}
	f.pending = f.pending[:0]
	settled, _ := res[0].(int64)
	queued, _ := res[1].(int64)
	f.queued = int(queued)
	f.noteReaped(res[2])
	return settled == 1, nil
}

// beat renews this process's lease until ctx is done, and adds to the
// shared stats.
func (f *Frontier) beat(ctx context.Context) {
	defer close(f.beatDone)
	t := time.NewTicker(f.opts.LeaseTimeout / 3)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		feeding := "0"
		if f.feeding.Load() {
			feeding = "1"
		}
		if _, err := f.call(ctx, time.Now(), "beat", feeding); err != nil && ctx.Err() == nil {
			if f.Err() != nil {
				return // the scheduler's next call says why
			}
			f.log.Warn("renew the lease of this crawl process in Redis", "error", err)
		}
		if err := f.pushStats(ctx); err != nil && ctx.Err() == nil {
			f.log.Warn("add to the shared stats in Redis", "error", err)
		}
	}
}

// pushStats adds what the counters gained since the last push to the
// shared stats.
func (f *Frontier) pushStats(ctx context.Context) error {
	if f.opts.Stats == nil {
		return nil
	}
	now := f.opts.Stats.Snapshot()
	gained := make(map[string]int64)
	for name, n := range now {
		if d := n - f.pushed[name]; d != 0 {
			gained[name] = d
		}
	}
	if len(gained) == 0 {
		return nil
	}
	key := f.Key("stats")
	// All or nothing, so that a failed push can be made again whole.
	_, err := f.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for name, d := range gained {
			p.HIncrBy(ctx, key, name, d)
		}
		return nil
	})
	if err != nil {
		return err
	}
	f.pushed = now
	return nil
}

// closeTimeout bounds how long Close waits for Redis.
const closeTimeout = 30 * time.Second

// Close gives the requests this process took and did not finish back to
// the queue at once, so that other processes need not wait for its lease
// to run out, leaves the crawl, adds the last counts to the shared stats,
// and disconnects. The crawl stays in Redis for the other processes, and
// for a later run that resumes it.
func (f *Frontier) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	clear(f.leases)
	f.mu.Unlock()
	f.stopBeat()
	<-f.beatDone
	if f.Err() != nil {
		// Nothing to give back to, or no one to give it to: the error
		// was told when it happened.
		return f.rdb.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	var errs []error
	n, err := f.callInt(ctx, time.Now(), "close", f.pendingArgs(nil)...)
	if err != nil {
		errs = append(errs, fmt.Errorf("give requests back to the queue in Redis: %w", err))
	} else if n > 0 {
		f.log.Info("requests taken and not finished went back to the shared queue", "requests", n)
		if f.opts.Stats != nil {
			f.opts.Stats.Add(Requeued, n)
		}
	}
	f.pending = nil
	if err := f.pushStats(ctx); err != nil {
		errs = append(errs, fmt.Errorf("add to the shared stats in Redis: %w", err))
	}
	if err := f.rdb.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// abandon leaves Redis as a killed process would: the lease is neither
// renewed nor given back. For tests.
func (f *Frontier) abandon() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.stopBeat()
	<-f.beatDone
	f.rdb.Close()
}

// seenCache remembers fingerprints this process has already sent to
// Redis, which are then in the shared seen set for good, so that a link
// met again costs no round trip. It is a fixed table: a newer fingerprint
// replaces an older one in its slot, and the older one costs a round trip
// again if met later.
type seenCache struct {
	slots []uint64
}

const seenCacheSize = 1 << 18 // 2 MiB

func (c *seenCache) has(fp uint64) bool {
	return fp != 0 && c.slots != nil && c.slots[fp&(seenCacheSize-1)] == fp
}

func (c *seenCache) put(fp uint64) {
	if c.slots == nil {
		c.slots = make([]uint64, seenCacheSize)
	}
	c.slots[fp&(seenCacheSize-1)] = fp
}

var (
	_ engine.Committer = (*Frontier)(nil)
	_ engine.Starter   = (*Frontier)(nil)
	_ engine.Sharer    = (*Frontier)(nil)
)
var _ engine.Batcher = (*Frontier)(nil)
