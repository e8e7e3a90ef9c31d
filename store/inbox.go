package store

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Beside its state, each conversation has one bookkeeping record (key +
// NUL): its keys in the reminder index, then its inbox (uncompressed here;
// see recScratch for how it is stored).
//
//	record = uvarint(len(due)) due inbox
//	due    = { uvarint(len(k)) k }        keys of bucketDue
//	inbox  = { 8-byte time, uvarint(len(id)) id }   oldest first
//
// One record instead of a key per event and a separate reminder list keeps
// a turn's bookkeeping to one read and one write on the page its state is
// on, which halves the pages and B+tree entries a conversation costs.
//
// IDs are kept as long as their platform may deliver an event again
// (Options.Redelivery, by the platform's name that starts each ID the
// engine commits; InboxRetention for others), and at most inboxMax per
// conversation. The count is a bound for the record, not a window a
// platform could outrun: Telegram redelivers only updates not yet
// confirmed, at most a batch of 100; Slack retries a delivery that was not
// acknowledged, which the adapter does after each event; Mattermost's
// catch-up after a restart reads back by time, however many posts, and
// those the engine drops by their time (bot.Event.Replayed).
const inboxMax = 256

// retention says from when on event IDs are kept, by their platform.
type retention struct {
	now int64 // Unix ns
	def time.Duration
	by  map[string]time.Duration

	// The last platform looked up and its cutoff: a conversation's IDs
	// are nearly all of its own platform.
	last       []byte
	lastCutoff int64
}

// cutoff is the oldest commit time, in Unix ns, at which id is kept.
func (r *retention) cutoff(id []byte) int64 {
	i := bytes.IndexByte(id, ':')
	if i <= 0 || len(r.by) == 0 {
		return r.now - int64(r.def)
	}
	if r.last != nil && bytes.Equal(id[:i], r.last) {
		return r.lastCutoff
	}
	d, ok := r.by[string(id[:i])]
	if !ok {
		d = r.def
	}
	r.last, r.lastCutoff = append(r.last[:0], id[:i]...), r.now-int64(d)
	return r.lastCutoff
}

func inboxHas(v []byte, id string) bool {
	for len(v) >= 9 {
		n, w := binary.Uvarint(v[8:])
		if w <= 0 || 8+w+int(n) > len(v) {
			return false
		}
		if int(n) == len(id) && string(v[8+w:8+w+int(n)]) == id {
			return true
		}
		v = v[8+w+int(n):]
	}
	return false
}

// The record is stored compressed with S2 behind tagS2, as conversations
// are: its reminder keys repeat the conversation's key and its event IDs
// their platform, and compressed it is 0.4 KB instead of 0.7 KB for a check
// with a plan of three. An uncompressed record (schema 1) starts with
// uvarint(len(due)), which is 0, at least 10, or has the continuation bit
// set: never tagS2.

// recScratch holds the buffers for opening and sealing records, so that
// the writer, which does it for every turn, allocates only what it stores.
//
// It also lends the writer the bytes of keys: bbolt copies a key it
// stores, and only reads one it looks up or deletes, so one buffer each
// serves every turn. kept holds the records sealed by sealKept, which bbolt
// reads until the transaction commits; the writer empties it for the next.
type recScratch struct {
	plain, build, z []byte
	rk, ck          []byte // a bookkeeping record's key, a conversation's
	seq             [8]byte
	kept            []byte
}

// recordKey is the key of the bookkeeping record of the conversation key
// (see recordKey), valid until the next call.
func (sc *recScratch) recordKey(key string) []byte {
	sc.rk = append(append(sc.rk[:0], key...), 0)
	return sc.rk
}

// convKey is key as bytes, valid until the next call.
func (sc *recScratch) convKey(key string) []byte {
	sc.ck = append(sc.ck[:0], key...)
	return sc.ck
}

// open returns the uncompressed record; it stays valid until the next open.
// A record that does not uncompress is treated as absent, as a damaged
// uncompressed one is by splitRecord: the bookkeeping starts afresh.
func (sc *recScratch) open(v []byte) []byte {
	if len(v) == 0 || v[0] != tagS2 {
		return v
	}
	if cap(sc.plain) > 1<<20 {
		sc.plain = nil // an unusually long inbox: do not keep its buffer for good
	}
	out, err := openS2(sc.plain, v, maxBookkeeping)
	if err != nil {
		return nil
	}
	sc.plain = out[:0]
	return out
}

// seal returns rec compressed, in a new slice of its own.
func (sc *recScratch) seal(rec []byte) ([]byte, error) { return sealS2(&sc.z, rec) }

// sealKept returns rec compressed, in sc.kept: a turn's record then costs
// no allocation of its own. What it returns stays valid while sc.kept is
// not emptied (a kept slice that grows leaves the earlier records in the
// array they were written to).
func (sc *recScratch) sealKept(rec []byte) ([]byte, error) {
	enc, err := compressS2(&sc.z, rec)
	if err != nil {
		return nil, err
	}
	start := len(sc.kept)
	sc.kept = append(append(sc.kept, tagS2), enc...)
	return sc.kept[start:len(sc.kept):len(sc.kept)], nil
}

// startTx empties sc.kept for a new transaction: the last one is over,
// and bbolt holds nothing of it.
func (sc *recScratch) startTx() {
	if cap(sc.kept) > 1<<20 {
		sc.kept = nil // an unusually large batch: do not keep its buffer for good
	}
	sc.kept = sc.kept[:0]
}

// splitRecord returns an uncompressed record's reminder keys and inbox.
func splitRecord(v []byte) (due, inbox []byte) {
	n, w := binary.Uvarint(v)
	if w <= 0 || w+int(n) > len(v) {
		return nil, nil // no record yet, or a damaged one: start afresh
	}
	return v[w : w+int(n)], v[w+int(n):]
}

// inboxAdd appends to dst the inbox v with id added at keep.now, without
// entries older than keep keeps and without the oldest beyond inboxMax.
func inboxAdd(dst, v []byte, id string, keep *retention) []byte {
	// Two passes over v, counting the entries kept and then copying the
	// newest of them, so that a turn allocates nothing to list them.
	kept := inboxEntries(v, keep, 0, nil)
	skip := max(0, kept-(inboxMax-1))
	out := dst
	inboxEntries(v, keep, skip, func(e []byte) { out = append(out, e...) })
	out = binary.BigEndian.AppendUint64(out, uint64(keep.now))
	out = binary.AppendUvarint(out, uint64(len(id)))
	return append(out, id...)
}

// inboxEntries goes through the inbox v and hands each entry keep keeps,
// but the first skip, to f (if any); it returns how many it kept.
func inboxEntries(v []byte, keep *retention, skip int, f func(entry []byte)) int {
	n := 0
	for off := 0; off+9 <= len(v); {
		l, w := binary.Uvarint(v[off+8:])
		if w <= 0 || off+8+w+int(l) > len(v) {
			break // a damaged tail is dropped, never trusted
		}
		end := off + 8 + w + int(l)
		if int64(binary.BigEndian.Uint64(v[off:])) >= keep.cutoff(v[off+8+w:end]) {
			if n >= skip && f != nil {
				f(v[off:end])
			}
			n++
		}
		off = end
	}
	return n
}
