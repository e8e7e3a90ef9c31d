package main

import (
	"context"
	"fmt"
	"path/filepath"
)

// Network file systems, by the magic number statfs(2) reports for them
// (linux/magic.h and the file systems' sources). bbolt's lock (flock) is
// not reliable over them, and bbolt's author and etcd's maintainers warn
// that a database shared or locked over one gets corrupted
// (boltdb/bolt#690, #522, bbolt#257).
var networkFS = map[uint32]string{
	0x6969:     "NFS",
	0x517B:     "SMB",
	0xFE534D42: "SMB2",
	0xFF534D42: "CIFS",
	0x65735546: "FUSE (sshfs, s3fs, GlusterFS, Docker Desktop's shared folders …)",
	0x01021997: "9P",
	0x00C36400: "CephFS",
	0x5346414F: "AFS",
	0x6B414653: "kAFS",
	0x73757245: "Coda",
	0x564C:     "NCP",
	0x0BD00BD0: "Lustre",
	0x47504653: "GPFS",
}

// statfsKey is a test hook: a context value of type func(string) (uint32,
// error) under it replaces statfs, so that a test can pretend a directory
// is on NFS. Nothing outside tests sets it.
type statfsKey struct{}

// checkFileSystem refuses a database whose directory is on a network file
// system, unless allow is set; then it returns a warning to log.
func checkFileSystem(ctx context.Context, db string, allow bool) (warning string, err error) {
	statfs := fsType
	if f, ok := ctx.Value(statfsKey{}).(func(string) (uint32, error)); ok {
		statfs = f
	}
	dir := filepath.Dir(db)
	magic, err := statfs(dir)
	if err != nil {
		return "", nil // unknown: the store's own open reports a missing directory
	}
	name, ok := networkFS[magic]
	if !ok {
		return "", nil
	}
	if allow {
		return fmt.Sprintf("the database's directory %s is on %s; bbolt's file lock may not hold there (--allow-network-fs is set): run one ampel on it, never two", dir, name), nil
	}
	return "", fmt.Errorf("the database's directory %s is on a network file system (%s, statfs type %#x): "+
		"bbolt's file lock is not reliable there, and a second ampel, or a lost lock, corrupts the file. "+
		"Put the database on a local disk or a volume; if this file system's locking is known to be sound, start with --allow-network-fs", dir, name, magic)
}
