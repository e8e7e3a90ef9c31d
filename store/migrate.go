package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migration upgrades the file from the previous schema version to its own.
// Migrations are never edited once released; a change of format is a new one.
type migration struct {
	version int
	name    string
	up      func(tx *bolt.Tx) error
}

// migrations lists every schema version in order; the last is current.
var migrations = []migration{
	{1, "create buckets", func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketConvs, bucketOutbox, bucketAttempts, bucketDue} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	// Conversations are written compressed from now on (see record.go);
	// older records are read as they are and compressed when next written.
	// The version tells an older ampel not to open a file it cannot read.
	{2, "compressed conversations", func(tx *bolt.Tx) error { return nil }},
	// Conversations keep what the dialogue needs and move older runs and
	// settled measures to the archive (see archive.go); large records are
	// tidied now, the others when next written.
	{3, "archive", tidyLarge},
	// Records beyond a conversation (a team run) and the inbox of events
	// no conversation caused (see batch.go).
	{4, "records", func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRecords, bucketEvents, bucketEventTimes} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	// Where live messages are shown (see live.go).
	{5, "live messages", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketLive)
		return err
	}},
}

// SchemaVersion is the schema this binary writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

func migrate(db *bolt.DB, migs []migration) error {
	return db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		have := 0
		if v := meta.Get(keySchema); len(v) == 8 {
			have = int(binary.BigEndian.Uint64(v))
		}
		want := migs[len(migs)-1].version
		if have > want {
			return fmt.Errorf("database schema %d is newer than this ampel understands (%d); use a newer ampel", have, want)
		}
		for _, m := range migs {
			if m.version <= have {
				continue
			}
			if err := m.up(tx); err != nil {
				return fmt.Errorf("migrate to schema %d (%s): %w", m.version, m.name, err)
			}
			have = m.version
		}
		v := make([]byte, 8)
		binary.BigEndian.PutUint64(v, uint64(have))
		return meta.Put(keySchema, v)
	})
}
