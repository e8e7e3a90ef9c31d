package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// RecordRef names a record that belongs to no single conversation: a team
// run, later a network or a meeting. Kind says what it is ("team"), ID
// which one. The engine stores a record as JSON; the store keeps its bytes.
type RecordRef struct {
	Kind string
	ID   string
}

// String is "kind/id", for errors (never logged with personal data: IDs
// are the bot's own codes).
func (r RecordRef) String() string { return r.Kind + "/" + r.ID }

// Limits of a record's name: short enough to fit a bbolt key with room to
// spare, and without NUL, which the store uses to separate fields.
const (
	maxRecordKind = 32
	maxRecordID   = 256
	// MaxKeyLen bounds a conversation key in a Batch (Address.Key()).
	MaxKeyLen = 512
)

// Validate reports a name no store can keep.
func (r RecordRef) Validate() error {
	switch {
	case r.Kind == "" || len(r.Kind) > maxRecordKind || strings.ContainsAny(r.Kind, "\x00/"):
		return fmt.Errorf("record kind must be 1 to %d bytes without NUL or slash (is %d bytes)", maxRecordKind, len(r.Kind))
	case r.ID == "" || len(r.ID) > maxRecordID || strings.IndexByte(r.ID, 0) >= 0:
		return fmt.Errorf("record %s: ID must be 1 to %d bytes without NUL (is %d bytes)", r.Kind, maxRecordID, len(r.ID))
	}
	return nil
}

// RecordWrite is a record a Batch puts (Data) or deletes (Delete).
type RecordWrite struct {
	Ref    RecordRef
	Data   []byte
	Delete bool
}

// ConvWrite is a conversation a Batch stores under Key, or, with Delete,
// erases: its state, archive, reminders, the IDs of its events (its
// inbox), where its live messages are shown, and the outbox's messages to
// it (a person's data, /delete and retention). Conv is nil then.
type ConvWrite struct {
	Key    string
	Conv   *Conversation
	Delete bool
}

// Batch is everything one event changes, for Store.CommitBatch: the
// event's ID, any number of conversations and records, and the messages
// it sends to any chats, written in one durable transaction or not at all.
type Batch struct {
	EventID string
	// Key is the conversation whose inbox remembers EventID, as for
	// Commit (its new state, if any, is among Convs). Empty for a change
	// no conversation's event caused (Engine.Do): the store then
	// remembers EventID in an inbox of its own, for all such changes, as
	// it does when the batch erases Key's conversation.
	Key     string
	Convs   []ConvWrite
	Records []RecordWrite
	Outs    []Outgoing
}

// Validate reports a batch that no store could write, before anything is
// written: every part of a batch is written, or none.
func (b *Batch) Validate() error {
	if b.EventID == "" || len(b.EventID) > MaxKeyLen {
		return errors.New("batch: event ID must be 1 to 512 bytes")
	}
	if err := checkKey(b.Key, b.Key == ""); err != nil {
		return err
	}
	seen := make(map[string]bool, len(b.Convs))
	for _, c := range b.Convs {
		if err := checkKey(c.Key, false); err != nil {
			return err
		}
		if (c.Conv == nil) != c.Delete || seen[c.Key] {
			return errors.New("batch: each conversation once, with its state or erased")
		}
		seen[c.Key] = true
	}
	recs := make(map[RecordRef]bool, len(b.Records))
	for _, r := range b.Records {
		if err := r.Ref.Validate(); err != nil {
			return fmt.Errorf("batch: %w", err)
		}
		if recs[r.Ref] || r.Delete != (r.Data == nil) {
			return fmt.Errorf("batch: record %s: each record once, put with data or deleted", r.Ref)
		}
		recs[r.Ref] = true
	}
	return nil
}

// Erases reports whether the batch erases the conversation key.
func (b *Batch) Erases(key string) bool {
	for _, c := range b.Convs {
		if c.Key == key && c.Delete {
			return true
		}
	}
	return false
}

func checkKey(key string, empty bool) error {
	if empty {
		return nil
	}
	if key == "" || len(key) > MaxKeyLen || strings.IndexByte(key, 0) >= 0 {
		return errors.New("batch: a conversation key must be 1 to 512 bytes without NUL")
	}
	return nil
}

// Tries are someone's wrong tries at a code (a shared plan's, a link's)
// in the last window, stored as a record of the feature's kind: after a
// few, every try is refused for the rest of the window (see bot/share,
// bot/link).
type Tries struct {
	Wrong []time.Time `json:"wrong,omitempty"`
}

// ReadTries reads the tries kind/id through tx, those older than window
// dropped; the record goes, with the commit, once all are.
func ReadTries(tx *Tx, kind, id string, window time.Duration) (*Tries, error) {
	var tr Tries
	if _, err := tx.Get(kind, id, &tr); err != nil {
		return nil, err
	}
	since := tx.Now().Add(-window)
	kept := tr.Wrong[:0]
	for _, w := range tr.Wrong {
		if w.After(since) {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 && len(tr.Wrong) > 0 {
		if err := tx.Delete(kind, id); err != nil {
			return nil, err
		}
	}
	tr.Wrong = kept
	return &tr, nil
}
