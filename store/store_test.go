package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	bolt "go.etcd.io/bbolt"
)

// MustOpen opens a new store in a temporary directory and closes it when the
// test ends.
func MustOpen(tb testing.TB) *DB {
	tb.Helper()
	return mustOpenAt(tb, filepath.Join(tb.TempDir(), "ampel.db"), Options{})
}

func mustOpenAt(tb testing.TB, path string, opts Options) *DB {
	tb.Helper()
	db, err := Open(path, opts)
	if err != nil {
		tb.Fatalf("Open(%s): got error %v, want nil", path, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close(%s): got error %v, want nil", path, err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	bottest.TestStore(t, func(t *testing.T) bot.Store { return MustOpen(t) })
}

func TestPersistence(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "ampel.db")
	addr := bot.Address{Platform: "test", Chat: "persist"}
	want := bottest.Stored(bottest.SampleConversation())
	outs := []bot.Outgoing{
		{To: addr, Msg: bot.Message{Text: "one", Buttons: [][]bot.Button{{{Label: "Ja", Action: "y"}}}}},
		{To: addr, Msg: bot.Message{Text: "two"}},
		{To: addr, Msg: bot.Message{Text: "three", Files: []bot.File{{Name: "a.csv", MIME: "text/csv", Data: []byte("a;b\n")}}}},
	}

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	q, err := db.Commit(ctx, "persist-1", addr.Key(), want, outs)
	if err != nil {
		t.Fatalf("Commit: got error %v, want nil", err)
	}
	// A delivery acknowledged before Close is written by Close.
	if err := db.Delivered(ctx, q[1].ID); err != nil {
		t.Fatalf("Delivered: got error %v, want nil", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}

	db = mustOpenAt(t, path, Options{})
	got, err := db.Load(ctx, addr.Key())
	if err != nil {
		t.Fatalf("Load after reopen: got error %v, want nil", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load after reopen:\ngot  %s\nwant %s", js(got), js(want))
	}
	if seen, err := db.Seen(ctx, addr.Key(), "persist-1"); err != nil || !seen {
		t.Errorf("Seen after reopen: got %v, %v, want true, nil", seen, err)
	}
	if _, err := db.Commit(ctx, "persist-1", addr.Key(), &bot.Conversation{}, nil); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("Commit of the same event after reopen: got error %v, want %v", err, bot.ErrDuplicate)
	}
	p, err := db.Pending(ctx, 0, 10)
	if err != nil {
		t.Fatalf("Pending after reopen: got error %v, want nil", err)
	}
	if wantP := []bot.Queued{q[0], q[2]}; !reflect.DeepEqual(p, wantP) {
		t.Errorf("Pending after reopen:\ngot  %s\nwant %s", js(p), js(wantP))
	}
	// The outbox sequence survives too: no ID is handed out twice.
	q2, err := db.Commit(ctx, "persist-2", addr.Key(), want, outs[:1])
	if err != nil {
		t.Fatalf("Commit after reopen: got error %v, want nil", err)
	}
	if q2[0].ID <= q[2].ID {
		t.Errorf("Commit after reopen: got ID %d, want greater than %d", q2[0].ID, q[2].ID)
	}
}

func TestSecondOpenerLocked(t *testing.T) {
	db := MustOpen(t)
	path := db.Path()

	start := time.Now()
	db2, err := Open(path, Options{LockTimeout: 300 * time.Millisecond})
	elapsed := time.Since(start)
	if err == nil {
		db2.Close()
		t.Fatalf("second Open of %s: got no error, want %v", path, ErrLocked)
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: got error %v, want one matching %v", err, ErrLocked)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("second Open: got message %q, want it to name %s", err, path)
	}
	if elapsed > 3*time.Second {
		t.Errorf("second Open: got an error after %s, want it within about the 300ms lock timeout", elapsed)
	}
	t.Logf("second Open failed after %s: %v", elapsed, err)

	// The first store still works, and once it is closed the file opens again.
	if _, err := db.Commit(t.Context(), "lock-1", "k", &bot.Conversation{}, nil); err != nil {
		t.Errorf("Commit on the first store: got error %v, want nil", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	db3, err := Open(path, Options{LockTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after the first store closed: got error %v, want nil", err)
	}
	db3.Close()
}

func TestCloseIdempotent(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "ampel.db"), Options{})
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	if _, err := db.Commit(t.Context(), "close-1", "k", &bot.Conversation{}, nil); err != nil {
		t.Fatalf("Commit: got error %v, want nil", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("first Close: got error %v, want nil", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: got error %v, want nil", err)
	}
	// Reads on a closed store fail instead of panicking.
	if _, err := db.Load(t.Context(), "k"); err == nil {
		t.Error("Load after Close: got no error, want one")
	}
	if _, err := db.Seen(t.Context(), "test//x", "close-1"); err == nil {
		t.Error("Seen after Close: got no error, want one")
	}
	if _, err := db.Pending(t.Context(), 0, 10); err == nil {
		t.Error("Pending after Close: got no error, want one")
	}
}

func TestCommitAfterClose(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "ampel.db"), Options{})
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	// Select picks at random among ready cases, so try often.
	for i := range 50 {
		errc := make(chan error, 1)
		go func() {
			_, err := db.Commit(context.Background(), fmt.Sprintf("after-close-%d", i), "k", &bot.Conversation{}, nil)
			errc <- err
		}()
		select {
		case err := <-errc:
			if err == nil {
				t.Fatalf("Commit %d after Close: got no error, want one", i)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("Commit %d after Close: got no return within 2s, want an error at once", i)
		}
	}
}

// rawSchema reads the schema version from a closed database file.
func rawSchema(t *testing.T, path string) int {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bolt.Open(%s): got error %v, want nil", path, err)
	}
	defer bdb.Close()
	var v []byte
	if err := bdb.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil {
			v = slices.Clone(m.Get(keySchema))
		}
		return nil
	}); err != nil {
		t.Fatalf("read schema: got error %v, want nil", err)
	}
	if len(v) != 8 {
		t.Fatalf("schema key: got %d bytes, want 8", len(v))
	}
	return int(binary.BigEndian.Uint64(v))
}

// setRawSchema writes a schema version into a closed database file.
func setRawSchema(t *testing.T, path string, version int) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bolt.Open(%s): got error %v, want nil", path, err)
	}
	defer bdb.Close()
	if err := bdb.Update(func(tx *bolt.Tx) error {
		v := make([]byte, 8)
		binary.BigEndian.PutUint64(v, uint64(version))
		return tx.Bucket(bucketMeta).Put(keySchema, v)
	}); err != nil {
		t.Fatalf("write schema: got error %v, want nil", err)
	}
}

