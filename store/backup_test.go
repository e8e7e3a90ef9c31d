package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestHoldIsBboltsLock: Hold fails with ErrLocked on a file an open store
// holds, and while Hold holds a file no store opens it; a missing file is
// held by no one.
func TestHoldIsBboltsLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ampel.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Hold(path); !errors.Is(err, ErrLocked) {
		t.Errorf("Hold on an open store: %v, want ErrLocked", err)
	}
	db.Close()
	release, err := Hold(path)
	if err != nil {
		t.Fatalf("Hold on a closed store: %v", err)
	}
	if _, err := Open(path, Options{LockTimeout: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("Open while held: %v, want ErrLocked", err)
	}
	release()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after release: %v", err)
	}
	db.Close()
	if release, err := Hold(filepath.Join(t.TempDir(), "none.db")); err != nil {
		t.Errorf("Hold on a missing file: %v", err)
	} else {
		release()
	}
}

// TestBackupToStreamsTheFile: BackupTo announces the copy's size, writes
// exactly that many bytes, and they open as the store.
func TestBackupToStreamsTheFile(t *testing.T) {
	db := MustOpen(t)
	if _, err := db.Commit(t.Context(), "e1", "test//x", nil, nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var size int64 = -1
	n, err := db.BackupTo(&buf, func(s int64) { size = s })
	if err != nil || n != size || int64(buf.Len()) != size {
		t.Fatalf("BackupTo: %d bytes, announced %d, buffer %d, err %v", n, size, buf.Len(), err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := InspectFile(path)
	if err != nil || r.Schema != SchemaVersion() || len(r.Damaged) != 0 {
		t.Errorf("the copy: %+v, %v", r, err)
	}
	b := mustOpenAt(t, path, Options{})
	if seen, err := b.Seen(t.Context(), "test//x", "e1"); err != nil || !seen {
		t.Errorf("the copy has not seen e1: %v %v", seen, err)
	}
}
