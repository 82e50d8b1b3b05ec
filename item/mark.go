package item

// NewMark returns a mark: not a record but a place in the stream of items.
// A crawl that must know when its items are safely written sends a mark
// after the items of each page; every stage passes marks on in order
// without counting them, and the last stage calls done once every item
// before the mark has been handed to the operating system. A stage that
// stops passing items on (a limit reached) drops the marks after that
// point too, so done is never called for a page whose items were not all
// written.
func NewMark(done func()) *Item { return &Item{mark: done} }

// IsMark reports whether it is a mark rather than a record.
func (it *Item) IsMark() bool { return it.mark != nil }

// Reached calls the done function of a mark; it does nothing for a record.
func (it *Item) Reached() {
	if it.mark != nil {
		it.mark()
	}
}
