//go:build !unix

package engine

import (
	"errors"
	"os"
)

func pageSize() int { return os.Getpagesize() }

// mapAnon has no portable form here: newWords falls back to the heap.
func mapAnon(int) ([]byte, error) { return nil, errors.New("no anonymous mappings on this system") }

func unmap([]byte) {}
