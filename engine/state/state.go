// Package state keeps a crawl's frontier in a directory, so that a crawl
// stopped at any moment, by Ctrl-C, kill -TERM or kill -9, continues where
// it stopped when it is run again with the same directory, like Scrapy's
// JOBDIR.
//
// The directory holds one bbolt file, crawl.db, with four buckets:
//
//	pending  fingerprint → sequence number, encoded request: every request
//	         queued or in flight, which the next run fetches
//	seen     fingerprint → nothing: every request ever queued, and every
//	         page reached through a redirect
//	meta     the spider and output the directory belongs to, how many start
//	         requests were taken, the output's committed length, the stats
//	unique   unique key → fingerprint of the page whose item kept it: the
//	         keys of items written (see uniqueKeys)
//
// Changes are logged in memory, in the order they happen, and written to
// the file in one transaction at each commit of a page and every Interval,
// so the file always holds a prefix of the crawl's history. A page leaves
// pending only once its items are written to the output
// (engine.Committer), in the transaction that records the output's new
// committed length, and its links enter pending before that. So whenever
// the process dies, the next run cuts the output back to the committed
// length, fetches again what was pending (the requests in flight at the
// moment of death), and every item ends up in the output exactly once.
//
// The transactions of commits are not synced to the disk, which would cost
// a disk flush per page: the operating system keeps what a killed process
// wrote. The file is synced every Interval, so a machine that loses power
// loses at most that much of the crawl's history, provided the disk
// honours the order of writes around a sync.
package state

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"crawl/downloader"
	"crawl/engine"
	"crawl/stats"
	"crawl/urls"
)

// FileName is the name of the store in a state directory.
const FileName = "crawl.db"

// DefaultInterval is how often logged changes are written and synced when
// Options.Interval is zero.
const DefaultInterval = time.Second

var (
	bucketPending = []byte("pending")
	bucketSeen    = []byte("seen")
	bucketMeta    = []byte("meta")

	keySpider = []byte("spider")
	keyOutput = []byte("output")
	keyStarts = []byte("starts")
	keyOffset = []byte("offset")
	keyStats  = []byte("stats")
)

// Options configures a Frontier.
type Options struct {
	// Spider and Output name the crawl: a directory belongs to one spider
	// and one output file, and Open refuses another.
	Spider string
	Output string
	// Canon is the canonical form the engine fingerprints requests by.
	Canon urls.Canon
	// Politeness, QueueMemory, SpillDir and Order configure the in-memory
	// frontier that schedules the requests, as engine.NewMemoryFrontier.
	Politeness  engine.Politeness
	QueueMemory int
	SpillDir    string
	Order       engine.Order
	// Stats is restored from the directory on Open and saved with every
	// write. Nil means none.
	Stats *stats.Stats
	// Interval is how often changes are written and synced to the disk.
	// Zero means DefaultInterval.
	Interval time.Duration
	// Log receives what Open found. Nil means slog.Default().
	Log *slog.Logger
}

// Frontier is an engine.Frontier whose state outlives the process. It
// schedules requests with an engine.MemoryFrontier and logs every change
// to the store. Create it with Open and call Close when the output is
// closed.
type Frontier struct {
	mem  *engine.MemoryFrontier
	db   *bbolt.DB
	path string // of the store, for errors
	opts Options

	taken  int64 // start requests taken by earlier runs
	offset int64 // the output's committed length, as found by Open
	seq    uint64
	starts int64 // start requests taken, in all runs (scheduler only)

	wmu      sync.Mutex // held while writing, so that writes apply in order
	unsynced bool       // written without a sync since the last (under wmu)
	mu       sync.Mutex // guards what the scheduler and the output goroutine share
	ops      []op       // changes not yet written, in order
	claims   map[uint64]uint64
	keys     uniqueKeys
	position func() int64
	err      error // first failure to write; it sticks

	stop chan struct{}
	done chan struct{}
}

// op is one logged change.
type op struct {
	kind byte
	fp   uint64
	n    int64
	val  []byte
}

const (
	opPut    = iota // a request enters pending (and seen)
	opDel           // a request leaves pending: its page is committed
	opSeen          // a page reached through a redirect is seen
	opStarts        // n start requests have been taken
	opOffset        // the output's committed length is n
	opUnique        // the unique key fp belongs to the page n
)

