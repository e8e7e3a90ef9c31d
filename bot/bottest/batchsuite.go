package bottest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// The part of TestStore about records and batches (Store.CommitBatch).

// testRecords: a record reads back as committed, is the store's own copy,
// and is gone once deleted; a name no store can keep is refused.
func testRecords(t *testing.T, s bot.Store) {
	ctx := t.Context()
	ref := bot.RecordRef{Kind: "team", ID: "ab12"}
	if got, err := s.Record(ctx, ref); err != nil || got != nil {
		t.Fatalf("Record(unknown): got %q, %v, want nil, nil", got, err)
	}
	data := []byte(`{"members":["anna","ben"]}`)
	if _, err := s.CommitBatch(ctx, &bot.Batch{EventID: "rec-1", Records: []bot.RecordWrite{{Ref: ref, Data: data}}}); err != nil {
		t.Fatalf("CommitBatch(put): %v", err)
	}
	data[2] = 'X' // the store must not keep the caller's memory
	got, err := s.Record(ctx, ref)
	if err != nil || string(got) != `{"members":["anna","ben"]}` {
		t.Fatalf("Record after put: got %q, %v, want the record as committed", got, err)
	}
	got[2] = 'Y'
	if again, _ := s.Record(ctx, ref); string(again) != `{"members":["anna","ben"]}` {
		t.Errorf("Record after mutating an earlier result: got %q", again)
	}
	if other, err := s.Record(ctx, bot.RecordRef{Kind: "meeting", ID: "ab12"}); err != nil || other != nil {
		t.Errorf("Record of another kind with the same ID: got %q, %v, want nil, nil", other, err)
	}
	if _, err := s.CommitBatch(ctx, &bot.Batch{EventID: "rec-2", Records: []bot.RecordWrite{{Ref: ref, Delete: true}}}); err != nil {
		t.Fatalf("CommitBatch(delete): %v", err)
	}
	if got, err := s.Record(ctx, ref); err != nil || got != nil {
		t.Errorf("Record after delete: got %q, %v, want nil, nil", got, err)
	}
	if _, err := s.Record(ctx, bot.RecordRef{Kind: "te\x00am", ID: "x"}); err == nil {
		t.Errorf("Record with a NUL in its kind: got no error")
	}
}

// batchFixture is one event of a member that changes the member's DM, the
// team's channel, the team's record, and sends to both chats and a third.
type batchFixture struct {
	dm, channel, other bot.Address
	team               bot.RecordRef
	dmConv, chanConv   *bot.Conversation
	batch              *bot.Batch
}

func newBatchFixture(eventID string) *batchFixture {
	f := &batchFixture{
		dm:      bot.Address{Platform: "test", Workspace: "w", Chat: "dm-anna"},
		channel: bot.Address{Platform: "test", Workspace: "w", Chat: "channel"},
		other:   bot.Address{Platform: "test", Workspace: "w", Chat: "dm-ben"},
		team:    bot.RecordRef{Kind: "team", ID: "t1"},
	}
	due := time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)
	f.dmConv = &bot.Conversation{Lang: "de", Dialog: bot.Dialog{Mode: "rate", Seq: 3}}
	f.chanConv = &bot.Conversation{Lang: "en", Reminders: []bot.Reminder{{ID: "team-close", Kind: "review", Due: due, Status: bot.ReminderPending}}}
	f.batch = &bot.Batch{
		EventID: eventID, Key: f.dm.Key(),
		Convs:   []bot.ConvWrite{{Key: f.dm.Key(), Conv: f.dmConv}, {Key: f.channel.Key(), Conv: f.chanConv}},
		Records: []bot.RecordWrite{{Ref: f.team, Data: []byte(`{"done":1}`)}},
		Outs: []bot.Outgoing{
			{To: f.dm, Msg: bot.Message{Text: "2/7"}},
			{To: f.channel, Msg: bot.Message{Text: "1 of 5 done"}},
			{To: f.other, Msg: bot.Message{Text: "reminder"}},
		},
	}
	return f
}

