package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ampel-bot/ampel/bot"
	bolt "go.etcd.io/bbolt"
)

// A record that cannot be read is set aside in the quarantine bucket: its
// bytes are kept there for inspection (ampel db quarantine lists them),
// and it stops standing in the way of anyone else.
//
//	key   = kind, the record's key, NUL, 8-byte sequence
//	value = state, 8-byte time (Unix nanoseconds), uvarint(len(reason)) reason, raw bytes
//
// A conversation set aside is held: Load reports it as damaged (so that its
// chat can be told) until a Commit writes a conversation under its key,
// which releases it. The bucket is created when first needed; an older
// ampel ignores it.
var bucketQuarantine = []byte("quarantine")

const (
	kindConversation = 'c'
	kindOutbox       = 'o'

	stateHeld     = 'h' // the conversation's key is blocked until a new start
	stateReleased = 'r' // a new conversation was written under its key
	stateKept     = 'k' // kept for inspection; nothing waits for it (outbox)
)

// Ref is a short, stable reference to a conversation key for logs: logs
// carry no chat IDs, and ampel db quarantine shows the same reference
// next to the key. It is bot.KeyHash, which the engine's logs show too.
func Ref(key string) string { return bot.KeyHash(key) }

func quarantinePrefix(kind byte, ident []byte) []byte {
	p := make([]byte, 0, 2+len(ident))
	p = append(p, kind)
	p = append(p, ident...)
	return append(p, 0)
}

// putQuarantine adds an entry.
func putQuarantine(tx *bolt.Tx, kind byte, ident []byte, state byte, at time.Time, reason string, raw []byte) error {
	q, err := tx.CreateBucketIfNotExists(bucketQuarantine)
	if err != nil {
		return err
	}
	seq, err := q.NextSequence()
	if err != nil {
		return err
	}
	k := binary.BigEndian.AppendUint64(quarantinePrefix(kind, ident), seq)
	v := make([]byte, 0, 9+binary.MaxVarintLen64+len(reason)+len(raw))
	v = append(v, state)
	v = binary.BigEndian.AppendUint64(v, uint64(at.UnixNano()))
	v = binary.AppendUvarint(v, uint64(len(reason)))
	v = append(v, reason...)
	return q.Put(k, append(v, raw...))
}

// heldKeys returns the conversation keys set aside and held, nil when
// there are none (nearly always: one look at an empty bucket).
func heldKeys(tx *bolt.Tx) map[string]bool {
	q := tx.Bucket(bucketQuarantine)
	if q == nil {
		return nil
	}
	var held map[string]bool
	c := q.Cursor()
	for k, v := c.Seek([]byte{kindConversation}); len(k) > 9 && k[0] == kindConversation; k, v = c.Next() {
		if len(v) > 0 && v[0] == stateHeld {
			if held == nil {
				held = map[string]bool{}
			}
			held[string(k[1:len(k)-9])] = true
		}
	}
	return held
}

// isHeld reports whether a conversation's key is set aside and held.
func isHeld(tx *bolt.Tx, key string) bool {
	q := tx.Bucket(bucketQuarantine)
	if q == nil {
		return false
	}
	prefix := quarantinePrefix(kindConversation, []byte(key))
	c := q.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(v) > 0 && v[0] == stateHeld {
			return true
		}
	}
	return false
}

