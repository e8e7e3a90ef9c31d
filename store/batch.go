package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/ampel-bot/ampel/bot"
	bolt "go.etcd.io/bbolt"
)

// Records and batches (schema 4).
//
// A record that belongs to no single conversation (a team run, later a
// network or a meeting) is kept in bucketRecords under its kind + NUL +
// its ID, its bytes compressed as conversations are. A batch (see
// bot.Batch) writes any number of conversations and records and the
// messages one event sends, in one transaction of the writer: everything
// of it is read and checked first, and written only if nothing failed, so
// that a batch is written whole or not at all.
//
// The event ID of a batch that no conversation's event caused (Engine.Do)
// is remembered in bucketEvents (ID → 8-byte commit time, Unix ns), with a
// time-ordered index in bucketEventTimes (time + ID) by which IDs older
// than Options.InboxRetention are dropped, a few with each such commit.
var (
	bucketRecords    = []byte("records")
	bucketEvents     = []byte("events")
	bucketEventTimes = []byte("event-times")
)

// pruneEvents bounds the expired event IDs one commit drops.
const pruneEvents = 64

func recordStoreKey(ref bot.RecordRef) []byte {
	k := make([]byte, 0, len(ref.Kind)+1+len(ref.ID))
	k = append(k, ref.Kind...)
	k = append(k, 0)
	return append(k, ref.ID...)
}

// batchReq is the part of a commitReq that only a batch has.
type batchReq struct {
	global bool // the event ID goes to bucketEvents
	convs  []convWrite
	recs   []recWrite
}

// convWrite is a conversation of a batch, encoded.
type convWrite struct {
	key   string
	conv  []byte
	due   []byte // as dueList makes it
	arch  []archiveEntry
	erase bool // see eraseConversation
}

// recWrite is a record of a batch: v sealed, or nil to delete it.
type recWrite struct {
	name string // for the write hook
	k, v []byte
}

// CommitBatch implements bot.Store. Like Commit, it returns once the
// transaction holding the batch is fsynced.
func (s *DB) CommitBatch(ctx context.Context, b *bot.Batch) ([]bot.Queued, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	r := &commitReq{eventID: b.EventID, key: b.Key, msgs: b.Outs, done: make(chan struct{}),
		batch: &batchReq{global: b.Key == ""}}
	return s.run(ctx, r, func() error {
		for _, o := range b.Outs {
			r.outs = append(r.outs, encodeOutgoing(o))
		}
		for _, c := range b.Convs {
			w := convWrite{key: c.Key}
			if c.Delete {
				w.erase = true
				r.batch.convs = append(r.batch.convs, w)
				continue
			}
			var err error
			if w.conv, err = encodeConversation(c.Conv); err != nil {
				return err
			}
			if w.arch, err = encodeArchive(c.Key, c.Conv.Archive); err != nil {
				return err
			}
			w.due = dueList(c.Key, c.Conv)
			r.batch.convs = append(r.batch.convs, w)
		}
		var z []byte
		for _, rec := range b.Records {
			w := recWrite{name: "record:" + rec.Ref.String(), k: recordStoreKey(rec.Ref)}
			if !rec.Delete {
				var err error
				if w.v, err = sealS2(&z, rec.Data); err != nil {
					return err
				}
			}
			r.batch.recs = append(r.batch.recs, w)
		}
		return nil
	})
}

// Record implements bot.Store. A record that does not read back is
// reported with an error wrapping bot.ErrDamaged.
func (s *DB) Record(ctx context.Context, ref bot.RecordRef) ([]byte, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecords).Get(recordStoreKey(ref))
		if v == nil {
			return nil
		}
		if len(v) == 0 || v[0] != tagS2 {
			return fmt.Errorf("not a record Ampel wrote: %w", bot.ErrDamaged)
		}
		var err error
		if out, err = openS2(nil, v, maxConversationJSON); err != nil {
			return fmt.Errorf("%w: %w", bot.ErrDamaged, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", ref, err)
	}
	return out, nil
}

// bookkeeping is a conversation's bookkeeping record as read by a batch.
type bookkeeping struct {
	key        string
	due, inbox []byte
	conv       *convWrite // its new state, if the batch has one
}

