package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot/bottest"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkLongConversation runs 32,000 turns of one user on the real store
// (see bottest.LongUser) and reports the mean time of a turn over the first
// and over the last 1,000, and the conversation's size at the end, stored
// and as the JSON encoded on every turn. It takes minutes:
//
//	go test -run '^$' -bench LongConversation -benchtime 1x ./store
func BenchmarkLongConversation(b *testing.B) {
	const events = 32000
	for b.Loop() {
		db, err := Open(filepath.Join(b.TempDir(), "long.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		u := bottest.NewLongUser(b, db)
		var first, last time.Duration
		for u.Events < events {
			d := u.Turn(b)
			if u.Events <= 1000 {
				first += d
			}
			if u.Events > events-1000 {
				last += d
			}
		}
		var stored, plain int
		err = db.db.View(func(tx *bolt.Tx) error {
			v := tx.Bucket(bucketConvs).Get([]byte(u.Addr.Key()))
			js, err := openS2(nil, v, maxConversationJSON)
			stored, plain = len(v), len(js)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(first.Microseconds())/1000/1000, "ms/turn-first1k")
		b.ReportMetric(float64(last.Microseconds())/1000/1000, "ms/turn-last1k")
		b.ReportMetric(float64(stored), "stored-B")
		b.ReportMetric(float64(plain), "json-B")
		db.Close()
	}
}
