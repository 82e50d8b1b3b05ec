package spider

import (
	"sync"

	"crawl/item"
)

// FieldUse counts, for each item rule, the items written and how many of
// them had a value for each of the rule's fields, so that a crawl can warn
// about fields that matched nothing on any page: a selector that is wrong
// costs a line in the summary rather than a silent column of nothing. The
// zero FieldUse is not usable; make one with Spider.FieldUse. It is safe
// for concurrent use.
type FieldUse struct {
	sp     *Spider
	mu     sync.Mutex
	items  map[string]int64
	filled map[string]map[string]int64 // rule, field: items with a value
}

// EmptyField is a field of an item rule that had no value in any of the
// Items the rule produced.
type EmptyField struct {
	Rule, Field string
	Items       int64
}

// FieldUse returns a FieldUse for the spider's item rules.
func (s *Spider) FieldUse() *FieldUse {
	return &FieldUse{sp: s, items: map[string]int64{}, filled: map[string]map[string]int64{}}
}

// Add counts an item.
func (u *FieldUse) Add(it *item.Item) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.items[it.Rule]++
	m := u.filled[it.Rule]
	if m == nil {
		m = map[string]int64{}
		u.filled[it.Rule] = m
	}
	for _, f := range it.Fields {
		if !isEmpty(f.Value) {
			m[f.Name]++
		}
	}
}

// Empty returns the fields that had no value in any item of their rule,
// for the rules that produced items, in file order.
func (u *FieldUse) Empty() []EmptyField {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []EmptyField
	for _, r := range u.sp.items {
		n := u.items[r.name]
		if n == 0 {
			continue
		}
		for _, f := range r.names {
			if u.filled[r.name][f] == 0 {
				out = append(out, EmptyField{Rule: r.name, Field: f, Items: n})
			}
		}
	}
	return out
}
