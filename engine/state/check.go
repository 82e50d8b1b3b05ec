package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// DamagedError reports a store that cannot be read: cut short, partly
// overwritten, not a store at all. The crawl cannot continue from it; the
// output written so far is untouched.
type DamagedError struct {
	Path    string // the store file
	Problem string // what is wrong with it

	// panicked: bbolt panicked or faulted, and may still hold its locks,
	// so that closing the store could wait for ever.
	panicked bool
}

func (e *DamagedError) Error() string {
	problem := strings.Join(strings.Fields(e.Problem), " ") // one line
	return fmt.Sprintf("state store %s is damaged (%s): start again with a new --state directory, or keep the output already written", e.Path, problem)
}

// The layout of a bbolt file that checkFile reads: two meta pages at the
// start (the second one page size in), each a 16-byte page header and then
// the meta fields, the last of them a checksum (FNV-64a) of the others.
const (
	pageHeader    = 16
	metaMagic     = 0xED0CDAED
	metaVersion   = 2
	metaSumOffset = 56 // of the checksum within the meta fields
	noFreelist    = ^uint64(0)
	minPageSize   = 512
	maxPageSize   = 64 << 10
)

// meta is what checkFile reads of a meta page.
type meta struct {
	pageSize uint32
	root     uint64 // the page of the root bucket
	freelist uint64
	pgid     uint64 // the high-water mark: pages below it are in use
	txid     uint64
}

// checkFile checks the store at path before bbolt maps it into memory,
// where a file cut short faults (SIGBUS) when a page past its end is read,
// and a page overwritten with garbage makes bbolt panic. It finds what
// bbolt would refuse or crash on in the file's first pages: a file that
// is not a regular file, is empty or unreadable, has no valid meta page,
// or is shorter than its meta page says. A missing file is fine: Open
// creates it.
func checkFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &DamagedError{Path: path, Problem: err.Error()}
	}
	if !fi.Mode().IsRegular() {
		return &DamagedError{Path: path, Problem: fmt.Sprintf("not a regular file but %s", modeName(fi.Mode()))}
	}
	if fi.Size() == 0 {
		return &DamagedError{Path: path, Problem: "the file is empty"}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if pe := (*fs.PathError)(nil); errors.Is(err, fs.ErrPermission) && errors.As(err, &pe) {
		return fmt.Errorf("state store %s cannot be opened for reading and writing (%w): give this user access to it, or use another --state directory", path, pe.Err)
	}
	if err != nil {
		return &DamagedError{Path: path, Problem: err.Error()}
	}
	defer f.Close()
	buf := make([]byte, min(2*maxPageSize, fi.Size()))
	n, err := io.ReadFull(f, buf)
	if err != nil {
		return &DamagedError{Path: path, Problem: fmt.Sprintf("read: %v", err)}
	}
	head := buf[:n]
	m0, err0 := readMeta(head, 0)
	var m1 meta
	var err1 error
	if err0 == nil {
		m1, err1 = readMeta(head, int(m0.pageSize))
	} else {
		// bbolt looks for the second meta page at the system's page
		// size when the first is unreadable.
		m1, err1 = readMeta(head, os.Getpagesize())
	}
	var m meta
	switch {
	case err0 != nil && err1 != nil:
		return &DamagedError{Path: path, Problem: fmt.Sprintf("no valid meta page: %v", err0)}
	case err1 != nil || (err0 == nil && m0.txid >= m1.txid):
		m = m0
	default:
		m = m1
	}
	if want := int64(m.pgid) * int64(m.pageSize); fi.Size() < want {
		return &DamagedError{Path: path, Problem: fmt.Sprintf("the file holds %d bytes, fewer than the %d its meta page says: it was cut short", fi.Size(), want)}
	}
	return nil
}

