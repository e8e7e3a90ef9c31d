package store

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/klauspost/compress/s2"

	"github.com/ampel-bot/ampel/bot"
)

// A conversation is stored as its JSON compressed with S2, behind a one-byte
// tag. JSON keeps the stored form readable by any tool once uncompressed;
// compressing halves it (1.9 KB to 0.9 KB for a check with a plan of three),
// and every byte of it is written again on each answer, read through the
// memory map and held by bbolt while a batch commits. Records written before
// schema 2 are bare JSON, which starts with '{', and are still read.
const tagS2 = 0x01

// A compressed record states its length before it is uncompressed; a
// damaged one may state gigabytes. Nothing Ampel writes comes near these
// (a conversation is a few KB, its bookkeeping at most inboxMax IDs shorter
// than a bbolt key), so a larger claim is damage and is refused before any
// memory is taken for it.
const (
	maxConversationJSON = 64 << 20
	maxBookkeeping      = 16 << 20
)

// scratch holds the buffers one encoding needs, reused across commits so
// that only the compact result is allocated.
type scratch struct{ json, z []byte }

var scratches = sync.Pool{New: func() any { return &scratch{json: make([]byte, 0, 4096)} }}

func encodeConversation(c *bot.Conversation) ([]byte, error) {
	sc := scratches.Get().(*scratch)
	defer scratches.Put(sc)
	sc.json = appendConversationJSON(sc.json[:0], c)
	n := s2.MaxEncodedLen(len(sc.json))
	if n < 0 {
		return nil, fmt.Errorf("conversation too large (%d bytes)", len(sc.json))
	}
	if cap(sc.z) < n {
		sc.z = make([]byte, n)
	}
	z := s2.Encode(sc.z[:n], sc.json)
	rec := make([]byte, 1+len(z))
	rec[0] = tagS2
	copy(rec[1:], z)
	return rec, nil
}

// decodeConversation reads a stored conversation in either form. v may be
// bbolt's memory, valid only within the transaction: nothing of it is kept.
func decodeConversation(v []byte, c *bot.Conversation) error {
	if len(v) > 0 && v[0] == tagS2 {
		n, err := s2.DecodedLen(v[1:])
		if err != nil {
			return fmt.Errorf("uncompress: %w", err)
		}
		if n > maxConversationJSON {
			return fmt.Errorf("uncompress: record claims %d bytes, more than any conversation", n)
		}
		js, err := s2.Decode(make([]byte, n), v[1:])
		if err != nil {
			return fmt.Errorf("uncompress: %w", err)
		}
		v = js
	}
	return json.Unmarshal(v, c)
}
