package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	bolt "go.etcd.io/bbolt"
)

// rawConversation reads a conversation's stored bytes from a closed file.
func rawConversation(t *testing.T, path, key string) []byte {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var v []byte
	bdb.View(func(tx *bolt.Tx) error {
		v = append(v, tx.Bucket(bucketConvs).Get([]byte(key))...)
		return nil
	})
	return v
}

// A file written before conversations were compressed opens, its
// conversations read as they were, and each is compressed when next written.
func TestSchema1ConversationsStillRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ampel.db")
	if err := openClose(t, path, migrations[:1]); err != nil {
		t.Fatal(err)
	}
	key := bot.Address{Platform: "telegram", Chat: "42"}.Key()
	old, err := json.Marshal(bottest.SampleConversation())
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Its bookkeeping record, uncompressed, remembers an event and indexes
	// a reminder the conversation no longer has.
	staleDue := dueKey(key, "m9-2review", time.Date(2027, 5, 3, 7, 0, 0, 0, time.UTC))
	due := binary.AppendUvarint(nil, uint64(len(staleDue)))
	due = append(due, staleDue...)
	oldRec := binary.AppendUvarint(nil, uint64(len(due)))
	oldRec = inboxAdd(append(oldRec, due...), nil, "old-event", &retention{now: time.Now().UnixNano(), def: time.Hour})
	if err := bdb.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketDue).Put(staleDue, nil); err != nil {
			return err
		}
		if err := tx.Bucket(bucketConvs).Put(recordKey(key), oldRec); err != nil {
			return err
		}
		return tx.Bucket(bucketConvs).Put([]byte(key), old)
	}); err != nil {
		t.Fatal(err)
	}
	bdb.Close()

	db := mustOpenAt(t, path, Options{})
	ctx := context.Background()
	got, err := db.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load of a schema 1 record: %v", err)
	}
	want := bottest.Stored(bottest.SampleConversation())
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Load of a schema 1 record:\ngot  %+v\nwant %+v", got, want)
	}
	if _, err := db.Commit(ctx, "old-event", key, got, nil); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Commit of an event the schema 1 record remembers: got %v, want ErrDuplicate", err)
	}
	got.Dialog.Seq++
	if _, err := db.Commit(ctx, "e1", key, got, nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"old-event", "e1"} {
		if seen, err := db.Seen(ctx, key, id); err != nil || !seen {
			t.Errorf("Seen(%q) after the record was rewritten: got %v, %v; want true", id, seen, err)
		}
	}
	refs, err := db.Due(ctx, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), bot.DueRef{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		if r.ID == "m9-2review" {
			t.Errorf("reminder index after the record was rewritten still holds %+v, which only the schema 1 record listed", r)
		}
	}
	again, err := db.Load(ctx, key)
	if err != nil || !reflect.DeepEqual(again, bottest.Stored(got)) {
		t.Fatalf("Load after writing: got %+v, %v; want %+v", again, err, got)
	}
	db.Close()
	if got := rawSchema(t, path); got != SchemaVersion() {
		t.Errorf("schema: got %d, want %d", got, SchemaVersion())
	}
	raw := rawConversation(t, path, key)
	if len(raw) == 0 || raw[0] != tagS2 || len(raw) >= len(old) {
		t.Errorf("record after writing: %d bytes starting %q, want it compressed, smaller than its %d bytes of JSON", len(raw), raw[:min(len(raw), 8)], len(old))
	}
	if rec := rawConversation(t, path, string(recordKey(key))); len(rec) == 0 || rec[0] != tagS2 {
		t.Errorf("bookkeeping record after writing: starts %q, want it compressed", rec[:min(len(rec), 8)])
	}
}

// A damaged record is an error naming the conversation, not a panic or an
// empty conversation that would overwrite it.
func TestDamagedRecordIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ampel.db")
	db := mustOpenAt(t, path, Options{})
	key := bot.Address{Platform: "slack", Chat: "C1"}.Key()
	if _, err := db.Commit(context.Background(), "e1", key, bottest.SampleConversation(), nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketConvs).Put([]byte(key), []byte{tagS2, 0xff, 0xff, 0x03, 'x'})
	})
	bdb.Close()
	db = mustOpenAt(t, path, Options{})
	if c, err := db.Load(context.Background(), key); err == nil || !strings.Contains(err.Error(), key) {
		t.Errorf("Load of a damaged record: got %+v, %v; want an error naming %q", c, err, key)
	}
}

// allocatedDuring reports the bytes allocated while f ran.
func allocatedDuring(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

// A compressed record states its length first; a damaged one claiming 4 GB
// must not make the store take 4 GB. A damaged conversation is an error; a
// damaged bookkeeping record is started afresh, as an unreadable
// uncompressed one always was, and the turn goes through.
func TestDamagedLengthTakesNoMemory(t *testing.T) {
	claim4GB := []byte{tagS2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}
	path := filepath.Join(t.TempDir(), "ampel.db")
	db := mustOpenAt(t, path, Options{})
	ctx := context.Background()
	key := bot.Address{Platform: "mattermost", Chat: "town-square"}.Key()
	if _, err := db.Commit(ctx, "e1", key, bottest.SampleConversation(), nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketConvs).Put(recordKey(key), claim4GB); err != nil {
			return err
		}
		return tx.Bucket(bucketConvs).Put([]byte(key), claim4GB)
	})
	bdb.Close()

	db = mustOpenAt(t, path, Options{})
	var loadErr error
	if n := allocatedDuring(func() { _, loadErr = db.Load(ctx, key) }); n > 1<<20 {
		t.Errorf("Load of a conversation claiming 4 GB allocated %d bytes, want under 1 MB", n)
	}
	if loadErr == nil || !strings.Contains(loadErr.Error(), key) {
		t.Errorf("Load of a conversation claiming 4 GB: got %v, want an error naming %q", loadErr, key)
	}
	var commitErr error
	if n := allocatedDuring(func() { _, commitErr = db.Commit(ctx, "e2", key, bottest.SampleConversation(), nil) }); n > 16<<20 {
		t.Errorf("Commit over bookkeeping claiming 4 GB allocated %d bytes, want well under 16 MB", n)
	}
	if commitErr != nil {
		t.Errorf("Commit over a damaged bookkeeping record: %v, want it started afresh", commitErr)
	}
	if seen, err := db.Seen(ctx, key, "e2"); err != nil || !seen {
		t.Errorf("Seen(e2) after the damaged bookkeeping was replaced: got %v, %v; want true", seen, err)
	}
}