// readMeta reads and checks the meta page at offset off of head.
func readMeta(head []byte, off int) (meta, error) {
	const fields = pageHeader + metaSumOffset + 8
	if off < 0 || off+fields > len(head) {
		return meta{}, fmt.Errorf("%d bytes, too short to be a crawl state store", len(head))
	}
	b := head[off+pageHeader : off+fields]
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != metaMagic {
		return meta{}, errors.New("not a crawl state store (bad magic number)")
	}
	if v := le.Uint32(b[4:]); v != metaVersion {
		return meta{}, fmt.Errorf("unknown store version %d", v)
	}
	h := fnv.New64a()
	h.Write(b[:metaSumOffset])
	if h.Sum64() != le.Uint64(b[metaSumOffset:]) {
		return meta{}, errors.New("meta page checksum mismatch")
	}
	m := meta{
		pageSize: le.Uint32(b[8:]),
		root:     le.Uint64(b[16:]),
		freelist: le.Uint64(b[32:]),
		pgid:     le.Uint64(b[40:]),
		txid:     le.Uint64(b[48:]),
	}
	switch {
	case m.pageSize < minPageSize || m.pageSize > maxPageSize || m.pageSize&(m.pageSize-1) != 0:
		return meta{}, fmt.Errorf("bad page size %d", m.pageSize)
	case m.pgid < 4 || m.root < 2 || m.root >= m.pgid:
		return meta{}, fmt.Errorf("bad root page %d of %d", m.root, m.pgid)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		return meta{}, fmt.Errorf("bad freelist page %d of %d", m.freelist, m.pgid)
	}
	return m, nil
}

// modeName names the type of a file that is not regular.
func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// guard calls fn, which reads or writes the store at path, and turns a
// panic of bbolt's, or a memory fault in the mapped file (a file cut
// short behind the crawl's back), into a DamagedError: bbolt panics when
// a page it reads is not what it expects. Every call into the store goes
// through guard.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			problem := fmt.Sprint(r)
			if re, ok := r.(runtime.Error); ok && strings.Contains(re.Error(), "invalid memory address") {
				problem = "a page could not be read from the file: was it cut short while in use?"
			}
			err = &DamagedError{Path: path, Problem: problem, panicked: true}
		}
	}()
	return fn()
}

// checkPages walks every page of the store, as bbolt's own check does,
// and returns the first problem it finds: a store whose pages were
// overwritten would otherwise be read as wrong data, or crash later.
func checkPages(db *bbolt.DB, path string) error {
	return guard(path, func() error {
		return db.View(func(tx *bbolt.Tx) error {
			var first error
			for err := range tx.Check() {
				if first == nil {
					first = err
				}
			}
			if first != nil {
				return &DamagedError{Path: path, Problem: first.Error()}
			}
			return nil
		})
	})
}

// openStore checks the store at path and opens it, creating it when it
// does not exist.
func openStore(dir, path string) (*bbolt.DB, error) {
	_, statErr := os.Stat(path)
	existed := statErr == nil
	if err := checkFile(path); err != nil {
		return nil, err
	}
	var db *bbolt.DB
	err := guard(path, func() (err error) {
		db, err = bbolt.Open(path, 0o644, &bbolt.Options{Timeout: time.Second})
		return err
	})
	var damaged *DamagedError
	switch {
	case errors.Is(err, bbolt.ErrTimeout):
		return nil, fmt.Errorf("state directory %s is in use by another crawl", dir)
	case errors.As(err, &damaged):
		return nil, err
	case errors.Is(err, bbolt.ErrInvalid), errors.Is(err, bbolt.ErrChecksum), errors.Is(err, bbolt.ErrVersionMismatch):
		return nil, &DamagedError{Path: path, Problem: err.Error()}
	case err != nil:
		return nil, fmt.Errorf("open state in %s: %w", dir, err)
	}
	if existed {
		if err := checkPages(db, path); err != nil {
			closeStore(db, path, err)
			return nil, err
		}
	}
	return db, nil
}

// update runs fn in a read-write transaction of the store, through guard.
func (f *Frontier) update(fn func(*bbolt.Tx) error) error {
	return guard(f.path, func() error { return f.db.Update(fn) })
}

// closeStore closes the store at path, which failed with err, unless bbolt
// may hold its locks after a panic (see DamagedError): the store is then
// left open, for the process's exit to close.
func closeStore(db *bbolt.DB, path string, err error) error {
	if damaged := (*DamagedError)(nil); errors.As(err, &damaged) && damaged.panicked {
		return nil
	}
	return guard(path, db.Close)
}
