//go:build !unix || solaris || aix

package store

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("would block")

// lockFile is a no-op where bbolt does not lock with flock: Hold then
// cannot tell whether an ampel has the file open.
func lockFile(*os.File) error { return nil }
