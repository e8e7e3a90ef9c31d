package store

import (
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// outboxAges remembers when each message still in the outbox was queued,
// so that a stuck outbox shows in metrics and readiness. Memory only:
// messages found at start count from the start. The writer keeps it; it
// is read at scrape time.
type outboxAges struct {
	mu sync.Mutex
	at map[uint64]int64 // outbox ID -> queued, Unix nanoseconds
}

func (o *outboxAges) load(db *bolt.DB, now time.Time) {
	o.at = map[uint64]int64{}
	// A damaged page only shortens the count (Pending reports it).
	_ = guard(db.View, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			if len(k) == 8 {
				o.at[be64(k)] = now.UnixNano()
			}
			return nil
		})
	})
}

func be64(k []byte) uint64 {
	var v uint64
	for _, c := range k {
		v = v<<8 | uint64(c)
	}
	return v
}

// written notes a transaction's queued messages and removals.
func (o *outboxAges) written(batch []*commitReq, acks []uint64, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range batch {
		for _, q := range r.queued {
			o.at[q.ID] = now.UnixNano()
		}
	}
	for _, id := range acks {
		delete(o.at, id)
	}
}

// Health is what the store says about itself, for metrics and readiness.
type Health struct {
	Outbox       int       // messages waiting to be sent
	OldestQueued time.Time // when the oldest of them was queued (zero: none)
	FileSize     int64     // bytes of the database file
	FreePages    int       // pages bbolt keeps free for reuse
	PageSize     int
}

// Health reports the outbox and the file. It is cheap: no transaction.
func (s *DB) Health() Health {
	var h Health
	s.ages.mu.Lock()
	h.Outbox = len(s.ages.at)
	var oldest int64
	for _, t := range s.ages.at {
		if oldest == 0 || t < oldest {
			oldest = t
		}
	}
	s.ages.mu.Unlock()
	if oldest != 0 {
		h.OldestQueued = time.Unix(0, oldest)
	}
	if st, err := os.Stat(s.path); err == nil {
		h.FileSize = st.Size()
	}
	st := s.db.Stats()
	h.FreePages = st.FreePageN
	h.PageSize = s.db.Info().PageSize
	return h
}

// IsOpen reports whether the store is open (not closed yet).
func (s *DB) IsOpen() bool {
	select {
	case <-s.closed:
		return false
	default:
		return true
	}
}