func BenchmarkEncodeConversation(b *testing.B) {
	c := bottest.SampleConversation()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeConversation(c); err != nil {
			b.Fatal(err)
		}
	}
}

// A file written before schema 3 may hold a conversation grown over years:
// opening it moves what the conversation no longer needs to its archive,
// so that its next turn is as cheap as anyone's. Small conversations are
// left as they are until their next turn tidies them.
func TestSchema2LargeConversationsTidied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ampel.db")
	if err := openClose(t, path, migrations[:2]); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2020, 1, 6, 9, 0, 0, 0, time.UTC)
	run := func(flow string, i int) bot.Run {
		return bot.Run{Flow: flow, Version: 1, Started: day.AddDate(0, 0, i), Done: day.AddDate(0, 0, i).Add(time.Hour),
			Ratings: map[string]string{"cp-1": "red", "cp-2": "green", "cp-3": "yellow"}}
	}
	big := bottest.SampleConversation()
	big.History, big.Plan.Measures, big.ArchiveSeq = nil, nil, 0
	for i := range 3000 {
		big.History = append(big.History, run("zo-kmu", i))
		if i%1000 == 0 {
			big.History = append(big.History, run("other", i))
		}
	}
	for i := 1; i <= 100; i++ {
		m := bot.Measure{ID: i, Flow: "zo-kmu", Checkpoint: "cp-1", Text: fmt.Sprintf("Maßnahme %d", i), Status: bot.StatusDone}
		if i%10 == 0 {
			m.Status = bot.StatusOpen
		}
		big.Plan.Measures = append(big.Plan.Measures, m)
	}
	small := bottest.SampleConversation()
	small.History = append(small.History, run("zo-kmu", 1))
	bigKey, smallKey := "telegram//big", "telegram//small"
	bigRec, err := encodeConversation(big)
	if err != nil {
		t.Fatal(err)
	}
	smallRec, err := encodeConversation(small)
	if err != nil {
		t.Fatal(err)
	}
	if len(bigRec) <= tidyAbove || len(smallRec) > tidyAbove {
		t.Fatalf("records of %d and %d bytes; the test wants one above %d and one below", len(bigRec), len(smallRec), tidyAbove)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketConvs).Put([]byte(bigKey), bigRec); err != nil {
			return err
		}
		return tx.Bucket(bucketConvs).Put([]byte(smallKey), smallRec)
	}); err != nil {
		t.Fatal(err)
	}
	bdb.Close()

	db := mustOpenAt(t, path, Options{})
	ctx := context.Background()
	got, err := db.Load(ctx, bigKey)
	if err != nil {
		t.Fatal(err)
	}
	want := bottest.Stored(big)
	want.History = []bot.Run{run("other", 2000), run("zo-kmu", 2999)}
	// Settled before that was recorded, the measures count as settled in
	// the order they were added: the 20 newest settled stay, with the open ones.
	var settled []bot.Measure // archived
	want.Plan.Measures = nil
	for _, m := range big.Plan.Measures {
		if m.Status == bot.StatusOpen || m.ID >= 78 {
			want.Plan.Measures = append(want.Plan.Measures, m)
		} else {
			settled = append(settled, m)
		}
	}
	want.ArchiveSeq = 3003 - 2 + len(settled)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the large conversation after the upgrade:\nhistory %d runs, %d measures, archived %d\nwant    %d runs, %d measures, archived %d",
			len(got.History), len(got.Plan.Measures), got.ArchiveSeq, len(want.History), len(want.Plan.Measures), want.ArchiveSeq)
	}
	archived, err := db.Archive(ctx, bigKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(archived) != want.ArchiveSeq {
		t.Fatalf("archive: %d items, want %d", len(archived), want.ArchiveSeq)
	}
	if a := archived[0]; a.Seq != 1 || a.Run == nil || !reflect.DeepEqual(*a.Run, run("zo-kmu", 0)) {
		t.Errorf("archive starts with %+v, want the first run", a)
	}
	if a := archived[len(archived)-1]; a.Measure == nil || !reflect.DeepEqual(*a.Measure, settled[len(settled)-1]) {
		t.Errorf("archive ends with %+v, want measure %d", a, settled[len(settled)-1].ID)
	}
	if n := len(rawConversationOf(t, db, bigKey)); n > 2<<10 {
		t.Errorf("the large conversation is stored in %d bytes after the upgrade (%d before), want at most 2 KB", n, len(bigRec))
	}
	if raw := rawConversationOf(t, db, smallKey); !bytes.Equal(raw, smallRec) {
		t.Errorf("a small conversation was rewritten by the upgrade")
	}
}

// rawConversationOf reads a conversation's stored bytes from an open store.
func rawConversationOf(t *testing.T, db *DB, key string) []byte {
	t.Helper()
	var v []byte
	db.db.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket(bucketConvs).Get([]byte(key)))
		return nil
	})
	return v
}