// hasBucket reports whether a closed database file holds a top-level bucket.
func hasBucket(t *testing.T, path string, name string) bool {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bolt.Open(%s): got error %v, want nil", path, err)
	}
	defer bdb.Close()
	var ok bool
	bdb.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket([]byte(name)) != nil
		return nil
	})
	return ok
}

// openClose opens path with migs and closes it again.
func openClose(t *testing.T, path string, migs []migration) error {
	t.Helper()
	db, err := open(path, Options{LockTimeout: 300 * time.Millisecond}, migs)
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	return nil
}

func TestMigrations(t *testing.T) {
	// The tests add one migration after the current list, so they keep
	// working when a real one is added.
	cur := SchemaVersion()
	next := cur + 1
	// withNext returns the current migrations plus one that creates bucket
	// "x", counting its calls.
	withNext := func(calls *int) []migration {
		return append(slices.Clone(migrations), migration{next, "test", func(tx *bolt.Tx) error {
			*calls++
			_, err := tx.CreateBucket([]byte("x"))
			return err
		}})
	}

	t.Run("UpgradeOnce", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ampel.db")
		if err := openClose(t, path, migrations); err != nil {
			t.Fatalf("Open (schema %d): got error %v, want nil", cur, err)
		}
		if got := rawSchema(t, path); got != cur {
			t.Fatalf("schema after creating: got %d, want %d", got, cur)
		}
		calls := 0
		migs := withNext(&calls)
		if err := openClose(t, path, migs); err != nil {
			t.Fatalf("Open with migration %d: got error %v, want nil", next, err)
		}
		if calls != 1 {
			t.Errorf("migration %d calls after upgrading: got %d, want 1", next, calls)
		}
		if !hasBucket(t, path, "x") {
			t.Error(`bucket "x" after upgrading: got none, want it created`)
		}
		if got := rawSchema(t, path); got != next {
			t.Errorf("schema after upgrading: got %d, want %d", got, next)
		}
		if err := openClose(t, path, migs); err != nil {
			t.Fatalf("Open again with migration %d: got error %v, want nil", next, err)
		}
		if calls != 1 {
			t.Errorf("migration %d calls after opening again: got %d, want 1", next, calls)
		}
		if got := rawSchema(t, path); got != next {
			t.Errorf("schema after opening again: got %d, want %d", got, next)
		}
	})

	t.Run("NewFileRunsAll", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ampel.db")
		calls := 0
		db, err := open(path, Options{}, withNext(&calls))
		if err != nil {
			t.Fatalf("Open: got error %v, want nil", err)
		}
		t.Cleanup(func() { db.Close() })
		if calls != 1 {
			t.Errorf("migration %d calls: got %d, want 1", next, calls)
		}
		// The earlier migrations ran too: the store works.
		if _, err := db.Commit(t.Context(), "new-1", "test//new", bottest.SampleConversation(), []bot.Outgoing{{Msg: bot.Message{Text: "hi"}}}); err != nil {
			t.Errorf("Commit on a new file: got error %v, want nil", err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close: got error %v, want nil", err)
		}
		if !hasBucket(t, path, "x") {
			t.Error(`bucket "x": got none, want it created`)
		}
		if got := rawSchema(t, path); got != next {
			t.Errorf("schema: got %d, want %d", got, next)
		}
	})

	t.Run("NewerSchemaRaw", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ampel.db")
		if err := openClose(t, path, migrations); err != nil {
			t.Fatalf("Open: got error %v, want nil", err)
		}
		setRawSchema(t, path, 99)
		_, err := Open(path, Options{LockTimeout: 300 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("Open of a schema 99 file: got error %v, want one mentioning \"newer\"", err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("Open of a schema 99 file: got message %q, want it to name %s", err, path)
		}
		if got := rawSchema(t, path); got != 99 {
			t.Errorf("schema after the failed Open: got %d, want 99 untouched", got)
		}
	})

	t.Run("NewerSchemaFromNewerBinary", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ampel.db")
		calls := 0
		migs := append(withNext(&calls), migration{next + 1, "test 2", func(tx *bolt.Tx) error { return nil }})
		if err := openClose(t, path, migs); err != nil {
			t.Fatalf("Open with migrations up to %d: got error %v, want nil", next+1, err)
		}
		err := openClose(t, path, migrations)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("Open of a schema %d file with migrations up to %d: got error %v, want one mentioning \"newer\"", next+1, cur, err)
		}
		if got := rawSchema(t, path); got != next+1 {
			t.Errorf("schema after the failed Open: got %d, want %d untouched", got, next+1)
		}
	})

	t.Run("FailingMigration", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ampel.db")
		if err := openClose(t, path, migrations); err != nil {
			t.Fatalf("Open (schema %d): got error %v, want nil", cur, err)
		}
		boom := errors.New("boom")
		migs := append(slices.Clone(migrations), migration{next, "split the widgets", func(tx *bolt.Tx) error {
			if _, err := tx.CreateBucket([]byte("half-done")); err != nil {
				return err
			}
			return boom
		}})
		err := openClose(t, path, migs)
		if err == nil {
			t.Fatal("Open with a failing migration: got no error, want one")
		}
		if !strings.Contains(err.Error(), "split the widgets") {
			t.Errorf("Open with a failing migration: got message %q, want it to name the migration %q", err, "split the widgets")
		}
		if !errors.Is(err, boom) {
			t.Errorf("Open with a failing migration: got error %v, want one wrapping %v", err, boom)
		}
		if got := rawSchema(t, path); got != cur {
			t.Errorf("schema after the failed migration: got %d, want %d unchanged", got, cur)
		}
		if hasBucket(t, path, "half-done") {
			t.Error(`bucket "half-done" after the failed migration: got it, want it rolled back`)
		}
		// The failed Open let go of the file.
		if err := openClose(t, path, migrations); err != nil {
			t.Errorf("Open after the failed migration: got error %v, want nil", err)
		}
	})

	t.Run("SchemaVersion", func(t *testing.T) {
		if got, want := SchemaVersion(), migrations[len(migrations)-1].version; got != want {
			t.Errorf("SchemaVersion: got %d, want %d", got, want)
		}
		for i, m := range migrations {
			if m.version != i+1 {
				t.Errorf("migrations[%d]: got version %d, want %d (versions count up from 1 without gaps)", i, m.version, i+1)
			}
			if m.name == "" || m.up == nil {
				t.Errorf("migrations[%d]: got name %q, up set %v, want both set", i, m.name, m.up != nil)
			}
		}
		path := filepath.Join(t.TempDir(), "ampel.db")
		if err := openClose(t, path, migrations); err != nil {
			t.Fatalf("Open: got error %v, want nil", err)
		}
		if got := rawSchema(t, path); got != SchemaVersion() {
			t.Errorf("schema of a new file: got %d, want %d", got, SchemaVersion())
		}
	})
}

