package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	bolt "go.etcd.io/bbolt"
)

var damageStart = time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)

// withBolt runs fn in a write transaction on a closed store's file, to
// damage it as a disk or an older program might.
func withBolt(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	if err := bdb.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// damagePages overwrites the first 8 bytes (the page's own ID) of every
// page of the file that holds needle, as a stray write or a bad block
// would: bbolt panics when it reads such a page. Pages freed earlier that
// still hold an old copy are hit too, which is harmless. It returns how
// many pages it damaged.
func damagePages(t *testing.T, path string, needle []byte) int {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ps := bdb.Info().PageSize
	bdb.Close()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pages := map[int]bool{}
	for off := 0; ; {
		i := bytes.Index(file[off:], needle)
		if i < 0 {
			break
		}
		pages[(off+i)/ps] = true
		off += i + 1
	}
	for p := range pages {
		copy(file[p*ps:], []byte{0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef})
	}
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	return len(pages)
}

// unreadable returns the keys whose conversation bbolt cannot read (it
// panics), found without the store.
func unreadable(t *testing.T, path string, keys []string) map[string]bool {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	out := map[string]bool{}
	for _, k := range keys {
		func() {
			defer func() {
				if recover() != nil {
					out[k] = true
				}
			}()
			bdb.View(func(tx *bolt.Tx) error {
				tx.Bucket(bucketConvs).Get([]byte(k))
				return nil
			})
		}()
	}
	return out
}

func chatAddr(i int) bot.Address {
	id := fmt.Sprintf("chat-%03d", i)
	return bot.Address{Platform: "test", Chat: id, User: id}
}

// TestDamagedPageHurtsOnlyItsRecords damages the page of the file holding
// one conversation. Before, the first Load of it panicked and ended the
// process. Now the conversations on that page are set aside and their
// chats get an apology; the 100-odd others, written to and read from at the
// same time, go on as before.
func TestDamagedPageHurtsOnlyItsRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ampel.db")
	clock := bottest.NewClock(damageStart)
	const chats = 120
	var keys []string
	{
		db, err := Open(path, Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		e := bottest.NewEngine(t, db, clock)
		e.Register(&bottest.Recorder{Name: "test"})
		for i := range chats {
			keys = append(keys, chatAddr(i).Key())
			if err := e.Handle(ctx, bot.Event{ID: "a" + fmt.Sprint(i), Addr: chatAddr(i), Text: "/check zo-kmu", LangHint: "de"}); err != nil {
				t.Fatal(err)
			}
		}
		e.Close()
		db.Close()
	}
	victim := chatAddr(60).Key()
	if n := damagePages(t, path, append([]byte(victim), tagS2)); n == 0 {
		t.Fatal("the victim's record is not in the file")
	}
	bad := unreadable(t, path, keys)
	if !bad[victim] || len(bad) > chats/4 {
		t.Fatalf("test premise: the damaged page should hold the victim and a few others; unreadable: %d, victim among them: %v", len(bad), bad[victim])
	}

	db, err := Open(path, Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("Open of a file with a damaged page: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	rec := &bottest.Recorder{Name: "test"}
	e := bottest.NewEngine(t, db, clock)
	e.Register(rec)
	var wg sync.WaitGroup
	errs := make([]error, chats)
	for i := range chats {
		wg.Go(func() {
			errs[i] = e.Handle(ctx, bot.Event{ID: "b" + fmt.Sprint(i), Addr: chatAddr(i), Text: "/check zo-kmu", LangHint: "de"})
		})
	}
	wg.Wait()
	replies := map[string][]string{}
	for _, s := range rec.Take() {
		replies[s.To.Key()] = append(replies[s.To.Key()], s.Msg.Text)
	}
	for i, k := range keys {
		if errs[i] != nil {
			t.Errorf("Handle for %s: %v", k, errs[i])
		}
		apology := len(replies[k]) == 1 && strings.Contains(replies[k][0], "gespeicherten Angaben")
		if bad[k] != apology {
			t.Errorf("%s (on the damaged page: %v) got %q", k, bad[k], replies[k])
		}
		if bad[k] {
			continue
		}
		if c, err := db.Load(ctx, k); err != nil || c.Run == nil {
			t.Errorf("Load(%s) of a conversation on a healthy page: %v, run %v", k, err, c != nil && c.Run != nil)
		}
	}
	if _, err := db.Seen(ctx, victim, "a60"); !errors.Is(err, bot.ErrDamaged) {
		t.Errorf("Seen on the damaged page: got %v, want ErrDamaged", err)
	}
	if _, err := e.RunDue(ctx, damageStart.AddDate(1, 0, 0)); err != nil {
		t.Errorf("RunDue: %v", err)
	}
	if err := e.Flush(ctx); err != nil {
		t.Errorf("Flush: %v", err)
	}
	q, err := db.Quarantine()
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for _, entry := range q {
		if entry.Kind == "conversation" && entry.State == "held" && len(entry.Raw) == 0 {
			held[entry.Key] = true
		}
	}
	if !reflect.DeepEqual(held, bad) {
		t.Errorf("conversations set aside: %v, want those on the damaged page: %v", held, bad)
	}
	r, err := db.Inspect()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Damaged) == 0 || r.Damaged[0].Where != "conversations" || r.Conversations < chats-len(bad) {
		t.Errorf("Inspect: %+v, want the unreadable page reported and the %d others read", r, chats-len(bad))
	}
}

// A panic while writing one conversation (bbolt on a damaged page) fails
// that commit alone: the others in the same transaction are written.
func TestWriterIsolatesDamagedRequest(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	hold, held := make(chan struct{}), make(chan struct{})
	var once sync.Once
	db.writeHook = func(key string) error {
		switch key {
		case "test//blocker":
			once.Do(func() { close(held); <-hold }) // a slow disk: the others queue up
		case "test//victim":
			panic("page 12: unexpected flags")
		}
		return nil
	}
	blocked := make(chan error, 1)
	go func() {
		_, err := db.Commit(ctx, "e", "test//blocker", &bot.Conversation{}, nil)
		blocked <- err
	}()
	<-held
	keys := []string{"test//victim"}
	for i := range 30 {
		keys = append(keys, fmt.Sprintf("test//other-%d", i))
	}
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			_, errs[i] = db.Commit(ctx, "e", k, &bot.Conversation{Lang: "en"}, []bot.Outgoing{{To: bot.Address{Platform: "test", Chat: k}, Msg: bot.Message{Text: "hi"}}})
		})
	}
	for len(db.reqs) < len(keys) {
		time.Sleep(time.Millisecond) // until all wait in one queue, to share a transaction
	}
	close(hold)
	wg.Wait()
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[0], bot.ErrDamaged) {
		t.Errorf("the commit that met the damage: got %v, want ErrDamaged", errs[0])
	}
	for i, k := range keys[1:] {
		if errs[i+1] != nil {
			t.Errorf("commit of %s in the same batch: %v", k, errs[i+1])
		}
		if c, err := db.Load(ctx, k); err != nil || c.Lang != "en" {
			t.Errorf("Load(%s): %+v, %v; want it written", k, c, err)
		}
	}
	if p, err := db.Pending(ctx, 0, 100); err != nil || len(p) != len(keys)-1 {
		t.Errorf("Pending: %d messages, %v; want the %d of the commits that were written", len(p), err, len(keys)-1)
	}
}

