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

// sealS2 returns plain compressed behind tagS2, in a slice of its own, so
// that only the compact result is allocated; *z is the compressor's scratch,
// kept by the caller.
func sealS2(z *[]byte, plain []byte) ([]byte, error) {
	enc, err := compressS2(z, plain)
	if err != nil {
		return nil, err
	}
	rec := make([]byte, 1+len(enc))
	rec[0] = tagS2
	copy(rec[1:], enc)
	return rec, nil
}

// compressS2 returns plain compressed with S2 (without the tag), in *z.
func compressS2(z *[]byte, plain []byte) ([]byte, error) {
	n := s2.MaxEncodedLen(len(plain))
	if n < 0 {
		return nil, fmt.Errorf("record too large to store (%d bytes)", len(plain))
	}
	if cap(*z) < n {
		*z = make([]byte, n)
	}
	return s2.Encode((*z)[:n], plain), nil
}

// openS2 uncompresses a record sealed by sealS2 into buf, or a new buffer
// if buf is too small, refusing a claimed length above limit before taking
// any memory for it.
func openS2(buf, rec []byte, limit int) ([]byte, error) {
	n, err := s2.DecodedLen(rec[1:])
	if err != nil {
		return nil, fmt.Errorf("uncompress: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("uncompress: record claims %d bytes, more than Ampel writes", n)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	out, err := s2.Decode(buf[:n], rec[1:])
	if err != nil {
		return nil, fmt.Errorf("uncompress: %w", err)
	}
	return out, nil
}

// scratch holds the buffers one encoding needs, reused across commits.
type scratch struct{ json, z []byte }

var scratches = sync.Pool{New: func() any { return &scratch{json: make([]byte, 0, 4096)} }}

func encodeConversation(c *bot.Conversation) ([]byte, error) {
	sc := scratches.Get().(*scratch)
	defer scratches.Put(sc)
	sc.json = appendConversationJSON(sc.json[:0], c)
	return sealS2(&sc.z, sc.json)
}

// appendConversation appends c's record (as encodeConversation makes it)
// to dst.
func appendConversation(dst []byte, c *bot.Conversation) ([]byte, error) {
	sc := scratches.Get().(*scratch)
	defer scratches.Put(sc)
	sc.json = appendConversationJSON(sc.json[:0], c)
	enc, err := compressS2(&sc.z, sc.json)
	if err != nil {
		return nil, err
	}
	return append(append(dst, tagS2), enc...), nil
}

// decodeConversation reads a stored conversation in either form. v may be
// bbolt's memory, valid only within the transaction: nothing of it is kept.
func decodeConversation(v []byte, c *bot.Conversation) error {
	return decodeConversationUpTo(v, c, maxConversationJSON)
}

func decodeConversationUpTo(v []byte, c *bot.Conversation, limit int) error {
	if len(v) > 0 && v[0] == tagS2 {
		js, err := openS2(nil, v, limit)
		if err != nil {
			return err
		}
		v = js
	}
	return json.Unmarshal(v, c)
}