func TestInboxPruning(t *testing.T) {
	ctx := t.Context()
	clock := bottest.NewClock(time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC))
	db := mustOpenAt(t, filepath.Join(t.TempDir(), "ampel.db"), Options{Now: clock.Now, InboxRetention: time.Hour})
	commit := func(id string) {
		t.Helper()
		if _, err := db.Commit(ctx, id, "test//prune", &bot.Conversation{}, nil); err != nil {
			t.Fatalf("Commit(%s): got error %v, want nil", id, err)
		}
	}
	seen := func(id string, want bool) {
		t.Helper()
		got, err := db.Seen(ctx, "test//prune", id)
		if err != nil {
			t.Fatalf("Seen(%s): got error %v, want nil", id, err)
		}
		if got != want {
			t.Errorf("Seen(%s) at %s: got %v, want %v", id, clock.Now().Format(time.TimeOnly), got, want)
		}
	}

	commit("a") // 09:00
	seen("a", true)
	// Within the retention an ID is remembered, whatever pruning a commit does.
	clock.Add(30 * time.Minute)
	commit("a2") // 09:30
	seen("a", true)
	seen("a2", true)
	// Two retentions later it is forgotten (pruning may be coarse, but not
	// coarser than that). More than a minute has passed, so pruning runs.
	clock.Add(90 * time.Minute)
	commit("b") // 11:00
	seen("a", false)
	seen("b", true)

	// A forgotten event ID is accepted again.
	commit("a")
	seen("a", true)
}