// Open opens or creates the store in dir and rebuilds the frontier from
// it. A store that another running crawl has open is an error, as is one
// made for another spider or output.
func Open(dir string, o Options) (*Frontier, error) {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := openStore(dir, path)
	if err != nil {
		return nil, err
	}
	f := &Frontier{
		mem:    engine.NewMemoryFrontier(o.Politeness, o.QueueMemory, o.SpillDir, o.Order),
		db:     db,
		path:   path,
		opts:   o,
		claims: make(map[uint64]uint64),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if err := f.load(dir); err != nil {
		f.mem.Close()
		closeStore(db, path, err)
		return nil, err
	}
	go f.writeEvery(o.Interval)
	return f, nil
}

// load checks that the store belongs to this crawl and rebuilds the
// frontier from it.
func (f *Frontier) load(dir string) error {
	pending := 0
	err := f.update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketPending, bucketSeen, bucketMeta, bucketUnique} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		for _, kv := range []struct {
			key  []byte
			what string
			want string
		}{{keySpider, "spider", f.opts.Spider}, {keyOutput, "output", f.opts.Output}} {
			got := meta.Get(kv.key)
			if got == nil {
				if err := meta.Put(kv.key, []byte(kv.want)); err != nil {
					return err
				}
				continue
			}
			if string(got) != kv.want {
				return fmt.Errorf("state directory %s belongs to a crawl with %s %q, not %q: use another --state directory", dir, kv.what, got, kv.want)
			}
		}
		f.taken = int64(getUint(meta.Get(keyStarts)))
		f.starts = f.taken
		f.offset = int64(getUint(meta.Get(keyOffset)))
		if raw := meta.Get(keyStats); raw != nil && f.opts.Stats != nil {
			var snap map[string]int64
			if err := json.Unmarshal(raw, &snap); err != nil {
				return fmt.Errorf("read saved stats: %w", err)
			}
			for k, v := range snap {
				f.opts.Stats.Add(k, v)
			}
		}
		if err := f.keys.load(tx); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSeen).ForEach(func(k, _ []byte) error {
			f.mem.See(binary.BigEndian.Uint64(k))
			return nil
		}); err != nil {
			return err
		}
		// Queue the pending requests again in the order they were first
		// queued.
		type entry struct{ seq, fp uint64 }
		var order []entry
		pend := tx.Bucket(bucketPending)
		if err := pend.ForEach(func(k, v []byte) error {
			if len(k) != 8 || len(v) < 8 {
				return fmt.Errorf("corrupt pending request %x", k)
			}
			order = append(order, entry{binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(k)})
			return nil
		}); err != nil {
			return err
		}
		slices.SortFunc(order, func(a, b entry) int { return cmp.Compare(a.seq, b.seq) })
		now := time.Now()
		var key [8]byte
		for _, e := range order {
			binary.BigEndian.PutUint64(key[:], e.fp)
			req, err := engine.DecodeRequest(pend.Get(key[:])[8:])
			if err != nil {
				return fmt.Errorf("read pending request: %w", err)
			}
			if _, err := f.mem.Add(context.Background(), req, e.fp, true, now); err != nil {
				return err
			}
			f.seq = max(f.seq, e.seq)
		}
		pending = len(order)
		return nil
	})
	if damaged := (*DamagedError)(nil); errors.As(err, &damaged) {
		return err
	}
	if err != nil {
		return fmt.Errorf("read state in %s: %w", dir, err)
	}
	if f.Resumed() {
		f.opts.Log.Info("resuming crawl", "state", dir, "pending", pending, "start_requests_taken", f.taken, "output_bytes", f.offset)
	}
	return nil
}

// Resumed reports whether the store held an earlier run's crawl.
func (f *Frontier) Resumed() bool { return f.taken > 0 || f.offset > 0 || f.mem.Len() > 0 }

// Offset returns the length of the output that the store records as
// committed: the caller truncates the output to it before writing, which
// removes items of pages that will be fetched again.
func (f *Frontier) Offset() int64 { return f.offset }

// SetPosition gives the function that returns the output's length after
// the last flush, or -1 if it cannot tell. The output goroutine calls it
// from Commit, right after a flush. It must be set before the crawl
// starts.
func (f *Frontier) SetPosition(pos func() int64) {
	f.mu.Lock()
	f.position = pos
	f.mu.Unlock()
}

// Add implements engine.Frontier.
func (f *Frontier) Add(ctx context.Context, req *downloader.Request, fp uint64, start bool, now time.Time) (bool, error) {
	added, err := f.mem.Add(ctx, req, fp, start, now)
	if err != nil || !added {
		return added, err
	}
	f.seq++
	val := binary.BigEndian.AppendUint64(nil, f.seq)
	val = engine.AppendRequest(val, req)
	return true, f.log(op{kind: opPut, fp: fp, val: val})
}

// Claim implements engine.Frontier. The page is recorded as seen when req
// is committed: if the process dies first, req is fetched again and must
// be free to claim the page again.
func (f *Frontier) Claim(ctx context.Context, req *downloader.Request, fp uint64) (bool, error) {
	fresh, err := f.mem.Claim(ctx, req, fp)
	if err != nil || !fresh {
		return fresh, err
	}
	if rfp, err := engine.Fingerprint(f.opts.Canon, req); err == nil {
		f.mu.Lock()
		f.claims[rfp] = fp
		f.mu.Unlock()
	}
	return true, nil
}

// Next implements engine.Frontier.
func (f *Frontier) Next(ctx context.Context, now time.Time) (*downloader.Request, time.Duration, error) {
	return f.mem.Next(ctx, now)
}

// Done implements engine.Frontier.
func (f *Frontier) Done(ctx context.Context, req *downloader.Request, now time.Time, latency time.Duration, status int, crawlDelay time.Duration) error {
	return f.mem.Done(ctx, req, now, latency, status, crawlDelay)
}

