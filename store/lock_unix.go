//go:build unix && !solaris && !aix

package store

import (
	"os"
	"syscall"
)

var errWouldBlock error = syscall.EWOULDBLOCK

// lockFile takes the exclusive flock bbolt takes on a file it opens for
// writing (see bbolt's bolt_unix.go), without waiting.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