// check reports what the store holds against what the fixture's batch
// wrote (committed) or nothing of it.
func (f *batchFixture) check(t *testing.T, s bot.Store, committed bool, queued []bot.Queued) {
	t.Helper()
	ctx := t.Context()
	wantDM, wantChan := &bot.Conversation{}, &bot.Conversation{}
	var wantRec []byte
	if committed {
		wantDM, wantChan, wantRec = Stored(f.dmConv), Stored(f.chanConv), []byte(`{"done":1}`)
	}
	for _, c := range []struct {
		key  string
		want *bot.Conversation
	}{{f.dm.Key(), wantDM}, {f.channel.Key(), wantChan}} {
		got, err := s.Load(ctx, c.key)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Load(%s): got %s, %v, want %s", c.key, dump(got), err, dump(c.want))
		}
	}
	if got, err := s.Record(ctx, f.team); err != nil || string(got) != string(wantRec) {
		t.Errorf("Record(%s): got %q, %v, want %q", f.team, got, err, wantRec)
	}
	p, err := s.Pending(ctx, 0, 100)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	if committed && !reflect.DeepEqual(p, queued) || !committed && len(p) != 0 {
		t.Errorf("Pending: got %s, want %s", dump(p), dump(queued))
	}
	if seen, err := s.Seen(ctx, f.dm.Key(), f.batch.EventID); err != nil || seen != committed {
		t.Errorf("Seen(dm, %s): got %v, %v, want %v", f.batch.EventID, seen, err, committed)
	}
	refs, err := s.Due(ctx, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), bot.DueRef{}, 10)
	if err != nil {
		t.Fatalf("Due: %v", err)
	}
	if committed != (len(refs) == 1 && refs[0].Key == f.channel.Key() && refs[0].ID == "team-close") || !committed && len(refs) != 0 {
		t.Errorf("Due: got %+v, want the channel's reminder only if committed (%v)", refs, committed)
	}
}

// testBatch: one batch writes every conversation, record and message of
// an event; the event is remembered in its own conversation's inbox
// only; its redelivery writes nothing at all.
func testBatch(t *testing.T, s bot.Store) {
	ctx := t.Context()
	f := newBatchFixture("ev-batch")
	// The channel saw an event of its own before: the batch keeps its inbox.
	if _, err := s.Commit(ctx, "ev-chan", f.channel.Key(), &bot.Conversation{}, nil); err != nil {
		t.Fatal(err)
	}
	queued, err := s.CommitBatch(ctx, f.batch)
	if err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	if len(queued) != 3 || queued[0].ID >= queued[1].ID || queued[1].ID >= queued[2].ID {
		t.Fatalf("CommitBatch queued %s, want three messages in order", dump(queued))
	}
	for i, q := range queued {
		if !reflect.DeepEqual(q.Outgoing, f.batch.Outs[i]) {
			t.Errorf("queued[%d]: got %s, want %s", i, dump(q.Outgoing), dump(f.batch.Outs[i]))
		}
	}
	f.check(t, s, true, queued)
	if seen, _ := s.Seen(ctx, f.channel.Key(), "ev-batch"); seen {
		t.Errorf("the batch's event is remembered by the channel too: want only by its own conversation")
	}
	if _, err := s.Commit(ctx, "ev-chan", f.channel.Key(), &bot.Conversation{Lang: "fr"}, nil); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("the channel's own earlier event after the batch: got %v, want ErrDuplicate (its inbox kept)", err)
	}

	again := newBatchFixture("ev-batch")
	again.dmConv.Lang, again.chanConv.Lang = "fr", "fr"
	again.batch.Records[0].Data = []byte(`{"done":2}`)
	if q, err := s.CommitBatch(ctx, again.batch); !errors.Is(err, bot.ErrDuplicate) || len(q) != 0 {
		t.Fatalf("CommitBatch of the same event again: got %d queued, %v, want ErrDuplicate", len(q), err)
	}
	f.check(t, s, true, queued)
}

// testBatchAtomic: a batch with one part no store can keep writes
// nothing, and leaves its event ID free for the batch done right.
func testBatchAtomic(t *testing.T, s bot.Store) {
	ctx := t.Context()
	f := newBatchFixture("ev-atomic")
	bad := *f.batch
	bad.Records = append(bad.Records, bot.RecordWrite{Ref: bot.RecordRef{Kind: "team", ID: "bad\x00id"}, Data: []byte("{}")})
	if _, err := s.CommitBatch(ctx, &bad); err == nil {
		t.Fatalf("CommitBatch with a record named with NUL: got no error")
	}
	f.check(t, s, false, nil)
	queued, err := s.CommitBatch(ctx, f.batch)
	if err != nil {
		t.Fatalf("CommitBatch after the failed one: %v", err)
	}
	f.check(t, s, true, queued)
}