// release marks the held entries of a conversation's key as released.
func release(q *bolt.Bucket, key string) error {
	prefix := quarantinePrefix(kindConversation, []byte(key))
	var keys [][]byte
	c := q.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(v) > 0 && v[0] == stateHeld {
			keys = append(keys, bytes.Clone(k))
		}
	}
	for _, k := range keys {
		v := bytes.Clone(q.Get(k))
		v[0] = stateReleased
		if err := q.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

// setAside moves a conversation's record that cannot be read to the
// quarantine bucket and returns the error Load reports. raw is the
// record; nil when its page cannot be read, and then only the key is
// recorded (once). The bookkeeping record stays: it still knows the
// conversation's events and its keys in the reminder index, which Due
// passes over while the key is held.
func (s *DB) setAside(key string, raw []byte, cause error) error {
	reason := "does not decode: " + cause.Error()
	if raw == nil {
		reason = cause.Error()
	}
	added := false
	err := s.update(func(tx *bolt.Tx) error {
		if raw == nil {
			if isHeld(tx, key) {
				return nil
			}
		} else {
			convs := tx.Bucket(bucketConvs)
			cur, err := safeGet(convs, []byte(key))
			if err != nil || !bytes.Equal(cur, raw) {
				return err // written anew meanwhile: nothing to set aside
			}
			if err := convs.Delete([]byte(key)); err != nil {
				return err
			}
		}
		added = true
		return putQuarantine(tx, kindConversation, []byte(key), stateHeld, s.opts.Now(), reason, raw)
	})
	if err != nil {
		// It stays where it is and is found damaged again next time.
		s.log.Error("could not set a damaged conversation aside", "ref", Ref(key), "err", err)
	} else if added {
		s.setAsideN.Add(1)
		s.log.Warn("conversation set aside: its stored record cannot be read", "ref", Ref(key), "why", why(raw))
	}
	return fmt.Errorf("load %s: %w", key, damagedErr{cause})
}

// why says what was wrong, without anything of the record itself (a
// decoder's message may quote a character of it).
func why(raw []byte) string {
	if raw == nil {
		return "unreadable page"
	}
	return "does not decode"
}

// damagedErr wraps the cause of a damaged record as bot.ErrDamaged.
type damagedErr struct{ cause error }

func (d damagedErr) Error() string { return bot.ErrDamaged.Error() + ": " + d.cause.Error() }

func (d damagedErr) Unwrap() []error { return []error{bot.ErrDamaged, d.cause} }

// setAsideOutbox moves outbox records that do not decode to the quarantine
// bucket, with their recorded attempts, so that the dispatcher passes
// over them.
func (s *DB) setAsideOutbox(bad map[uint64][]byte) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		outbox, attempts := tx.Bucket(bucketOutbox), tx.Bucket(bucketAttempts)
		k := make([]byte, 8)
		for id, raw := range bad {
			binary.BigEndian.PutUint64(k, id)
			if !bytes.Equal(outbox.Get(k), raw) {
				continue // gone meanwhile
			}
			if err := putQuarantine(tx, kindOutbox, k, stateKept, s.opts.Now(), "does not decode", raw); err != nil {
				return err
			}
			if err := outbox.Delete(k); err != nil {
				return err
			}
			if err := attempts.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		s.log.Error("could not set damaged outbox messages aside; they are passed over", "err", err)
		return
	}
	if n > 0 {
		s.setAsideN.Add(int64(n))
		s.log.Warn("outbox messages set aside: their stored records cannot be read", "count", n)
	}
}

// SetAside is how many records this store has set aside since it opened.
func (s *DB) SetAside() int64 { return s.setAsideN.Load() }

// QuarantineEntry is one record set aside.
type QuarantineEntry struct {
	Kind   string // "conversation" or "outbox"
	Key    string // the conversation's key, or the outbox message's ID
	Ref    string // Ref(Key), as the logs show it, for a conversation
	At     time.Time
	State  string // "held", "released" or "kept"
	Reason string
	Raw    []byte // the record as it was found; empty when its page could not be read
}

// Quarantine lists the records set aside, conversations first.
func (s *DB) Quarantine() ([]QuarantineEntry, error) { return readQuarantine(s.db) }

func readQuarantine(db *bolt.DB) ([]QuarantineEntry, error) {
	var out []QuarantineEntry
	err := guard(db.View, func(tx *bolt.Tx) error {
		q := tx.Bucket(bucketQuarantine)
		if q == nil {
			return nil
		}
		scan(q, nil, func(k, v []byte) bool {
			if e, ok := parseQuarantine(k, v); ok {
				out = append(out, e)
			}
			return true
		})
		return nil
	})
	return out, err
}

func parseQuarantine(k, v []byte) (QuarantineEntry, bool) {
	if len(k) < 10 || len(v) < 10 {
		return QuarantineEntry{}, false
	}
	var e QuarantineEntry
	ident := k[1 : len(k)-9]
	switch k[0] {
	case kindConversation:
		e.Kind, e.Key, e.Ref = "conversation", string(ident), Ref(string(ident))
	case kindOutbox:
		if len(ident) != 8 {
			return e, false
		}
		e.Kind, e.Key = "outbox", fmt.Sprint(binary.BigEndian.Uint64(ident))
	default:
		return e, false
	}
	switch v[0] {
	case stateHeld:
		e.State = "held"
	case stateReleased:
		e.State = "released"
	default:
		e.State = "kept"
	}
	e.At = time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9]))).UTC()
	n, w := binary.Uvarint(v[9:])
	if w <= 0 || uint64(len(v)-9-w) < n {
		return e, false
	}
	e.Reason = string(v[9+w : 9+w+int(n)])
	e.Raw = bytes.Clone(v[9+w+int(n):])
	return e, true
}