// Each platform's event IDs are remembered as long as it may deliver an
// event again, others as long as InboxRetention says; a commit prunes them.
func TestInboxWindowPerPlatform(t *testing.T) {
	ctx := t.Context()
	clock := bottest.NewClock(time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC))
	windows := map[string]time.Duration{"telegram": 48 * time.Hour, "slack": time.Hour}
	db := mustOpenAt(t, filepath.Join(t.TempDir(), "ampel.db"), Options{Now: clock.Now, InboxRetention: 8 * 24 * time.Hour, Redelivery: windows})
	windows["slack"] = 0 // the store keeps its own copy
	key := "test//window"
	n := 0
	commit := func(id string) {
		t.Helper()
		if _, err := db.Commit(ctx, id, key, &bot.Conversation{}, nil); err != nil {
			t.Fatalf("Commit(%s): got error %v, want nil", id, err)
		}
	}
	tick := func(d time.Duration) { // let time pass, then write
		clock.Add(d)
		n++
		commit(fmt.Sprintf("reminder:%d", n))
	}
	seen := func(want map[string]bool) {
		t.Helper()
		for id, w := range want {
			if got, err := db.Seen(ctx, key, id); err != nil || got != w {
				t.Errorf("Seen(%s) after %s: got %v, %v; want %v", id, clock.Now().Sub(time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)), got, err, w)
			}
		}
	}
	for _, id := range []string{"telegram:17", "slack:Ev1", "console:run-1", "mattermost:p1"} {
		commit(id)
	}
	tick(59 * time.Minute)
	seen(map[string]bool{"telegram:17": true, "slack:Ev1": true, "console:run-1": true, "mattermost:p1": true})
	tick(2 * time.Minute)
	seen(map[string]bool{"telegram:17": true, "slack:Ev1": false, "console:run-1": true, "mattermost:p1": true})
	tick(47 * time.Hour)
	seen(map[string]bool{"telegram:17": false, "console:run-1": true, "mattermost:p1": true})
	tick(7 * 24 * time.Hour)
	seen(map[string]bool{"console:run-1": false, "mattermost:p1": false})
}