// testBatchGlobal: a batch no conversation's event caused (Key empty) is
// remembered by the store: the same ID again is a duplicate, whatever it
// touches, and it is not confused with a conversation's event of that ID.
func testBatchGlobal(t *testing.T, s bot.Store) {
	ctx := t.Context()
	ref := bot.RecordRef{Kind: "team", ID: "t9"}
	to := bot.Address{Platform: "test", Chat: "c9"}
	first := &bot.Batch{EventID: "timer:t9:1", Records: []bot.RecordWrite{{Ref: ref, Data: []byte("1")}},
		Outs: []bot.Outgoing{{To: to, Msg: bot.Message{Text: "nudge"}}}}
	if _, err := s.CommitBatch(ctx, first); err != nil {
		t.Fatalf("CommitBatch: %v", err)
	}
	dup := &bot.Batch{EventID: "timer:t9:1", Convs: []bot.ConvWrite{{Key: to.Key(), Conv: &bot.Conversation{Lang: "en"}}},
		Outs: []bot.Outgoing{{To: to, Msg: bot.Message{Text: "nudge again"}}}}
	if _, err := s.CommitBatch(ctx, dup); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("the same global event again: got %v, want ErrDuplicate", err)
	}
	if c, _ := s.Load(ctx, to.Key()); c.Lang != "" {
		t.Errorf("the duplicate wrote the conversation: Lang %q", c.Lang)
	}
	if p, _ := s.Pending(ctx, 0, 10); len(p) != 1 {
		t.Errorf("Pending: got %d messages, want the first batch's one", len(p))
	}
	if _, err := s.Commit(ctx, "timer:t9:1", to.Key(), &bot.Conversation{Lang: "de"}, nil); err != nil {
		t.Errorf("a conversation's event with the ID of a global one: got %v, want nil", err)
	}
	if _, err := s.CommitBatch(ctx, &bot.Batch{EventID: "timer:t9:2", Records: []bot.RecordWrite{{Ref: ref, Data: []byte("2")}}}); err != nil {
		t.Errorf("another global event: %v", err)
	}
	if got, _ := s.Record(ctx, ref); string(got) != "2" {
		t.Errorf("Record: got %q, want %q", got, "2")
	}
}

// testLive: where a live message is shown reads back as recorded, per
// chat and key, the newest record winning.
func testLive(t *testing.T, s bot.Store) {
	ctx := t.Context()
	chat := bot.Address{Platform: "test", Workspace: "w", Chat: "channel"}.Key()
	if _, ok, err := s.Live(ctx, chat, "team:1"); ok || err != nil {
		t.Fatalf("Live(never sent): got %v, %v, want false, nil", ok, err)
	}
	at := time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)
	first := bot.LiveRef{Ref: "1700000000.000100", ID: 7, At: at}
	if err := s.SetLive(ctx, chat, "team:1", first); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLive(ctx, chat, "team:2", bot.LiveRef{Ref: "other", ID: 8, At: at}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Live(ctx, chat, "team:1"); !ok || err != nil || got != first {
		t.Errorf("Live: got %+v, %v, %v, want %+v", got, ok, err, first)
	}
	next := bot.LiveRef{Ref: "1700000000.000100", ID: 9, At: at.Add(time.Second)}
	if err := s.SetLive(ctx, chat, "team:1", next); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Live(ctx, chat, "team:1"); got != next {
		t.Errorf("Live after a second SetLive: got %+v, want %+v", got, next)
	}
	if _, ok, _ := s.Live(ctx, bot.Address{Platform: "test", Chat: "elsewhere"}.Key(), "team:1"); ok {
		t.Errorf("Live of the same key in another chat: got one, want none")
	}
}

