package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/ampel-bot/ampel/bot"
	bolt "go.etcd.io/bbolt"
)

// bucketArchive holds what conversations moved out of themselves (see
// bot.Conversation.Tidy): finished runs and settled measures, each under
// its conversation's key + NUL + its Seq (8 bytes, big-endian), so that a
// conversation's archive is one range of keys, oldest first, and storing an
// item twice stores it once. Each is its JSON compressed as conversations
// are. It is written once per item and read only when asked for, so a
// conversation's turns cost the same whatever its age.
var bucketArchive = []byte("archive")

func archiveKey(key string, seq int) []byte {
	k := make([]byte, 0, len(key)+9)
	k = append(k, key...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, uint64(seq))
}

// archiveEntry is an archived item ready to be put.
type archiveEntry struct{ k, v []byte }

// encodeArchive encodes conv.Archive for key. Items are few and rare (one
// per finished run or settled measure), so encoding/json does.
func encodeArchive(key string, items []bot.Archived) ([]archiveEntry, error) {
	var out []archiveEntry
	var z []byte
	for i := range items {
		if items[i].Seq <= 0 {
			return nil, fmt.Errorf("archived item without a number")
		}
		js, err := json.Marshal(&items[i])
		if err != nil {
			return nil, err
		}
		v, err := sealS2(&z, js)
		if err != nil {
			return nil, err
		}
		out = append(out, archiveEntry{archiveKey(key, items[i].Seq), v})
	}
	return out, nil
}

// maxArchived bounds one archived item as stored: a run or a measure is a
// few hundred bytes.
const maxArchived = 1 << 20

// Archive implements bot.Store.
func (s *DB) Archive(ctx context.Context, key string) ([]bot.Archived, error) {
	var items []bot.Archived
	err := s.view(func(tx *bolt.Tx) error {
		prefix := append([]byte(key), 0)
		c := tx.Bucket(bucketArchive).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != len(prefix)+8 || len(v) == 0 || v[0] != tagS2 {
				continue // not an item Ampel wrote
			}
			js, err := openS2(nil, v, maxArchived)
			if err != nil {
				return fmt.Errorf("archive %s: %w", key, err)
			}
			var a bot.Archived
			if err := json.Unmarshal(js, &a); err != nil {
				return fmt.Errorf("archive %s: %w", key, err)
			}
			items = append(items, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// moveArchive gives the archive of from to to, keeping an item to has
// under the same number already.
func moveArchive(b *bolt.Bucket, from, to string) error {
	prefix := append([]byte(from), 0)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) == len(prefix)+8 {
			keys = append(keys, bytes.Clone(k))
		}
	}
	for _, k := range keys {
		nk := append(append([]byte(to), 0), k[len(prefix):]...)
		if b.Get(nk) == nil {
			if err := b.Put(nk, bytes.Clone(b.Get(k))); err != nil {
				return err
			}
		}
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Migration to schema 3: a conversation stored larger than tidyAbove is
// tidied at once, the others when next written. Before schema 3 a
// conversation kept every run, so a long-used one could grow past what
// Load reads (maxConversationJSON); the migration reads more, up to
// maxMigrateJSON, where the record is large enough to hold it (a claim of
// more than migrateRatio times the stored size is damage).
const (
	tidyAbove      = 4 << 10
	maxMigrateJSON = 1 << 30
	migrateRatio   = 64
)

func tidyLarge(tx *bolt.Tx) error {
	archive, err := tx.CreateBucketIfNotExists(bucketArchive)
	if err != nil {
		return err
	}
	convs := tx.Bucket(bucketConvs)
	var large [][]byte
	err = convs.ForEach(func(k, v []byte) error {
		if len(v) > tidyAbove && len(k) > 0 && k[len(k)-1] != 0 {
			large = append(large, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range large {
		var c bot.Conversation
		v := convs.Get(k)
		limit := min(maxMigrateJSON, max(maxConversationJSON, migrateRatio*len(v)))
		if err := decodeConversationUpTo(v, &c, limit); err != nil {
			continue // damaged: left as it is, for whoever looks at it
		}
		c.Tidy()
		if len(c.Archive) == 0 {
			continue
		}
		arch, err := encodeArchive(string(k), c.Archive)
		if err != nil {
			return err
		}
		for _, a := range arch {
			if err := archive.Put(a.k, a.v); err != nil {
				return err
			}
		}
		nv, err := encodeConversation(&c)
		if err != nil {
			return err
		}
		if err := convs.Put(k, nv); err != nil {
			return err
		}
	}
	return nil
}