func TestBackupAndCheck(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t)
	addr := bot.Address{Platform: "test", Chat: "backup"}
	want := bottest.Stored(bottest.SampleConversation())
	q, err := db.Commit(ctx, "backup-1", addr.Key(), want, []bot.Outgoing{{To: addr, Msg: bot.Message{Text: "hello"}}})
	if err != nil {
		t.Fatalf("Commit: got error %v, want nil", err)
	}
	if err := db.Check(); err != nil {
		t.Errorf("Check on a healthy DB: got error %v, want nil", err)
	}

	// Back up while other commits are being written.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			if _, err := db.Commit(ctx, fmt.Sprintf("busy-%d", i), "test//busy", &bot.Conversation{Dialog: bot.Dialog{Seq: i}}, nil); err != nil {
				t.Errorf("Commit during Backup: got error %v, want nil", err)
				return
			}
		}
	}()
	backup := filepath.Join(t.TempDir(), "backup.db")
	err = db.Backup(backup)
	<-done // before any Fatalf: the writer calls t.Errorf, which must not outlive the test
	if err != nil {
		t.Fatalf("Backup: got error %v, want nil", err)
	}

	b := mustOpenAt(t, backup, Options{LockTimeout: 300 * time.Millisecond})
	if err := b.Check(); err != nil {
		t.Errorf("Check on the backup: got error %v, want nil", err)
	}
	got, err := b.Load(ctx, addr.Key())
	if err != nil {
		t.Fatalf("Load from the backup: got error %v, want nil", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load from the backup:\ngot  %s\nwant %s", js(got), js(want))
	}
	if seen, err := b.Seen(ctx, addr.Key(), "backup-1"); err != nil || !seen {
		t.Errorf("Seen in the backup: got %v, %v, want true, nil", seen, err)
	}
	p, err := b.Pending(ctx, 0, 10)
	if err != nil {
		t.Fatalf("Pending from the backup: got error %v, want nil", err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("Pending from the backup:\ngot  %s\nwant %s", js(p), js(q))
	}
	if err := db.Check(); err != nil {
		t.Errorf("Check after Backup: got error %v, want nil", err)
	}
}

// benchConversation is a conversation of about 2 KB encoded: a run half-way
// through a 30-checkpoint check, a plan of 6 measures and an open question.
func benchConversation() *bot.Conversation {
	c := bottest.SampleConversation()
	for i := range 30 {
		c.Run.Ratings[fmt.Sprintf("cp-%02d", i)] = []string{"red", "yellow", "green"}[i%3]
	}
	c.Plan.Measures = nil
	for i := range 6 {
		c.Plan.Measures = append(c.Plan.Measures, bot.Measure{
			ID: i + 1, Flow: "zo-kmu", Checkpoint: fmt.Sprintf("cp-%02d", i),
			Text:     fmt.Sprintf("Maßnahme %d: Zuständigkeit klären und dokumentieren", i+1),
			Priority: bot.Priorities[i%3], Responsible: "Jana", Start: "2027-03-16", Review: "2027-04-15", Status: bot.StatusOpen,
		})
	}
	c.Plan.NextID = 7
	return c
}

func BenchmarkCommit(b *testing.B) {
	db := MustOpen(b)
	conv := benchConversation()
	var workers atomic.Int64
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := workers.Add(1)
		addr := bot.Address{Platform: "bench", Chat: fmt.Sprintf("chat-%d", w)}
		outs := []bot.Outgoing{{To: addr, Msg: bot.Message{Text: "Wie steht es um die Datensicherung?", Buttons: [][]bot.Button{{{Label: "Rot", Action: "r"}, {Label: "Gelb", Action: "y"}, {Label: "Grün", Action: "g"}}}}}}
		for i := 0; pb.Next(); i++ {
			if _, err := db.Commit(ctx, fmt.Sprintf("bench-%d-%d", w, i), addr.Key(), conv, outs); err != nil {
				b.Errorf("Commit: got error %v, want nil", err)
				return
			}
		}
	})
}