// testBatchErase: a batch that erases a conversation (its own, with the
// event) leaves nothing of it: no state, archive, reminders, event IDs,
// live messages or outbox messages to it; what it sends afterwards is
// queued, others' conversations and messages are untouched, and the same
// event again is a duplicate.
func testBatchErase(t *testing.T, s bot.Store) {
	ctx := t.Context()
	anna := bot.Address{Platform: "test", Workspace: "w", Chat: "dm-anna", User: "anna"}
	ben := bot.Address{Platform: "test", Workspace: "w", Chat: "dm-ben", User: "ben"}
	due := time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC)
	conv := func(text string) *bot.Conversation {
		m := bot.Measure{ID: 1, Text: text, Status: bot.StatusDone}
		return &bot.Conversation{Lang: "de", Addr: anna, ArchiveSeq: 1, Archive: []bot.Archived{{Seq: 1, Measure: &m}},
			Reminders: []bot.Reminder{{ID: "m1-1start", Kind: bot.KindStart, Due: due}}}
	}
	for i, a := range []bot.Address{anna, ben} {
		if _, err := s.Commit(ctx, "e1", a.Key(), conv("secret "+a.User), []bot.Outgoing{{To: a, Msg: bot.Message{Text: "hi " + a.User}}}); err != nil {
			t.Fatalf("Commit %d: %v", i, err)
		}
		if err := s.SetLive(ctx, a.Key(), "team:x", bot.LiveRef{Ref: "r", ID: 1, At: due}); err != nil {
			t.Fatal(err)
		}
	}
	bye := bot.Outgoing{To: anna, Msg: bot.Message{Text: "erased"}}
	queued, err := s.CommitBatch(ctx, &bot.Batch{EventID: "e2", Key: anna.Key(), Convs: []bot.ConvWrite{{Key: anna.Key(), Delete: true}}, Outs: []bot.Outgoing{bye}})
	if err != nil || len(queued) != 1 {
		t.Fatalf("CommitBatch(erase): got %v, %v, want the message queued", queued, err)
	}
	if c, err := s.Load(ctx, anna.Key()); err != nil || !reflect.DeepEqual(c, &bot.Conversation{}) {
		t.Errorf("Load after erasing: got %s, %v, want an empty conversation", dump(c), err)
	}
	if a, _ := s.Archive(ctx, anna.Key()); len(a) != 0 {
		t.Errorf("Archive after erasing: got %s, want nothing", dump(a))
	}
	if seen, _ := s.Seen(ctx, anna.Key(), "e1"); seen {
		t.Errorf("Seen(an event of the erased conversation): got true, want its IDs gone")
	}
	if _, ok, _ := s.Live(ctx, anna.Key(), "team:x"); ok {
		t.Errorf("Live of the erased conversation: got one, want none")
	}
	refs, _ := s.Due(ctx, due, bot.DueRef{}, 10)
	if len(refs) != 1 || refs[0].Key != ben.Key() {
		t.Errorf("Due after erasing: got %+v, want only ben's reminder", refs)
	}
	var texts []string
	p, _ := s.Pending(ctx, 0, 10)
	for _, q := range p {
		texts = append(texts, q.Msg.Text)
	}
	if !reflect.DeepEqual(texts, []string{"hi ben", "erased"}) {
		t.Errorf("Pending after erasing: got %q, want ben's message and the erasure's", texts)
	}
	if c, _ := s.Load(ctx, ben.Key()); c.Plan.Measures != nil || c.Lang != "de" {
		t.Errorf("ben's conversation after anna's erasure: got %s, want it kept", dump(c))
	}
	if _, ok, _ := s.Live(ctx, ben.Key(), "team:x"); !ok {
		t.Errorf("ben's live message after anna's erasure: got none, want it kept")
	}
	if _, err := s.CommitBatch(ctx, &bot.Batch{EventID: "e2", Key: anna.Key(), Convs: []bot.ConvWrite{{Key: anna.Key(), Delete: true}}, Outs: []bot.Outgoing{bye}}); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("the erasing event again: got %v, want ErrDuplicate", err)
	}
	if _, err := s.Commit(ctx, "e2", anna.Key(), &bot.Conversation{Lang: "en"}, nil); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("the erasing event again, as a turn of the conversation now empty: got %v, want ErrDuplicate", err)
	}
	if c, _ := s.Load(ctx, anna.Key()); c.Lang != "" {
		t.Errorf("the erasing event again wrote the conversation: Lang %q", c.Lang)
	}
	if _, err := s.Commit(ctx, "e3", anna.Key(), &bot.Conversation{Lang: "en"}, nil); err != nil {
		t.Errorf("a new event after the erasure: got %v, want nil", err)
	}
	if _, err := s.Commit(ctx, "e2", ben.Key(), &bot.Conversation{Lang: "en"}, nil); err != nil {
		t.Errorf("another conversation's event with the erasing event's ID: got %v, want nil", err)
	}
}
