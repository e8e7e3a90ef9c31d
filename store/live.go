package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ampel-bot/ampel/bot"
	bolt "go.etcd.io/bbolt"
)

// bucketLive remembers where each live message is shown (bot.LiveRef):
// chat key + NUL + live key → 8-byte outbox ID, 8-byte time (Unix ns),
// then the platform's reference.
var bucketLive = []byte("live")

func liveStoreKey(chat, live string) ([]byte, error) {
	if chat == "" || live == "" || strings.IndexByte(chat, 0) >= 0 || len(chat)+len(live) > 1024 {
		return nil, errors.New("live message: bad chat or key")
	}
	return append(append([]byte(chat), 0), live...), nil
}

func encodeLive(r bot.LiveRef) []byte {
	v := binary.BigEndian.AppendUint64(nil, r.ID)
	v = binary.BigEndian.AppendUint64(v, uint64(r.At.UnixNano()))
	return append(v, r.Ref...)
}

func decodeLive(v []byte) (bot.LiveRef, bool) {
	if len(v) < 16 {
		return bot.LiveRef{}, false
	}
	return bot.LiveRef{
		ID: binary.BigEndian.Uint64(v), At: time.Unix(0, int64(binary.BigEndian.Uint64(v[8:]))).UTC(),
		Ref: string(v[16:]),
	}, true
}

// Live implements bot.Store.
func (s *DB) Live(ctx context.Context, chat, live string) (bot.LiveRef, bool, error) {
	k, err := liveStoreKey(chat, live)
	if err != nil {
		return bot.LiveRef{}, false, err
	}
	var r bot.LiveRef
	var ok bool
	err = s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLive).Get(k)
		if v == nil {
			return nil
		}
		if r, ok = decodeLive(v); !ok {
			return fmt.Errorf("live message: %w", bot.ErrDamaged)
		}
		return nil
	})
	return r, ok, err
}

// SetLive implements bot.Store: it returns once the record is durable.
func (s *DB) SetLive(ctx context.Context, chat, live string, ref bot.LiveRef) error {
	k, err := liveStoreKey(chat, live)
	if err != nil {
		return err
	}
	r := &commitReq{live: &liveReq{k: k, v: encodeLive(ref)}, done: make(chan struct{})}
	if err := s.submit(ctx, r); err != nil {
		return err
	}
	<-r.done
	return r.err
}

// liveReq is a commitReq recording where a live message is shown.
type liveReq struct{ k, v []byte }