// writeBatch writes one batch request inside the writer's transaction. A
// duplicate or a record that cannot be read fails the request (r.err)
// before anything of it is written; an error returned fails the whole
// transaction.
func (s *DB) writeBatch(tx *bolt.Tx, r *commitReq, keep *retention) error {
	b := r.batch
	convs := tx.Bucket(bucketConvs)
	if b.global {
		v, err := safeGet(tx.Bucket(bucketEvents), []byte(r.eventID))
		switch {
		case err != nil:
			r.err = fmt.Errorf("commit event: %w", err)
			return nil
		case v != nil:
			r.err = bot.ErrDuplicate
			return nil
		}
	}
	// Read every conversation's bookkeeping first.
	var books []bookkeeping
	if !b.global {
		books = append(books, bookkeeping{key: r.key})
	}
	for i := range b.convs {
		w := &b.convs[i]
		if !b.global && w.key == r.key {
			books[0].conv = w
			continue
		}
		books = append(books, bookkeeping{key: w.key, conv: w})
	}
	var sc recScratch
	for i := range books {
		bk := &books[i]
		old, err := safeGet(convs, recordKey(bk.key))
		if err != nil {
			r.err = fmt.Errorf("commit %s: %w", bk.key, err)
			return nil
		}
		// A copy: the scratch is reused for the next key.
		bk.due, bk.inbox = splitRecord(bytes.Clone(sc.open(old)))
		if !b.global && i == 0 && (inboxHas(bk.inbox, r.eventID) || old == nil && erasedBy(tx, r.eventID)) {
			r.err = bot.ErrDuplicate
			return nil
		}
	}
	// Then write.
	dueIdx, archive := tx.Bucket(bucketDue), tx.Bucket(bucketArchive)
	quarantine := tx.Bucket(bucketQuarantine)
	homeErased := false
	for i := range books {
		bk := &books[i]
		if s.writeHook != nil {
			if err := s.writeHook(bk.key); err != nil {
				return err
			}
		}
		if bk.conv != nil && bk.conv.erase {
			if err := eraseConversation(tx, bk.key, bk.due); err != nil {
				return err
			}
			homeErased = homeErased || (!b.global && i == 0)
			continue
		}
		due := bk.due
		if w := bk.conv; w != nil {
			due = w.due
			if !bytes.Equal(bk.due, due) {
				if err := reindex(dueIdx, bk.due, w.due); err != nil {
					return err
				}
			}
		}
		rec := binary.AppendUvarint(nil, uint64(len(due)))
		rec = append(rec, due...)
		if !b.global && i == 0 {
			rec = inboxAdd(rec, bk.inbox, r.eventID, keep)
		} else {
			rec = append(rec, bk.inbox...)
		}
		sealed, err := sc.seal(rec)
		if err != nil {
			return err
		}
		if err := convs.Put(recordKey(bk.key), sealed); err != nil {
			return err
		}
		w := bk.conv
		if w == nil {
			continue
		}
		if err := convs.Put([]byte(w.key), w.conv); err != nil {
			return err
		}
		if quarantine != nil {
			if err := release(quarantine, w.key); err != nil {
				return err
			}
		}
		for _, a := range w.arch {
			if err := archive.Put(a.k, a.v); err != nil {
				return err
			}
		}
	}
	records := tx.Bucket(bucketRecords)
	for _, w := range b.recs {
		if s.writeHook != nil {
			if err := s.writeHook(w.name); err != nil {
				return err
			}
		}
		var err error
		if w.v == nil {
			err = records.Delete(w.k)
		} else {
			err = records.Put(w.k, w.v)
		}
		if err != nil {
			return err
		}
	}
	if err := queue(tx.Bucket(bucketOutbox), r, &sc); err != nil {
		return err
	}
	if homeErased {
		// An erased conversation keeps no inbox: the event that erased
		// it is remembered with those no conversation caused, marked.
		return rememberEvent(tx, erasedID(r.eventID), keep)
	}
	if b.global {
		return rememberEvent(tx, r.eventID, keep)
	}
	return nil
}

// erasedID is how bucketEvents remembers an event that erased its own
// conversation: apart from the IDs of events no conversation caused, which
// a conversation's event may share.
func erasedID(id string) string { return "erased\x00" + id }

// erasedBy reports whether the event id erased its conversation: the same
// event again, in the conversation now empty, is a duplicate (a platform
// redelivering the confirmation of /delete).
func erasedBy(tx *bolt.Tx, id string) bool {
	v, err := safeGet(tx.Bucket(bucketEvents), []byte(erasedID(id)))
	return err == nil && v != nil
}

// rememberEvent records a global event ID at keep.now and drops a few of
// those older than keep's default retention.
func rememberEvent(tx *bolt.Tx, id string, keep *retention) error {
	events, times := tx.Bucket(bucketEvents), tx.Bucket(bucketEventTimes)
	cutoff := keep.now - int64(keep.def)
	var expired [][]byte
	c := times.Cursor()
	for k, _ := c.First(); k != nil && len(expired) < pruneEvents; k, _ = c.Next() {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k)) >= cutoff {
			break
		}
		expired = append(expired, bytes.Clone(k))
	}
	for _, k := range expired {
		if err := events.Delete(k[8:]); err != nil {
			return err
		}
		if err := times.Delete(k); err != nil {
			return err
		}
	}
	at := binary.BigEndian.AppendUint64(nil, uint64(keep.now))
	if err := events.Put([]byte(id), at); err != nil {
		return err
	}
	return times.Put(append(at, id...), nil)
}
