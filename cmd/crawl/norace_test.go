//go:build !race

package main

// raceEnabled says whether the tests, and the crawl children they start,
// run under the race detector.
const raceEnabled = false
