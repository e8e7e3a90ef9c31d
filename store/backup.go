package store

import (
	"errors"
	"fmt"
	"io"
	"os"

	bolt "go.etcd.io/bbolt"
)

// BackupTo writes a consistent copy of the database to w while it is in
// use: the file as of one read transaction, which neither waits for nor
// holds up commits (bbolt's hot backup). start, if not nil, is told the
// copy's size before its first byte. A slow w keeps the transaction open,
// and with it the pages freed meanwhile from reuse: the caller bounds how
// long a write may take.
func (s *DB) BackupTo(w io.Writer, start func(size int64)) (int64, error) {
	var n int64
	err := s.view(func(tx *bolt.Tx) error {
		if start != nil {
			start(tx.Size())
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Hold takes, without waiting, the lock a running ampel holds on its
// database file, and returns what lets it go. While it is held no ampel
// can open the file. It fails with ErrLocked when the file is in use; a
// file that does not exist is not locked by anyone (release is then a
// no-op).
func Hold(path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the file lets the lock go
}
