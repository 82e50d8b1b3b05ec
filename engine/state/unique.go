package state

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"go.etcd.io/bbolt"
)

// bucketUnique holds the unique keys of the items written: key → the
// fingerprint of the page whose item kept it.
var bucketUnique = []byte("unique")

// uniqueKeys is the set of unique keys of a crawl kept in a state
// directory: those that committed pages claimed, read from the store at
// Open, and those that pages of this run claimed. A page's claims reach
// the store in the transaction that commits the page, so a page fetched
// again after the process died finds its keys free again, and a key
// claimed by a committed page is never free again. It is safe for
// concurrent use.
type uniqueKeys struct {
	mu     sync.Mutex
	owner  map[uint64]uint64   // key → the page that claimed it
	byPage map[uint64][]uint64 // the keys of pages not yet committed
}

// load reads the keys that committed pages claimed.
func (u *uniqueKeys) load(tx *bbolt.Tx) error {
	u.owner = make(map[uint64]uint64)
	u.byPage = make(map[uint64][]uint64)
	return tx.Bucket(bucketUnique).ForEach(func(k, v []byte) error {
		if len(k) != 8 || len(v) != 8 {
			return fmt.Errorf("corrupt unique key %x", k)
		}
		u.owner[binary.BigEndian.Uint64(k)] = binary.BigEndian.Uint64(v)
		return nil
	})
}

// claim implements engine.KeyClaimer's ClaimKeys.
func (u *uniqueKeys) claim(page uint64, keys []uint64, fresh []bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i, k := range keys {
		if _, taken := u.owner[k]; taken {
			fresh[i] = false
			continue
		}
		u.owner[k] = page
		u.byPage[page] = append(u.byPage[page], k)
		fresh[i] = true
	}
}

// commit returns the writes that record the claims of page, now
// committed, and forgets them as pending.
func (u *uniqueKeys) commit(page uint64, ops []op) []op {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, k := range u.byPage[page] {
		ops = append(ops, op{kind: opUnique, fp: k, n: int64(page)})
	}
	delete(u.byPage, page)
	return ops
}

// ClaimKeys implements engine.KeyClaimer. A key claimed by a page of this
// run that is not yet committed is not free either: were the process to
// die, both pages would be fetched again and one would claim it again.
func (f *Frontier) ClaimKeys(_ context.Context, page uint64, keys []uint64, fresh []bool) error {
	f.keys.claim(page, keys, fresh)
	return nil // a failure to write is Commit's to report: see log
}
