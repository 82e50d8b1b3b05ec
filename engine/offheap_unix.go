//go:build unix

package engine

import (
	"os"
	"syscall"
)

func pageSize() int { return os.Getpagesize() }

// mapAnon maps size bytes of zeroed, private memory.
func mapAnon(size int) ([]byte, error) {
	return syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

// unmap releases a mapping made by mapAnon. Its only possible error is
// an invalid argument, which mapAnon never hands out.
func unmap(m []byte) { syscall.Munmap(m) }
