package store

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
	bolt "go.etcd.io/bbolt"
)

// teamBatch is a member's event that changes the member's DM, the team's
// channel and the team's record, and sends to both chats.
func teamBatch(eventID string) (*bot.Batch, bot.RecordRef, []string) {
	dm := bot.Address{Platform: "test", Chat: "dm"}
	channel := bot.Address{Platform: "test", Chat: "channel"}
	team := bot.RecordRef{Kind: "team", ID: "t1"}
	return &bot.Batch{
		EventID: eventID, Key: dm.Key(),
		Convs: []bot.ConvWrite{
			{Key: dm.Key(), Conv: &bot.Conversation{Lang: "de", Dialog: bot.Dialog{Mode: "rate", Seq: 2}}},
			{Key: channel.Key(), Conv: &bot.Conversation{Lang: "en"}},
		},
		Records: []bot.RecordWrite{{Ref: team, Data: []byte(`{"done":["anna"]}`)}},
		Outs:    []bot.Outgoing{{To: dm, Msg: bot.Message{Text: "2/7"}}, {To: channel, Msg: bot.Message{Text: "1 of 5"}}},
	}, team, []string{dm.Key(), channel.Key()}
}

// TestBatchSurvivesReopen: a batch's records, conversations and messages
// are all there after a restart, as is where a live message is shown;
// its event is still a duplicate, and
// `ampel db check` (Inspect) reads the records without complaint.
func TestBatchSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "ampel.db")
	b, team, keys := teamBatch("ev-1")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := db.CommitBatch(ctx, b)
	if err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	live := bot.LiveRef{Ref: "4711", ID: q[1].ID, At: time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)}
	if err := db.SetLive(ctx, keys[1], "team:t1", live); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	r, err := InspectFile(path)
	if err != nil || len(r.Damaged) != 0 || r.Records != 1 || r.Conversations != 2 || r.Outbox != 2 || r.Schema != SchemaVersion() {
		t.Errorf("Inspect of the closed file: got %+v, %v; want schema %d, 1 record, 2 conversations, 2 messages, no damage", r, err, SchemaVersion())
	}
	db = mustOpenAt(t, path, Options{})
	if got, err := db.Record(ctx, team); err != nil || string(got) != `{"done":["anna"]}` {
		t.Errorf("Record after reopen: got %q, %v", got, err)
	}
	for i, k := range keys {
		if got, err := db.Load(ctx, k); err != nil || !reflect.DeepEqual(got, b.Convs[i].Conv) {
			t.Errorf("Load(%s) after reopen: got %s, %v, want %s", k, js(got), err, js(b.Convs[i].Conv))
		}
	}
	if p, err := db.Pending(ctx, 0, 10); err != nil || !reflect.DeepEqual(p, q) {
		t.Errorf("Pending after reopen: got %s, %v, want %s", js(p), err, js(q))
	}
	if got, ok, err := db.Live(ctx, keys[1], "team:t1"); !ok || err != nil || got != live {
		t.Errorf("Live after reopen: got %+v, %v, %v, want %+v", got, ok, err, live)
	}
	again, _, _ := teamBatch("ev-1")
	if _, err := db.CommitBatch(ctx, again); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("the batch again after reopen: got %v, want ErrDuplicate", err)
	}
	if r, err := db.Inspect(); err != nil || len(r.Damaged) != 0 || r.Records != 1 {
		t.Errorf("Inspect of the open store: got %+v, %v", r, err)
	}
}

