package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Report is what Inspect found in a file.
type Report struct {
	Schema        int
	Conversations int // conversations that read back
	Outbox        int // outbox messages that read back
	Reminders     int // entries of the reminder index
	Records       int // records beyond a conversation (a team run) that read back
	// Damaged lists what cannot be read, in file order.
	Damaged []Damage
	// SetAside and Held count the quarantine's entries, and the
	// conversations among them still waiting for a new start.
	SetAside, Held int
}

// Damage is one record, or one page, that cannot be read.
type Damage struct {
	Where string // "conversation", "bookkeeping", "outbox", "reminder index", "attempts", "record", "events", "event index", "live message", "file"
	// Key is the record's key; for a page that cannot be read, the last
	// key before it ("" when it is the first).
	Key    string
	Reason string
}

func (d Damage) String() string {
	if d.Key == "" {
		return d.Where + ": " + d.Reason
	}
	return fmt.Sprintf("%s %s: %s", d.Where, d.Key, d.Reason)
}

// Inspect reads every record of the store and reports what cannot be read.
// It holds off writes meanwhile: bbolt's own check is sound only without
// a writer beside it.
func (s *DB) Inspect() (Report, error) {
	var r Report
	err := guard(s.db.Update, func(tx *bolt.Tx) error {
		r = inspectTx(tx)
		return errRollback
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	return r, err
}

var errRollback = errors.New("rollback")

// Check verifies the file: every record reads back and bbolt's own check
// finds nothing.
func (s *DB) Check() error {
	r, err := s.Inspect()
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range r.Damaged {
		errs = append(errs, errors.New(d.String()))
	}
	return errors.Join(errs...)
}

// InspectFile is Inspect on a file no ampel has open, read only.
func InspectFile(path string) (Report, error) {
	db, err := openReadOnly(path)
	if err != nil {
		return Report{}, err
	}
	defer db.Close()
	var r Report
	err = guard(db.View, func(tx *bolt.Tx) error {
		r = inspectTx(tx)
		return nil
	})
	return r, err
}

// QuarantineFile lists the records set aside in a file no ampel has open,
// read only.
func QuarantineFile(path string) ([]QuarantineEntry, error) {
	db, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return readQuarantine(db)
}

func openReadOnly(path string) (*bolt.DB, error) {
	db, err := openBolt(path, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (is ampel running? stop it, or check a backup)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func inspectTx(tx *bolt.Tx) Report {
	var r Report
	pages := 0
	gaps := func(where string, keys [][]byte, show func([]byte) string) {
		for _, k := range keys {
			key := ""
			if len(k) > 0 {
				key = show(k)
			}
			r.Damaged = append(r.Damaged, Damage{Where: where, Key: key, Reason: "the page after it cannot be read"})
		}
		pages += len(keys)
	}
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v, _ := safeGet(meta, keySchema); len(v) == 8 {
			r.Schema = int(binary.BigEndian.Uint64(v))
		}
	}
	if b := tx.Bucket(bucketConvs); b != nil {
		var sc recScratch
		gaps("conversations", scan(b, nil, func(k, v []byte) bool {
			if n := len(k); n > 0 && k[n-1] == 0 {
				if err := checkBookkeeping(&sc, v); err != nil {
					r.Damaged = append(r.Damaged, Damage{"bookkeeping", string(k[:n-1]), err.Error() + " (its event IDs and reminder keys start afresh)"})
				}
				return true
			}
			if err := decodeConversation(v, &bot.Conversation{}); err != nil {
				r.Damaged = append(r.Damaged, Damage{"conversation", string(k), "does not decode: " + err.Error()})
			} else {
				r.Conversations++
			}
			return true
		}), func(k []byte) string { return strings.TrimSuffix(string(k), "\x00") })
	}
	showID := func(k []byte) string {
		if len(k) != 8 {
			return fmt.Sprintf("%x", k)
		}
		return strconv.FormatUint(binary.BigEndian.Uint64(k), 10)
	}
	if b := tx.Bucket(bucketOutbox); b != nil {
		gaps("outbox", scan(b, nil, func(k, v []byte) bool {
			if _, err := decodeOutgoing(v); err != nil || len(k) != 8 {
				r.Damaged = append(r.Damaged, Damage{"outbox", showID(k), "does not decode"})
			} else {
				r.Outbox++
			}
			return true
		}), showID)
	}
	if b := tx.Bucket(bucketAttempts); b != nil {
		gaps("attempts", scan(b, nil, func(k, v []byte) bool {
			if len(k) != 8 || len(v) != 8 {
				r.Damaged = append(r.Damaged, Damage{"attempts", showID(k), "not a count"})
			}
			return true
		}), showID)
	}
	if b := tx.Bucket(bucketDue); b != nil {
		showDue := func(k []byte) string {
			if ref, ok := parseDueKey(k); ok {
				return ref.Key + " " + ref.ID
			}
			return fmt.Sprintf("%x", k)
		}
		gaps("reminder index", scan(b, nil, func(k, _ []byte) bool {
			if _, ok := parseDueKey(k); !ok {
				r.Damaged = append(r.Damaged, Damage{"reminder index", fmt.Sprintf("%x", k), "not a reminder key"})
			} else {
				r.Reminders++
			}
			return true
		}), showDue)
	}
	if b := tx.Bucket(bucketArchive); b != nil {
		gaps("archive", scan(b, nil, func(k, v []byte) bool {
			if len(v) == 0 || v[0] != tagS2 {
				r.Damaged = append(r.Damaged, Damage{"archive", fmt.Sprintf("%x", k), "not an archived item"})
			} else if js, err := openS2(nil, v, maxArchived); err != nil || !json.Valid(js) {
				r.Damaged = append(r.Damaged, Damage{"archive", fmt.Sprintf("%x", k), "does not decode"})
			}
			return true
		}), func(k []byte) string { return fmt.Sprintf("%x", k) })
	}
	if b := tx.Bucket(bucketRecords); b != nil {
		showRecord := func(k []byte) string { return strings.Replace(string(k), "\x00", "/", 1) }
		gaps("records", scan(b, nil, func(k, v []byte) bool {
			if bytes.IndexByte(k, 0) <= 0 || len(v) == 0 || v[0] != tagS2 {
				r.Damaged = append(r.Damaged, Damage{"record", showRecord(k), "not a record Ampel wrote"})
			} else if _, err := openS2(nil, v, maxConversationJSON); err != nil {
				r.Damaged = append(r.Damaged, Damage{"record", showRecord(k), "does not decode: " + err.Error()})
			} else {
				r.Records++
			}
			return true
		}), showRecord)
	}
	if b := tx.Bucket(bucketEvents); b != nil {
		gaps("events", scan(b, nil, func(k, v []byte) bool {
			if len(v) != 8 {
				r.Damaged = append(r.Damaged, Damage{"events", string(k), "not a commit time"})
			}
			return true
		}), func(k []byte) string { return string(k) })
	}
	if b := tx.Bucket(bucketEventTimes); b != nil {
		gaps("event index", scan(b, nil, func(k, _ []byte) bool {
			if len(k) < 9 {
				r.Damaged = append(r.Damaged, Damage{"event index", fmt.Sprintf("%x", k), "not an event key"})
			}
			return true
		}), func(k []byte) string { return fmt.Sprintf("%x", k) })
	}
	if b := tx.Bucket(bucketLive); b != nil {
		showLive := func(k []byte) string { return strings.Replace(string(k), "\x00", " ", 1) }
		gaps("live messages", scan(b, nil, func(k, v []byte) bool {
			if _, ok := decodeLive(v); !ok || bytes.IndexByte(k, 0) <= 0 {
				r.Damaged = append(r.Damaged, Damage{"live message", showLive(k), "not a live message's place"})
			}
			return true
		}), showLive)
	}
	if b := tx.Bucket(bucketQuarantine); b != nil {
		gaps("quarantine", scan(b, nil, func(k, v []byte) bool {
			r.SetAside++
			if len(v) > 0 && v[0] == stateHeld {
				r.Held++
			}
			return true
		}), func(k []byte) string { return fmt.Sprintf("%x", k) })
	}
	if pages == 0 {
		// bbolt's own check reads every page on a goroutine of its own,
		// where a damaged page would end the process: it runs only when
		// every page could be read.
		for err := range tx.Check() {
			r.Damaged = append(r.Damaged, Damage{Where: "file", Reason: err.Error()})
		}
	}
	return r
}

// checkBookkeeping reports a bookkeeping record that cannot be read.
func checkBookkeeping(sc *recScratch, v []byte) error {
	if len(v) > 0 && v[0] == tagS2 {
		plain, err := openS2(sc.plain, v, maxBookkeeping)
		if err != nil {
			return err
		}
		sc.plain, v = plain[:0], plain
	}
	n, w := binary.Uvarint(v)
	if w <= 0 || w+int(n) > len(v) {
		return errors.New("does not split into reminder keys and inbox")
	}
	return nil
}
