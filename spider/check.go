package spider

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"

	"crawl/item"
	"crawl/pipeline"
)

// Reasons Check drops an item, the values of pipeline.Drop.Reason.
const (
	DropMissing   = "missing_required" // a required field is absent, "" or an empty list
	DropBadType   = "bad_type"         // a required field's text did not convert to its type
	DropDuplicate = "duplicate"        // an item of the rule with the same unique fields was kept before
)

// Check reports whether an item may be written, and is meant to be the
// pipeline's check of every item the crawl scrapes. It returns nil or a
// *pipeline.Drop whose Reason is
//   - "bad_type" when the text of a required field did not convert to the
//     field's type (type: int, say);
//   - "missing_required" when a required field is absent, "" or an empty
//     list;
//   - "duplicate" when an earlier item of the same rule, kept by Check, had
//     the same values of the rule's unique fields.
//
// A field that is not required and did not convert is removed from the
// item, which is kept, and counted in Stats. Only items that pass every
// other test claim their unique key, so a dropped item never hides a later
// good one. An item lacking one of its unique fields is not de-duplicated.
// Items of rules the spider does not have pass.
//
// Check remembers the 64-bit fingerprints of the unique keys it has seen
// (xxHash of the values), not the values, in memory: for one run of one
// process. A crawl whose state outlives the process (--state, --frontier)
// checks items with Validate instead and keeps UniqueKey with that state.
// It is safe for concurrent use.
func (s *Spider) Check(it *item.Item) error {
	r := s.rule(it.Rule)
	if r == nil {
		return nil
	}
	if err := r.validate(it, s); err != nil {
		return err
	}
	if r.seen == nil {
		return nil
	}
	fp, ok := r.key(it)
	if ok && !r.seen.add(fp) {
		return &pipeline.Drop{Reason: DropDuplicate, Detail: it.Rule + ": " + r.describeKey(it)}
	}
	return nil
}

// Validate is the part of Check that looks at the item alone: it drops
// items with a bad or missing required field, and removes fields that did
// not convert, as Check does, but it claims no unique key. A crawl that
// keeps its unique keys elsewhere (with a --state directory or a shared
// frontier) checks items with Validate and asks its store about UniqueKey.
// Validate may be called again on an item it kept: it then keeps it again
// and counts nothing twice. It is safe for concurrent use.
func (s *Spider) Validate(it *item.Item) error {
	r := s.rule(it.Rule)
	if r == nil {
		return nil
	}
	return r.validate(it, s)
}

// UniqueKey returns the 64-bit fingerprint of the item's unique key, the
// values of its rule's unique fields with the rule's name, which Check
// remembers; ok is false when the item's rule has no unique fields or the
// item lacks one of them. Call it after Validate, which may remove fields.
func (s *Spider) UniqueKey(it *item.Item) (key uint64, ok bool) {
	r := s.rule(it.Rule)
	if r == nil || r.seen == nil {
		return 0, false
	}
	return r.key(it)
}

// validate is the part of Check that looks at the item alone: bad types
// and required fields. It removes fields that did not convert; with s set,
// it counts them in s.Stats.
func (r *itemRule) validate(it *item.Item, s *Spider) error {
	if r.typed {
		var bad []string
		removed := removeBad(it, r.required, &bad)
		if len(bad) > 0 {
			return &pipeline.Drop{Reason: DropBadType, Detail: it.Rule + ": " + strings.Join(bad, ", ")}
		}
		if removed > 0 && s != nil && s.Stats != nil {
			s.Stats.Add(FieldsDropped+DropBadType, int64(removed))
		}
	}
	var missing []string
	for _, name := range r.required {
		v, ok := it.Get(name)
		if !ok || isEmpty(v) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return &pipeline.Drop{Reason: DropMissing, Detail: it.Rule + ": " + strings.Join(missing, ", ")}
	}
	return nil
}

// removeBad removes the fields of it, and of its sub-items, that did not
// convert to their type, and returns how many it removed; the required
// ones among them are described in bad.
func removeBad(it *item.Item, required []string, bad *[]string) int {
	removed := 0
	for i := 0; i < len(it.Fields); {
		f := it.Fields[i]
		if b, ok := f.Value.(*badValue); ok {
			if contains(required, f.Name) {
				*bad = append(*bad, f.Name+" "+b.String())
			}
			it.Fields = append(it.Fields[:i], it.Fields[i+1:]...)
			removed++
			continue
		}
		if subs, ok := f.Value.([]*item.Item); ok {
			for _, sub := range subs {
				removed += removeBad(sub, nil, bad)
			}
		}
		i++
	}
	return removed
}

// key returns the fingerprint of the item's unique fields; ok is false
// when it lacks one.
func (r *itemRule) key(it *item.Item) (uint64, bool) {
	var (
		stack [256]byte
		buf   = stack[:0]
	)
	buf = append(buf, r.name...)
	for _, name := range r.unique {
		v, ok := it.Get(name)
		if !ok {
			return 0, false
		}
		var text []byte
		if s, ok := v.(string); ok {
			buf = append(buf, 's')
			text = []byte(s)
		} else {
			buf = append(buf, 'j')
			text, _ = json.Marshal(v)
		}
		buf = binary.AppendUvarint(buf, uint64(len(text)))
		buf = append(buf, text...)
	}
	return xxhash.Sum64(buf), true
}

// describeKey writes the unique fields of an item for a log.
func (r *itemRule) describeKey(it *item.Item) string {
	parts := make([]string, len(r.unique))
	for i, name := range r.unique {
		v, _ := it.Get(name)
		b, _ := json.Marshal(v)
		parts[i] = name + "=" + string(b)
	}
	return strings.Join(parts, ", ")
}

// isEmpty reports whether a field value counts as missing.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []string:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case []*item.Item:
		return len(v) == 0
	}
	return false
}

// fpSet is a set of 64-bit fingerprints: the unique keys an item rule has
// kept. The zero value is not ready; use newFPSet. It is safe for
// concurrent use.
type fpSet struct {
	mu sync.Mutex
	m  map[uint64]struct{}
}

func newFPSet() *fpSet { return &fpSet{m: make(map[uint64]struct{})} }

// add adds fp and reports whether it was new: one check-and-add, so that
// two goroutines can never both claim one key.
func (s *fpSet) add(fp uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[fp]; ok {
		return false
	}
	s.m[fp] = struct{}{}
	return true
}