// TestBatchFailingWriteWritesNothing: the disk fails while the batch's
// record is written, after its conversations were: nothing of the batch
// is kept, nor of the commit that shared its transaction, and both go
// through once the disk works again.
func TestBatchFailingWriteWritesNothing(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t)
	b, team, keys := teamBatch("ev-full")
	full := errors.New("disk full")
	failing := true
	db.writeHook = func(key string) error {
		if failing && strings.HasPrefix(key, "record:") {
			return full
		}
		return nil
	}
	if _, err := db.CommitBatch(ctx, b); !errors.Is(err, full) {
		t.Fatalf("CommitBatch on a full disk: got %v, want the disk's error", err)
	}
	for _, k := range keys {
		if got, err := db.Load(ctx, k); err != nil || !reflect.DeepEqual(got, &bot.Conversation{}) {
			t.Errorf("Load(%s) after the failed batch: got %s, %v, want nothing stored", k, js(got), err)
		}
		if seen, _ := db.Seen(ctx, k, "ev-full"); seen {
			t.Errorf("Seen(%s) after the failed batch: want false", k)
		}
	}
	if got, _ := db.Record(ctx, team); got != nil {
		t.Errorf("Record after the failed batch: got %q, want none", got)
	}
	if p, _ := db.Pending(ctx, 0, 10); len(p) != 0 {
		t.Errorf("Pending after the failed batch: got %d messages, want none", len(p))
	}
	failing = false
	if _, err := db.CommitBatch(ctx, b); err != nil {
		t.Fatalf("CommitBatch once the disk works: %v", err)
	}
	if got, _ := db.Record(ctx, team); string(got) != `{"done":["anna"]}` {
		t.Errorf("Record after the retry: got %q", got)
	}
}

// TestGlobalEventsExpire: the IDs of changes no conversation caused are
// kept as long as InboxRetention says, then dropped by later commits.
func TestGlobalEventsExpire(t *testing.T) {
	ctx := t.Context()
	clock := bottest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	db := mustOpenAt(t, filepath.Join(t.TempDir(), "ampel.db"), Options{Now: clock.Now, InboxRetention: time.Hour})
	ev := func(id string) *bot.Batch {
		return &bot.Batch{EventID: id, Records: []bot.RecordWrite{{Ref: bot.RecordRef{Kind: "team", ID: "t"}, Data: []byte(id)}}}
	}
	if _, err := db.CommitBatch(ctx, ev("timer-1")); err != nil {
		t.Fatal(err)
	}
	clock.Add(30 * time.Minute)
	if _, err := db.CommitBatch(ctx, ev("timer-1")); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("within the retention: got %v, want ErrDuplicate", err)
	}
	clock.Add(time.Hour)
	if _, err := db.CommitBatch(ctx, ev("timer-2")); err != nil {
		t.Fatal(err)
	}
	var events, times int
	if err := db.view(func(tx *bolt.Tx) error {
		events, times = tx.Bucket(bucketEvents).Stats().KeyN, tx.Bucket(bucketEventTimes).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if events != 1 || times != 1 {
		t.Errorf("after the retention: %d event IDs and %d index entries kept, want 1 and 1 (timer-2)", events, times)
	}
}

// TestInspectFindsDamagedRecord: a record that does not read back is
// reported by `ampel db check`, and Record says it is damaged.
func TestInspectFindsDamagedRecord(t *testing.T) {
	db := MustOpen(t)
	ref := bot.RecordRef{Kind: "team", ID: "x"}
	if err := db.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecords).Put(recordStoreKey(ref), []byte{tagS2, 0xff, 0xff, 0xff})
	}); err != nil {
		t.Fatal(err)
	}
	r, err := db.Inspect()
	if err != nil || len(r.Damaged) != 1 || r.Damaged[0].Where != "record" || r.Damaged[0].Key != "team/x" {
		t.Errorf("Inspect: got %+v, %v; want the record team/x reported", r.Damaged, err)
	}
	if _, err := db.Record(t.Context(), ref); !errors.Is(err, bot.ErrDamaged) {
		t.Errorf("Record of the damaged record: got %v, want ErrDamaged", err)
	}
}

// TestSchema4FileGetsLiveMessages: a file written by an ampel of schema 4
// (records, no live messages) opens at the current schema, and where a
// live message is shown can be recorded in it.
func TestSchema4FileGetsLiveMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ampel.db")
	old, err := open(path, Options{}, migrations[:4])
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if got := rawSchema(t, path); got != 4 {
		t.Fatalf("the old file has schema %d, want 4", got)
	}
	db := mustOpenAt(t, path, Options{})
	ref := bot.LiveRef{Ref: "m1", ID: 3, At: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := db.SetLive(t.Context(), "test//c", "team:t", ref); err != nil {
		t.Fatalf("SetLive on the upgraded file: %v", err)
	}
	if got, ok, err := db.Live(t.Context(), "test//c", "team:t"); !ok || err != nil || got != ref {
		t.Errorf("Live: got %+v, %v, %v", got, ok, err)
	}
}