// js renders a value for a failure message.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// TestMove: the conversation, its event IDs and its reminders move in one
// commit; the old key is empty afterwards and the index points at the new one.
func TestMove(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t)
	c := &bot.Conversation{Lang: "de", Reminders: []bot.Reminder{{ID: "m1-2review", Kind: bot.KindReview, Due: time.Date(2027, 3, 22, 8, 0, 0, 0, time.UTC)}}}
	if _, err := db.Commit(ctx, "e1", "tg//-1", c, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Move(ctx, "mig", "tg//-1", "tg//-100", c); err != nil {
		t.Fatal(err)
	}
	if err := db.Move(ctx, "mig", "tg//-1", "tg//-100", c); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("second move: got %v, want ErrDuplicate", err)
	}
	due, err := db.Due(ctx, time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC), bot.DueRef{}, 10)
	if err != nil || len(due) != 1 || due[0].Key != "tg//-100" {
		t.Errorf("index after the move: got %+v, %v", due, err)
	}
	if old, _ := db.Load(ctx, "tg//-1"); old.Lang != "" {
		t.Errorf("old key still holds %+v", old)
	}
	if moved, _ := db.Load(ctx, "tg//-100"); moved.Lang != "de" {
		t.Errorf("new key holds %+v", moved)
	}
}

// TestDeliveredForgetsAttempts: a delivered message's recorded send
// attempts go with it, whether or not the others delivered with it had
// any (the writer looks attempts up only while some are recorded); a
// count left behind would stay in the file for good.
func TestDeliveredForgetsAttempts(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	to := bot.Address{Platform: "test", Chat: "c1"}
	outs := []bot.Outgoing{{To: to, Msg: bot.Message{Text: "a"}}, {To: to, Msg: bot.Message{Text: "b"}}, {To: to, Msg: bot.Message{Text: "c"}}}
	q, err := db.Commit(ctx, "e1", to.Key(), &bot.Conversation{}, outs)
	if err != nil || len(q) != 3 {
		t.Fatalf("Commit: %d queued, %v; want 3, nil", len(q), err)
	}
	for range 2 {
		if _, err := db.Attempt(ctx, q[1].ID); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := db.Pending(ctx, 0, 10); err != nil || len(p) != 3 || p[1].Attempts != 2 {
		t.Fatalf("Pending before delivery: %+v, %v; want 3 messages, the second with 2 attempts", p, err)
	}
	if err := db.Delivered(ctx, q[0].ID, q[1].ID, q[2].ID); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := db.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAttempts).ForEach(func(k, v []byte) error { n++; return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("attempts recorded after every message was delivered: %d, want 0", n)
	}
}

// TestAttemptAndDeliveryInOneWrite: an attempt recorded and the message's
// delivery in the same transaction (the writer batches both) leave no
// attempt behind: the check whether any attempt is recorded sees the one
// this transaction wrote.
func TestAttemptAndDeliveryInOneWrite(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	to := bot.Address{Platform: "test", Chat: "c1"}
	q, err := db.Commit(ctx, "e1", to.Key(), &bot.Conversation{}, []bot.Outgoing{{To: to, Msg: bot.Message{Text: "a"}}})
	if err != nil || len(q) != 1 {
		t.Fatalf("Commit: %d queued, %v; want 1, nil", len(q), err)
	}
	// As the writer would, given one attempt request and the delivery.
	db.write([]*commitReq{{attempt: q[0].ID, done: make(chan struct{})}}, []uint64{q[0].ID})
	n := 0
	if err := db.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketAttempts); b != nil {
			return b.ForEach(func(k, v []byte) error { n++; return nil })
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("attempts left after an attempt and the delivery in one write: %d, want 0", n)
	}
}
