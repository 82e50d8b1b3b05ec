// Package pipeline carries scraped items from the spider to the output:
// stages that each take a channel of items and return one, and writers at the
// end that write each item the moment it arrives.
package pipeline

// Drop is the error a stage returns to drop an item. Reason is a short
// snake_case word that the stats count items under (e.g. "missing_required");
// Detail says which item and why, for the log.
type Drop struct {
	Reason string
	Detail string
}

func (d *Drop) Error() string {
	if d.Detail == "" {
		return "item dropped: " + d.Reason
	}
	return "item dropped: " + d.Reason + ": " + d.Detail
}