// A record of the wrong shape is set aside: Load reports it as damaged,
// keeps doing so without writing anything over it, passes over its
// reminders, and a new conversation written under its key releases it.
func TestDamagedConversationSetAside(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ampel.db")
	clock := bottest.NewClock(damageStart)
	key := chatAddr(1).Key()
	due := damageStart.Add(24 * time.Hour)
	{
		db, err := Open(path, Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		c := &bot.Conversation{Reminders: []bot.Reminder{{ID: "m1-1start", Due: due, Status: bot.ReminderPending}}}
		if _, err := db.Commit(ctx, "e1", key, c, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Commit(ctx, "e1", chatAddr(2).Key(), c, nil); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	var wrongShape []byte
	withBolt(t, path, func(tx *bolt.Tx) error {
		var z []byte
		var err error
		if wrongShape, err = sealS2(&z, []byte(`{"lang":"de","plan":5}`)); err != nil {
			return err
		}
		return tx.Bucket(bucketConvs).Put([]byte(key), wrongShape)
	})
	db := mustOpenAt(t, path, Options{Now: clock.Now})
	for range 2 {
		if _, err := db.Load(ctx, key); !errors.Is(err, bot.ErrDamaged) || !strings.Contains(err.Error(), key) {
			t.Errorf("Load of a record of the wrong shape: got %v, want ErrDamaged naming %s", err, key)
		}
	}
	q, err := db.Quarantine()
	if err != nil || len(q) != 1 || q[0].Key != key || q[0].State != "held" || !bytes.Equal(q[0].Raw, wrongShape) || q[0].Ref != Ref(key) {
		t.Fatalf("Quarantine: %+v, %v; want the record, held, as it was", q, err)
	}
	if db.SetAside() != 1 {
		t.Errorf("SetAside() = %d, want 1", db.SetAside())
	}
	refs, err := db.Due(ctx, due, bot.DueRef{}, 10)
	if err != nil || len(refs) != 1 || refs[0].Key != chatAddr(2).Key() {
		t.Errorf("Due: %+v, %v; want only the healthy conversation's reminder", refs, err)
	}
	if _, err := db.Commit(ctx, "e2", key, nil, nil); err != nil {
		t.Fatalf("Commit without a state to a conversation set aside: %v", err)
	}
	if _, err := db.Load(ctx, key); !errors.Is(err, bot.ErrDamaged) {
		t.Errorf("Load after a commit without a state: got %v, want still ErrDamaged", err)
	}
	if _, err := db.Commit(ctx, "e3", key, &bot.Conversation{Lang: "en"}, nil); err != nil {
		t.Fatal(err)
	}
	if c, err := db.Load(ctx, key); err != nil || c.Lang != "en" {
		t.Errorf("Load after a new start: %+v, %v", c, err)
	}
	if refs, _ := db.Due(ctx, due, bot.DueRef{}, 10); len(refs) != 1 {
		t.Errorf("Due after a new start: %+v; the old conversation's reminder must be gone from the index", refs)
	}
	q, _ = db.Quarantine()
	if len(q) != 1 || q[0].State != "released" || !bytes.Equal(q[0].Raw, wrongShape) {
		t.Errorf("Quarantine after a new start: %+v, want the record kept, released", q)
	}
}

// TestDamagedOutboxRecordSetAside: one outbox record that does not decode.
// Before, the start failed ("read outbox: outbox 2: corrupt outbox record")
// on every start. Now the others are delivered and it is set aside.
func TestDamagedOutboxRecordSetAside(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ampel.db")
	to := bot.Address{Platform: "test", Chat: "c1", User: "c1"}
	{
		db, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		outs := []bot.Outgoing{{To: to, Msg: bot.Message{Text: "one"}}, {To: to, Msg: bot.Message{Text: "two"}}, {To: to, Msg: bot.Message{Text: "three"}}}
		if _, err := db.Commit(ctx, "e1", to.Key(), &bot.Conversation{}, outs); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	damaged := []byte{outboxV2, 0xff, 0xff}
	withBolt(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).Put(binary.BigEndian.AppendUint64(nil, 2), damaged)
	})

	db := mustOpenAt(t, path, Options{})
	rec := &bottest.Recorder{Name: "test"}
	e := bottest.NewEngine(t, db, bottest.NewClock(damageStart))
	e.Register(rec)
	if err := e.Flush(ctx); err != nil {
		t.Fatalf("Flush at start with a damaged outbox record: %v", err)
	}
	var got []string
	for _, s := range rec.Take() {
		got = append(got, s.Msg.Text)
	}
	if !reflect.DeepEqual(got, []string{"one", "three"}) {
		t.Errorf("delivered %q, want the two others", got)
	}
	q, err := db.Quarantine()
	if err != nil || len(q) != 1 || q[0].Kind != "outbox" || q[0].Key != "2" || !bytes.Equal(q[0].Raw, damaged) {
		t.Errorf("Quarantine: %+v, %v; want outbox 2 as it was", q, err)
	}
	if r, err := db.Inspect(); err != nil || len(r.Damaged) != 0 || r.SetAside != 1 {
		t.Errorf("Inspect after setting it aside: %+v, %v; want nothing damaged and one record set aside", r, err)
	}
}

// TestDeliveredSurvivesFailedWrite: a removal from the outbox whose write
// failed (a full disk) is written with the next commit that succeeds.
// Before, it was dropped, and the message was sent again after a restart.
func TestDeliveredSurvivesFailedWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ampel.db")
	to := bot.Address{Platform: "test", Chat: "c1"}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.Commit(ctx, "e1", to.Key(), &bot.Conversation{}, []bot.Outgoing{{To: to, Msg: bot.Message{Text: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	full := errors.New("write ampel.db: no space left on device")
	failed := make(chan struct{})
	var once sync.Once
	db.writeHook = func(key string) error {
		if key != "" {
			return nil
		}
		fail := false
		once.Do(func() { fail = true; close(failed) })
		if fail {
			return full
		}
		return nil
	}
	if err := db.Delivered(ctx, q[0].ID); err != nil {
		t.Fatal(err)
	}
	<-failed // the removal's transaction failed
	if p, err := db.Pending(ctx, 0, 10); err != nil || len(p) != 0 {
		t.Errorf("Pending after the failed write: %d, %v; want the delivered message left out", len(p), err)
	}
	if _, err := db.Commit(ctx, "e2", to.Key(), &bot.Conversation{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenAt(t, path, Options{})
	if p, err := db.Pending(ctx, 0, 10); err != nil || len(p) != 0 {
		t.Errorf("Pending after a restart: %+v, %v; want the delivered message gone for good", p, err)
	}
}

// A page of the outbox or of the reminder index that cannot be read hides
// only what is on it: Pending and Due go on after it. Before, the first
// read of it ended the process.
func TestScansSkipUnreadablePage(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ampel.db")
	due := damageStart.Add(time.Hour)
	const n = 400
	{
		db, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			a := chatAddr(i)
			c := &bot.Conversation{Reminders: []bot.Reminder{{ID: "m1-1start", Due: due, Status: bot.ReminderPending}}}
			out := bot.Outgoing{To: a, Msg: bot.Message{Text: fmt.Sprintf("message %04d, long enough to fill pages soon", i)}}
			if _, err := db.Commit(ctx, "e", a.Key(), c, []bot.Outgoing{out}); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
	}
	if damagePages(t, path, []byte("message 0200,")) == 0 || damagePages(t, path, []byte(chatAddr(200).Key()+"\x00m1-1start")) == 0 {
		t.Fatal("nothing to damage")
	}
	db := mustOpenAt(t, path, Options{})
	p, err := db.Pending(ctx, 0, 2*n)
	if err != nil {
		t.Fatalf("Pending over an unreadable page: %v", err)
	}
	if len(p) >= n || len(p) < n-n/4 || p[0].Msg.Text != "message 0000, long enough to fill pages soon" || p[len(p)-1].ID != n {
		t.Errorf("Pending: %d messages, from %q to %d; want all but those on the damaged page, to the last", len(p), p[0].Msg.Text, p[len(p)-1].ID)
	}
	refs, err := db.Due(ctx, due, bot.DueRef{}, 2*n)
	if err != nil {
		t.Fatalf("Due over an unreadable page: %v", err)
	}
	if len(refs) >= n || len(refs) < n-n/4 || refs[len(refs)-1].Key != chatAddr(n-1).Key() {
		t.Errorf("Due: %d reminders; want all but those on the damaged page, to the last", len(refs))
	}
	if next, ok, err := db.NextDue(ctx); err != nil || !ok || !next.Equal(due) {
		t.Errorf("NextDue: %v, %v, %v", next, ok, err)
	}
	r, err := db.Inspect()
	if err != nil {
		t.Fatal(err)
	}
	where := map[string]bool{}
	for _, d := range r.Damaged {
		where[d.Where] = true
	}
	if !where["outbox"] || !where["reminder index"] || r.Outbox != len(p) || r.Reminders != len(refs) {
		t.Errorf("Inspect: %+v; want the two unreadable pages and everything else read", r)
	}
}