// Len implements engine.Frontier.
func (f *Frontier) Len() int { return f.mem.Len() }

// Commit implements engine.Committer: req leaves pending, with the
// output's length after its items.
func (f *Frontier) Commit(req *downloader.Request) error {
	fp, err := engine.Fingerprint(f.opts.Canon, req)
	if err != nil {
		return fmt.Errorf("commit %s: %w", req.URL, err)
	}
	f.mu.Lock()
	f.ops = append(f.ops, op{kind: opDel, fp: fp})
	if claimed, ok := f.claims[fp]; ok {
		delete(f.claims, fp)
		f.ops = append(f.ops, op{kind: opSeen, fp: claimed})
	}
	f.ops = f.keys.commit(fp, f.ops)
	if f.position != nil {
		if n := f.position(); n >= 0 {
			f.ops = append(f.ops, op{kind: opOffset, n: n})
		}
	}
	f.mu.Unlock()
	f.write(false, true)
	return f.failed()
}

// Begin records the output's length before this run writes to it, and
// writes the store at once: a new crawl appending to a file that already
// holds items must never cut them off when it resumes. pos is as for
// SetPosition.
func (f *Frontier) Begin(pos func() int64) error {
	f.SetPosition(pos)
	if n := pos(); n >= 0 {
		f.log(op{kind: opOffset, n: n})
	}
	f.write(true, true)
	return f.failed()
}

// StartsTaken implements engine.Starter.
func (f *Frontier) StartsTaken() int64 { return f.taken }

// StartTaken implements engine.Starter.
func (f *Frontier) StartTaken(context.Context) error {
	f.starts++
	return f.log(op{kind: opStarts, n: f.starts})
}

// StartsDone implements engine.Starter.
func (f *Frontier) StartsDone(context.Context) error { return nil }

// log appends o to the changes to write. It never fails: a failure to
// write (a full disk, say) is reported by the next Commit, which stops the
// crawl gracefully with engine.CommitFailed, and by Close; were Add to
// report it, the scheduler would end the crawl at once, as cancelled.
func (f *Frontier) log(o op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, o)
	return nil
}

func (f *Frontier) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// writeEvery writes the logged changes every interval until Close.
func (f *Frontier) writeEvery(interval time.Duration) {
	defer close(f.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			f.write(true, false)
		case <-f.stop:
			return
		}
	}
}

// write applies the changes logged so far in one transaction, with the
// stats, and syncs the file to the disk if sync; when nothing changed, it
// writes only if force.
func (f *Frontier) write(sync, force bool) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	f.mu.Lock()
	ops := f.ops
	f.ops = nil
	failed := f.err != nil
	f.mu.Unlock()
	if failed {
		return
	}
	if len(ops) == 0 && !force {
		if sync && f.unsynced {
			f.fail(guard(f.path, f.db.Sync))
			f.unsynced = false
		}
		return
	}
	f.db.NoSync = !sync
	err := f.update(func(tx *bbolt.Tx) error {
		pend, seen, meta := tx.Bucket(bucketPending), tx.Bucket(bucketSeen), tx.Bucket(bucketMeta)
		var key [8]byte
		for _, o := range ops {
			binary.BigEndian.PutUint64(key[:], o.fp)
			var err error
			switch o.kind {
			case opPut:
				if err = pend.Put(key[:], o.val); err == nil {
					err = seen.Put(key[:], nil)
				}
			case opDel:
				err = pend.Delete(key[:])
			case opSeen:
				err = seen.Put(key[:], nil)
			case opStarts:
				err = meta.Put(keyStarts, binary.BigEndian.AppendUint64(nil, uint64(o.n)))
			case opOffset:
				err = meta.Put(keyOffset, binary.BigEndian.AppendUint64(nil, uint64(o.n)))
			case opUnique:
				err = tx.Bucket(bucketUnique).Put(key[:], binary.BigEndian.AppendUint64(nil, uint64(o.n)))
			}
			if err != nil {
				return err
			}
		}
		if f.opts.Stats != nil {
			raw, err := json.Marshal(f.opts.Stats.Snapshot())
			if err != nil {
				return err
			}
			return meta.Put(keyStats, raw)
		}
		return nil
	})
	f.unsynced = !sync
	f.fail(err)
}

// fail records the first failure to write.
func (f *Frontier) fail(err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	if f.err == nil {
		f.err = fmt.Errorf("write state: %w", err)
	}
	f.mu.Unlock()
}

// Close writes what is logged and closes the store. Call it after the
// output has been flushed and closed, so that the last commits are in.
func (f *Frontier) Close() error {
	close(f.stop)
	<-f.done
	f.write(true, true)
	f.mem.Close()
	ferr := f.failed()
	err := closeStore(f.db, f.path, ferr)
	if ferr != nil {
		return ferr
	}
	if err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	return nil
}

func getUint(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

var _ engine.Committer = (*Frontier)(nil)
var _ engine.Starter = (*Frontier)(nil)
var _ engine.KeyClaimer = (*Frontier)(nil)
