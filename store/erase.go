package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	"github.com/ampel-bot/ampel/bot"
	bolt "go.etcd.io/bbolt"
)

// A person's data: erasing a conversation (bot.ConvWrite.Delete), finding
// the records that name a person, and the conversations inactive for
// longer than the retention (see bot.Personal).

// eraseConversation removes everything the store keeps of the
// conversation key, inside the writer's transaction: its state and
// bookkeeping (reminder keys, the IDs of its events), its entries in the
// reminder index (due is the list its bookkeeping held), its archive,
// where its live messages are shown, what the quarantine set aside of
// it, and the outbox's messages to it with their attempts.
func eraseConversation(tx *bolt.Tx, key string, due []byte) error {
	if err := reindex(tx.Bucket(bucketDue), due, nil); err != nil {
		return err
	}
	convs := tx.Bucket(bucketConvs)
	if err := convs.Delete([]byte(key)); err != nil {
		return err
	}
	if err := convs.Delete(recordKey(key)); err != nil {
		return err
	}
	prefix := append([]byte(key), 0)
	for _, b := range [][]byte{bucketArchive, bucketLive} {
		if err := deletePrefix(tx.Bucket(b), prefix); err != nil {
			return err
		}
	}
	if q := tx.Bucket(bucketQuarantine); q != nil {
		if err := deletePrefix(q, quarantinePrefix(kindConversation, []byte(key))); err != nil {
			return err
		}
	}
	outbox, attempts := tx.Bucket(bucketOutbox), tx.Bucket(bucketAttempts)
	var gone [][]byte
	c := outbox.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if o, err := decodeOutgoing(v); err == nil && o.To.Key() == key {
			gone = append(gone, bytes.Clone(k))
		}
	}
	for _, k := range gone {
		if err := outbox.Delete(k); err != nil {
			return err
		}
		if err := attempts.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// deletePrefix deletes the keys of b that start with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	if b == nil {
		return nil
	}
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// RecordsWith implements bot.RecordFinder: the IDs of the records of kind
// whose JSON holds needle, read without locks (the caller reads each
// again through its transaction). A record that does not read back is
// passed over.
func (s *DB) RecordsWith(ctx context.Context, kind, needle string) ([]string, error) {
	var ids []string
	err := s.view(func(tx *bolt.Tx) error {
		prefix := append([]byte(kind), 0)
		c := tx.Bucket(bucketRecords).Cursor()
		var buf []byte
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(v) == 0 || v[0] != tagS2 {
				continue
			}
			js, err := openS2(buf[:0], v, maxConversationJSON)
			if err != nil {
				continue
			}
			buf = js
			if bytes.Contains(js, []byte(needle)) {
				ids = append(ids, string(k[len(prefix):]))
			}
		}
		return nil
	})
	return ids, err
}

// ConversationsWith implements bot.RecordFinder: the keys starting with
// prefix of the conversations whose JSON holds one of needles, read
// without locks. A conversation that does not read back is passed over.
func (s *DB) ConversationsWith(ctx context.Context, prefix string, needles ...string) ([]string, error) {
	var keys []string
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketConvs).Cursor()
		var buf []byte
		for k, v := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
			if len(k) == 0 || k[len(k)-1] == 0 || len(v) == 0 || v[0] != tagS2 {
				continue // bookkeeping, or not a conversation Ampel wrote
			}
			js, err := openS2(buf[:0], v, maxConversationJSON)
			if err != nil {
				continue
			}
			buf = js
			for _, n := range needles {
				if bytes.Contains(js, []byte(n)) {
					keys = append(keys, string(k))
					break
				}
			}
		}
		return nil
	})
	return keys, err
}

// Inactive implements bot.Sweeper: the keys of conversations whose newest
// event was committed before before, up to limit, after the key after.
// A conversation's newest event is the last of its inbox, which keeps at
// least that one whatever its age; a conversation that never had an event
// of its own (only written along with another's) is not counted.
func (s *DB) Inactive(ctx context.Context, before time.Time, after string, limit int) ([]string, error) {
	var keys []string
	cut := before.UnixNano()
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketConvs).Cursor()
		var sc recScratch
		k, v := c.First()
		if after != "" {
			k, v = c.Seek(recordKey(after))
			if k != nil && bytes.Equal(k, recordKey(after)) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(keys) < limit; k, v = c.Next() {
			if len(k) == 0 || k[len(k)-1] != 0 {
				continue // a state; its bookkeeping follows it
			}
			_, inbox := splitRecord(sc.open(v))
			last, ok := newestStamp(inbox)
			if ok && last < cut {
				keys = append(keys, string(k[:len(k)-1]))
			}
		}
		return nil
	})
	return keys, err
}

// newestStamp is the commit time of an inbox's newest event (its last).
func newestStamp(v []byte) (int64, bool) {
	var last int64
	ok := false
	for len(v) >= 9 {
		n, w := binary.Uvarint(v[8:])
		if w <= 0 || 8+w+int(n) > len(v) {
			break
		}
		last, ok = int64(binary.BigEndian.Uint64(v[:8])), true
		v = v[8+w+int(n):]
	}
	return last, ok
}

var (
	_ bot.RecordFinder = (*DB)(nil)
	_ bot.Sweeper      = (*DB)(nil)
)
