package bottest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
)

// TestStore is a conformance suite for bot.Store, in the manner of
// testing/slogtest: every implementation (the bbolt store, MemStore, any
// future one) runs it from its own tests.
//
// open must return a new, empty store for each call; it is called once per
// subtest with that subtest's t, so it can register cleanups (closing the
// store, removing files) on it.
//
// Delivered need not take effect at once (the bbolt store applies it with the
// next write), so the suite polls Pending for up to two seconds after it.
func TestStore(t *testing.T, open func(t *testing.T) bot.Store) {
	t.Helper()
	t.Run("LoadUnknown", func(t *testing.T) { testLoadUnknown(t, open(t)) })
	t.Run("CommitLoad", func(t *testing.T) { testCommitLoad(t, open(t)) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, open(t)) })
	t.Run("Duplicate", func(t *testing.T) { testDuplicate(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("MessageRoundTrip", func(t *testing.T) { testMessageRoundTrip(t, open(t)) })
	t.Run("CommitWithoutState", func(t *testing.T) { testCommitWithoutState(t, open(t)) })
	t.Run("Archive", func(t *testing.T) { testArchive(t, open(t)) })
	t.Run("Records", func(t *testing.T) { testRecords(t, open(t)) })
	t.Run("Batch", func(t *testing.T) { testBatch(t, open(t)) })
	t.Run("BatchAtomic", func(t *testing.T) { testBatchAtomic(t, open(t)) })
	t.Run("BatchGlobal", func(t *testing.T) { testBatchGlobal(t, open(t)) })
	t.Run("Live", func(t *testing.T) { testLive(t, open(t)) })
	t.Run("BatchErase", func(t *testing.T) { testBatchErase(t, open(t)) })
}

// pollDeadline bounds how long the suite waits for an asynchronous Delivered.
const (
	pollDeadline = 2 * time.Second
	pollStep     = 5 * time.Millisecond
)

func testLoadUnknown(t *testing.T, s bot.Store) {
	ctx := t.Context()
	c, err := s.Load(ctx, "test//nobody")
	if err != nil {
		t.Fatalf("Load(unknown): got error %v, want nil", err)
	}
	if c == nil {
		t.Fatal("Load(unknown): got nil conversation, want an empty one")
	}
	if !reflect.DeepEqual(c, &bot.Conversation{}) {
		t.Errorf("Load(unknown): got %s, want %s", dump(c), dump(&bot.Conversation{}))
	}
	// Two loads must not share memory either.
	c.Lang = "xx"
	c2, err := s.Load(ctx, "test//nobody")
	if err != nil {
		t.Fatalf("Load(unknown) again: got error %v, want nil", err)
	}
	if c2.Lang != "" {
		t.Errorf("Load(unknown) after mutating an earlier result: got Lang %q, want %q", c2.Lang, "")
	}
	if seen, err := s.Seen(ctx, "test//nobody", "never-committed"); err != nil || seen {
		t.Errorf("Seen(never-committed): got %v, %v, want false, nil", seen, err)
	}
	if p, err := s.Pending(ctx, 0, 10); err != nil || len(p) != 0 {
		t.Errorf("Pending on an empty store: got %d messages, error %v, want 0, nil", len(p), err)
	}
}

func testCommitLoad(t *testing.T, s bot.Store) {
	ctx := t.Context()
	key := "test/ws/chat-1"
	want := Stored(SampleConversation())
	in := SampleConversation()
	if _, err := s.Commit(ctx, "cl-1", key, in, nil); err != nil {
		t.Fatalf("Commit: got error %v, want nil", err)
	}
	// The store must not keep the caller's memory.
	in.Lang = "fr"
	in.Run.Ratings["cp-1"] = "changed"
	in.Run.Later[0] = "changed"
	in.Plan.Measures[0].Text = "changed"
	in.Dialog.Options[0].Label = "changed"

	got, err := s.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load: got error %v, want nil", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Load after Commit:\ngot  %s\nwant %s", dump(got), dump(want))
	}

	// Mutating what Load returned must not change what is stored.
	got.Lang = "it"
	got.Run.Ratings["cp-1"] = "mutated"
	got.Run.Ratings["cp-new"] = "mutated"
	got.Run.Later = append(got.Run.Later[:0], "mutated")
	got.Plan.Measures[1].Status = bot.StatusDropped
	got.Plan.Measures = append(got.Plan.Measures, bot.Measure{ID: 99})
	got.Dialog.Options[0].Action = "mutated"
	got.Dialog.Draft.Text = "mutated"

	again, err := s.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load again: got error %v, want nil", err)
	}
	if again == got {
		t.Error("Load twice: got the same pointer twice, want independent copies")
	}
	if !reflect.DeepEqual(again, want) {
		t.Errorf("Load after mutating an earlier Load result:\ngot  %s\nwant %s", dump(again), dump(want))
	}

	// A later commit replaces the whole conversation.
	next := &bot.Conversation{Lang: "en", Dialog: bot.Dialog{Mode: "menu", Seq: 8}}
	if _, err := s.Commit(ctx, "cl-2", key, next, nil); err != nil {
		t.Fatalf("second Commit: got error %v, want nil", err)
	}
	got, err = s.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load after second Commit: got error %v, want nil", err)
	}
	if !reflect.DeepEqual(got, next) {
		t.Errorf("Load after second Commit:\ngot  %s\nwant %s", dump(got), dump(next))
	}

	// Other keys are untouched.
	other, err := s.Load(ctx, "test/ws/chat-2")
	if err != nil {
		t.Fatalf("Load(other key): got error %v, want nil", err)
	}
	if !reflect.DeepEqual(other, &bot.Conversation{}) {
		t.Errorf("Load(other key): got %s, want an empty conversation", dump(other))
	}
}

func testOutbox(t *testing.T, s bot.Store) {
	ctx := t.Context()
	addr := bot.Address{Platform: "test", Chat: "c1", User: "u1"}
	out := func(text string) bot.Outgoing { return bot.Outgoing{To: addr, Msg: bot.Message{Text: text}} }
	conv := &bot.Conversation{Lang: "de"}

	var all []bot.Queued
	commit := func(eventID string, outs ...bot.Outgoing) []bot.Queued {
		t.Helper()
		q, err := s.Commit(ctx, eventID, addr.Key(), conv, outs)
		if err != nil {
			t.Fatalf("Commit(%s): got error %v, want nil", eventID, err)
		}
		if len(q) != len(outs) {
			t.Fatalf("Commit(%s): got %d queued, want %d", eventID, len(q), len(outs))
		}
		for i := range q {
			if !reflect.DeepEqual(q[i].Outgoing, outs[i]) {
				t.Errorf("Commit(%s) queued[%d]: got %s, want %s", eventID, i, dump(q[i].Outgoing), dump(outs[i]))
			}
			if len(all) > 0 && q[i].ID <= all[len(all)-1].ID {
				t.Errorf("Commit(%s) queued[%d]: got ID %d, want greater than %d", eventID, i, q[i].ID, all[len(all)-1].ID)
			}
			all = append(all, q[i])
		}
		return q
	}

	commit("ob-1", out("one"), out("two"), out("three"))
	commit("ob-2") // no replies
	commit("ob-3", out("four"), out("five"))

	p, err := s.Pending(ctx, 0, 100)
	if err != nil {
		t.Fatalf("Pending(100): got error %v, want nil", err)
	}
	if !reflect.DeepEqual(p, all) {
		t.Fatalf("Pending(100):\ngot  %s\nwant %s", dump(p), dump(all))
	}
	for _, limit := range []int{0, 1, 2, 5} {
		p, err := s.Pending(ctx, 0, limit)
		if err != nil {
			t.Fatalf("Pending(%d): got error %v, want nil", limit, err)
		}
		if got, want := ids(p), ids(all[:limit]); !slices.Equal(got, want) {
			t.Errorf("Pending(%d): got IDs %v, want %v", limit, got, want)
		}
	}

	// Deliver the second and the fourth.
	if ok, err := s.StillPending(ctx, all[1].ID); err != nil || !ok {
		t.Errorf("StillPending before Delivered: got %v, %v, want true", ok, err)
	}
	if err := s.Delivered(ctx, all[1].ID, all[3].ID); err != nil {
		t.Fatalf("Delivered: got error %v, want nil", err)
	}
	// From Delivered's return on, the message is no longer pending, even
	// before its removal reaches the disk.
	if ok, err := s.StillPending(ctx, all[1].ID); err != nil || ok {
		t.Errorf("StillPending right after Delivered: got %v, %v, want false", ok, err)
	}
	if p, err := s.Pending(ctx, all[0].ID, 100); err != nil || len(p) == 0 || p[0].ID == all[0].ID || p[0].ID == all[1].ID {
		t.Errorf("Pending after the first ID: got %v, %v", p, err)
	}
	waitPending(t, s, ids([]bot.Queued{all[0], all[2], all[4]}))

	// The oldest pending comes first even after holes.
	p, err = s.Pending(ctx, 0, 2)
	if err != nil {
		t.Fatalf("Pending(2): got error %v, want nil", err)
	}
	if got, want := ids(p), []uint64{all[0].ID, all[2].ID}; !slices.Equal(got, want) {
		t.Errorf("Pending(2) after Delivered: got IDs %v, want %v", got, want)
	}

	// Repeating a delivery (a resend after a lost removal) and delivering
	// nothing are harmless.
	if err := s.Delivered(ctx, all[1].ID); err != nil {
		t.Errorf("Delivered of an already delivered ID: got error %v, want nil", err)
	}
	if err := s.Delivered(ctx); err != nil {
		t.Errorf("Delivered(): got error %v, want nil", err)
	}

	// A commit after deliveries queues behind what is left, and IDs are never
	// reused, so a stale Delivered cannot remove a newer message.
	commit("ob-4", out("six"))
	waitPending(t, s, ids([]bot.Queued{all[0], all[2], all[4], all[5]}))

	if err := s.Delivered(ctx, ids(all)...); err != nil {
		t.Fatalf("Delivered(all): got error %v, want nil", err)
	}
	waitPending(t, s, nil)

	q := commit("ob-5", out("seven"))
	waitPending(t, s, ids(q))
}

func testDuplicate(t *testing.T, s bot.Store) {
	ctx := t.Context()
	addr := bot.Address{Platform: "test", Chat: "dup"}
	key := addr.Key()
	first := &bot.Conversation{Lang: "de", Dialog: bot.Dialog{Mode: "first", Seq: 1}}
	second := &bot.Conversation{Lang: "en", Dialog: bot.Dialog{Mode: "second", Seq: 2}}
	firstOut := []bot.Outgoing{{To: addr, Msg: bot.Message{Text: "first"}}}
	secondOut := []bot.Outgoing{{To: addr, Msg: bot.Message{Text: "second"}}}

	if seen, err := s.Seen(ctx, key, "ev-dup"); err != nil || seen {
		t.Fatalf("Seen before Commit: got %v, %v, want false, nil", seen, err)
	}
	q1, err := s.Commit(ctx, "ev-dup", key, first, firstOut)
	if err != nil {
		t.Fatalf("first Commit: got error %v, want nil", err)
	}
	if seen, err := s.Seen(ctx, key, "ev-dup"); err != nil || !seen {
		t.Errorf("Seen after Commit: got %v, %v, want true, nil", seen, err)
	}
	if seen, err := s.Seen(ctx, key, "ev-other"); err != nil || seen {
		t.Errorf("Seen(other ID) after Commit: got %v, %v, want false, nil", seen, err)
	}

	q2, err := s.Commit(ctx, "ev-dup", key, second, secondOut)
	if !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("second Commit of the same event: got error %v, want %v", err, bot.ErrDuplicate)
	}
	if len(q2) != 0 {
		t.Errorf("second Commit of the same event: got %d queued, want 0", len(q2))
	}
	// Event IDs are remembered per conversation; another conversation's
	// event is not a duplicate, and committing it changes nothing here.
	otherKey := "test//dup-elsewhere"
	if _, err := s.Commit(ctx, "ev-dup", otherKey, second, secondOut); err != nil {
		t.Errorf("Commit of the same event ID under another key: got error %v, want nil", err)
	}

	got, err := s.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load: got error %v, want nil", err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Errorf("Load after duplicate Commit:\ngot  %s\nwant %s", dump(got), dump(first))
	}
	got, err = s.Load(ctx, otherKey)
	if err != nil {
		t.Fatalf("Load(other key): got error %v, want nil", err)
	}
	if !reflect.DeepEqual(got, second) {
		t.Errorf("Load(other key): got %s, want %s", dump(got), dump(second))
	}
	p, err := s.Pending(ctx, 0, 100)
	if err != nil {
		t.Fatalf("Pending: got error %v, want nil", err)
	}
	if len(p) != 2 || !reflect.DeepEqual(p[:1], q1) {
		t.Errorf("Pending after duplicate Commit:\ngot  %s\nwant %s", dump(p), dump(q1))
	}
	if seen, err := s.Seen(ctx, key, "ev-dup"); err != nil || !seen {
		t.Errorf("Seen after duplicate Commit: got %v, %v, want true, nil", seen, err)
	}
}

// testArchive: what a conversation moves out of itself is stored beside it,
// once per item, read back oldest first, never mixed with another
// conversation's, and follows the conversation when it moves.
func testArchive(t *testing.T, s bot.Store) {
	ctx := t.Context()
	key, longer := "test/ws/arch-1", "test/ws/arch-10"
	sample := SampleConversation()
	run, measure := sample.History[0], sample.Plan.Measures[1]
	c := &bot.Conversation{Lang: "de", ArchiveSeq: 2, Archive: []bot.Archived{{Seq: 1, Run: &run}, {Seq: 2, Measure: &measure}}}
	if _, err := s.Commit(ctx, "ar-1", key, c, nil); err != nil {
		t.Fatalf("Commit with an archive: got error %v, want nil", err)
	}
	other := &bot.Conversation{ArchiveSeq: 1, Archive: []bot.Archived{{Seq: 1, Measure: &bot.Measure{ID: 9, Text: "elsewhere", Status: bot.StatusDropped}}}}
	if _, err := s.Commit(ctx, "ar-1", longer, other, nil); err != nil {
		t.Fatalf("Commit of another conversation: got error %v, want nil", err)
	}
	got, err := s.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load: got error %v, want nil", err)
	}
	if got.Archive != nil || got.ArchiveSeq != 2 {
		t.Errorf("Load: got Archive %s and ArchiveSeq %d, want none and 2: the archive is not part of the conversation", dump(got.Archive), got.ArchiveSeq)
	}
	// Committed again (the engine's next turn before it tidied), with one more.
	more := bot.Measure{ID: 5, Text: "später", Status: bot.StatusDone, Settled: time.Date(2027, 4, 1, 8, 0, 0, 0, time.UTC)}
	c.Archive = append(c.Archive, bot.Archived{Seq: 3, Measure: &more})
	c.ArchiveSeq = 3
	if _, err := s.Commit(ctx, "ar-2", key, c, nil); err != nil {
		t.Fatalf("second Commit: got error %v, want nil", err)
	}
	want := []bot.Archived{{Seq: 1, Run: &run}, {Seq: 2, Measure: &measure}, {Seq: 3, Measure: &more}}
	if a, err := s.Archive(ctx, key); err != nil || !reflect.DeepEqual(a, want) {
		t.Errorf("Archive: got %s, %v, want %s, nil", dump(a), err, dump(want))
	}
	moved := "test/ws/arch-moved"
	if err := s.Move(ctx, "ar-3", key, moved, &bot.Conversation{Lang: "de", ArchiveSeq: 3}); err != nil {
		t.Fatalf("Move: got error %v, want nil", err)
	}
	if a, err := s.Archive(ctx, moved); err != nil || !reflect.DeepEqual(a, want) {
		t.Errorf("Archive after Move: got %s, %v, want %s, nil", dump(a), err, dump(want))
	}
	if a, err := s.Archive(ctx, key); err != nil || len(a) != 0 {
		t.Errorf("Archive of the moved-away key: got %s, %v, want nothing", dump(a), err)
	}
	if a, err := s.Archive(ctx, longer); err != nil || len(a) != 1 || a[0].Measure.Text != "elsewhere" {
		t.Errorf("Archive of %s: got %s, %v, want its own one item", longer, dump(a), err)
	}
}

func testConcurrent(t *testing.T, s bot.Store) {
	const workers, events = 50, 20
	ctx := t.Context()
	addr := func(w int) bot.Address { return bot.Address{Platform: "test", Chat: fmt.Sprintf("conc-%02d", w)} }
	queued := make([][]bot.Queued, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			a := addr(w)
			for i := range events {
				// Like the engine: load, then commit the next state.
				c, err := s.Load(ctx, a.Key())
				if err != nil {
					t.Errorf("worker %d: Load: got error %v, want nil", w, err)
					return
				}
				if i > 0 && c.Dialog.Seq != i-1 {
					t.Errorf("worker %d: Load before event %d: got Seq %d, want %d", w, i, c.Dialog.Seq, i-1)
				}
				c.Lang = "de"
				c.Dialog.Seq = i
				c.Dialog.Mode = fmt.Sprintf("w%d", w)
				out := []bot.Outgoing{{To: a, Msg: bot.Message{Text: fmt.Sprintf("%d/%d", w, i)}}}
				q, err := s.Commit(ctx, fmt.Sprintf("conc-%d-%d", w, i), a.Key(), c, out)
				if err != nil {
					t.Errorf("worker %d: Commit %d: got error %v, want nil", w, i, err)
					return
				}
				if len(q) != 1 {
					t.Errorf("worker %d: Commit %d: got %d queued, want 1", w, i, len(q))
					return
				}
				if n := len(queued[w]); n > 0 && q[0].ID <= queued[w][n-1].ID {
					t.Errorf("worker %d: Commit %d: got ID %d, want greater than the worker's previous %d", w, i, q[0].ID, queued[w][n-1].ID)
				}
				queued[w] = append(queued[w], q...)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	for w := range workers {
		c, err := s.Load(ctx, addr(w).Key())
		if err != nil {
			t.Fatalf("Load(worker %d): got error %v, want nil", w, err)
		}
		want := &bot.Conversation{Lang: "de", Dialog: bot.Dialog{Mode: fmt.Sprintf("w%d", w), Seq: events - 1}}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("Load(worker %d):\ngot  %s\nwant %s", w, dump(c), dump(want))
		}
	}

	p, err := s.Pending(ctx, 0, 2*workers*events)
	if err != nil {
		t.Fatalf("Pending: got error %v, want nil", err)
	}
	if len(p) != workers*events {
		t.Fatalf("Pending: got %d messages, want %d", len(p), workers*events)
	}
	byID := map[uint64]bot.Queued{}
	for i, q := range p {
		if i > 0 && q.ID <= p[i-1].ID {
			t.Errorf("Pending[%d]: got ID %d after %d, want strictly increasing IDs", i, q.ID, p[i-1].ID)
		}
		if _, dup := byID[q.ID]; dup {
			t.Errorf("Pending: got ID %d twice, want unique IDs", q.ID)
		}
		byID[q.ID] = q
	}
	for w := range workers {
		for i, q := range queued[w] {
			got, ok := byID[q.ID]
			if !ok {
				t.Errorf("worker %d event %d: queued ID %d is not pending, want it pending", w, i, q.ID)
				continue
			}
			if want := fmt.Sprintf("%d/%d", w, i); got.Msg.Text != want || got.To != addr(w) {
				t.Errorf("pending ID %d: got %q to %v, want %q to %v", q.ID, got.Msg.Text, got.To, want, addr(w))
			}
		}
	}
}

func testMessageRoundTrip(t *testing.T, s bot.Store) {
	ctx := t.Context()
	png := []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe, 0x80}
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	to := bot.Address{Platform: "slack", Workspace: "T0123", Chat: "C0456", User: "U0789"}
	outs := []bot.Outgoing{
		{To: to, Msg: bot.Message{
			Text: "Wie steht es um *Datensicherung*? <b>nicht</b> escaped & \"quoted\" 🚦",
			Buttons: [][]bot.Button{
				{{Label: "🔴 Rot", Action: "r:7:red"}, {Label: "🟡 Gelb", Action: "r:7:yellow"}, {Label: "🟢 Grün", Action: "r:7:green"}},
				{{Label: "Später", Action: "r:7:later"}},
			},
		}},
		{To: to, Msg: bot.Message{
			Text: "Ihr Bericht",
			Files: []bot.File{
				{Name: "ampel.png", MIME: "image/png", Data: png},
				{Name: "plan.csv", MIME: "text/csv", Data: []byte("id;text\n1;Backup prüfen\n")},
				{Name: "big.bin", MIME: "application/octet-stream", Data: big},
			},
		}},
		{To: bot.Address{Platform: "telegram", Chat: "42"}, Msg: bot.Message{
			Files: []bot.File{{Name: "review.ics", MIME: "text/calendar", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")}},
		}},
	}
	want := cloneOutgoing(outs)

	q, err := s.Commit(ctx, "rt-1", to.Key(), &bot.Conversation{}, outs)
	if err != nil {
		t.Fatalf("Commit: got error %v, want nil", err)
	}
	if len(q) != len(want) {
		t.Fatalf("Commit: got %d queued, want %d", len(q), len(want))
	}
	// The store must not keep the caller's byte slices.
	outs[1].Msg.Files[0].Data[1] = 'X'
	outs[0].Msg.Buttons[0][0].Label = "changed"

	p, err := s.Pending(ctx, 0, 10)
	if err != nil {
		t.Fatalf("Pending: got error %v, want nil", err)
	}
	if len(p) != len(want) {
		t.Fatalf("Pending: got %d messages, want %d", len(p), len(want))
	}
	for i := range p {
		if p[i].ID != q[i].ID {
			t.Errorf("Pending[%d]: got ID %d, want %d", i, p[i].ID, q[i].ID)
		}
		if !reflect.DeepEqual(p[i].Outgoing, want[i]) {
			t.Errorf("Pending[%d]:\ngot  %s\nwant %s", i, dump(p[i].Outgoing), dump(want[i]))
		}
	}
	// Pending returns copies too.
	p[1].Msg.Files[0].Data[0] = 0
	p2, err := s.Pending(ctx, 0, 10)
	if err != nil {
		t.Fatalf("Pending again: got error %v, want nil", err)
	}
	if got := p2[1].Msg.Files[0].Data[0]; got != png[0] {
		t.Errorf("Pending after mutating an earlier result: got first byte %#x, want %#x", got, png[0])
	}
}

// A commit without a conversation (a damaged one's apology) records the
// event and queues the messages, and leaves the state and its reminders as
// they are.
func testCommitWithoutState(t *testing.T, s bot.Store) {
	ctx := t.Context()
	key := "test/ws/nostate"
	addr := bot.Address{Platform: "test", Chat: "nostate"}
	due := time.Date(2027, 4, 1, 7, 0, 0, 0, time.UTC)
	c := SampleConversation()
	c.Reminders = []bot.Reminder{{ID: "m1-2review", Measure: 1, Kind: "review", Due: due, Status: bot.ReminderPending}}
	want := Stored(c)
	if _, err := s.Commit(ctx, "ns-1", key, c, nil); err != nil {
		t.Fatalf("Commit: got error %v, want nil", err)
	}
	q, err := s.Commit(ctx, "ns-2", key, nil, []bot.Outgoing{{To: addr, Msg: bot.Message{Text: "sorry"}}})
	if err != nil || len(q) != 1 || q[0].Msg.Text != "sorry" {
		t.Fatalf("Commit without a conversation: got %v, %v; want the message queued", q, err)
	}
	if got, err := s.Load(ctx, key); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Load after a commit without a conversation:\ngot  %s, %v\nwant %s", dump(got), err, dump(want))
	}
	if seen, err := s.Seen(ctx, key, "ns-2"); err != nil || !seen {
		t.Errorf("Seen(ns-2): got %v, %v; want true", seen, err)
	}
	if _, err := s.Commit(ctx, "ns-2", key, nil, nil); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("the same event again: got %v, want ErrDuplicate", err)
	}
	refs, err := s.Due(ctx, due, bot.DueRef{}, 10)
	if err != nil || len(refs) != 1 || refs[0].ID != "m1-2review" {
		t.Errorf("Due after a commit without a conversation: got %+v, %v; want its reminder still indexed", refs, err)
	}
}

// Stored returns c as a store gives it back: its stored form (JSON), which
// keeps an open question's buttons by action only.
func Stored(c *bot.Conversation) *bot.Conversation {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	var out bot.Conversation
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return &out
}

// SampleConversation returns a conversation that uses every part of the state
// a store must keep: language, a run with ratings and put-off checkpoints,
// history, a plan with two measures and a dialog with options and a draft. Each
// call returns a new value. Times are in UTC, so they compare equal after any
// encoding.
func SampleConversation() *bot.Conversation {
	start := time.Date(2027, 3, 15, 9, 30, 0, 0, time.UTC)
	return &bot.Conversation{
		Lang: "de",
		Hint: "de-AT",
		TZ:   "Europe/Berlin",
		Run: &bot.Run{
			Flow:    "zo-kmu",
			Version: 3,
			Started: start,
			Ratings: map[string]string{"cp-1": "red", "cp-2": "yes", "cp-3": "green"},
			Later:   []string{"cp-4", "cp-7"},
		},
		History: []bot.Run{{
			Flow:    "zo-kmu",
			Version: 2,
			Started: start.AddDate(0, -6, 0),
			Done:    start.AddDate(0, -6, 1),
			Ratings: map[string]string{"cp-1": "yellow"},
		}},
		Plan: bot.Plan{
			Measures: []bot.Measure{
				{ID: 1, Flow: "zo-kmu", Checkpoint: "cp-1", Text: "Backups täglich prüfen", Priority: "high", Me: true, Start: "2027-03-16", Review: "2027-04-15", Status: bot.StatusOpen},
				{ID: 2, Flow: "zo-kmu", Checkpoint: "cp-2", Text: "Passwortmanager einführen", Priority: "medium", Responsible: "Jana", Review: "2027-05-01", Status: bot.StatusDone, Settled: start.AddDate(0, 1, 0)},
			},
			NextID: 3,
		},
		Dialog: bot.Dialog{
			Mode:   "rate",
			Seq:    17,
			Cursor: 4,
			Options: []bot.Button{
				{Label: "Rot", Action: "17:red"},
				{Label: "Gelb", Action: "17:yellow"},
				{Label: "Grün", Action: "17:green"},
			},
			Draft:  &bot.Measure{ID: 3, Flow: "zo-kmu", Checkpoint: "cp-3", Text: "Entwurf", Status: bot.StatusOpen},
			Queue:  []string{"cp-5", "cp-6"},
			Prev:   "cp-2",
			Return: "plan",
			Op:     "edit",
			Target: 2,
		},
		LastEventAt: start.Add(-time.Minute),
		ArchiveSeq:  4,
	}
}

// waitPending polls Pending until it holds exactly want (by ID, in order),
// failing the test after pollDeadline.
func waitPending(t *testing.T, s bot.Store, want []uint64) {
	t.Helper()
	deadline := time.Now().Add(pollDeadline)
	for {
		p, err := s.Pending(t.Context(), 0, 1000)
		if err != nil {
			t.Fatalf("Pending: got error %v, want nil", err)
		}
		got := ids(p)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Pending after Delivered (waited %s): got IDs %v, want %v", pollDeadline, got, want)
		}
		time.Sleep(pollStep)
	}
}

func ids(qs []bot.Queued) []uint64 {
	var out []uint64
	for _, q := range qs {
		out = append(out, q.ID)
	}
	return out
}

func cloneOutgoing(outs []bot.Outgoing) []bot.Outgoing {
	c := make([]bot.Outgoing, len(outs))
	for i, o := range outs {
		c[i] = o
		if o.Msg.Buttons != nil {
			c[i].Msg.Buttons = make([][]bot.Button, len(o.Msg.Buttons))
			for j, row := range o.Msg.Buttons {
				c[i].Msg.Buttons[j] = slices.Clone(row)
			}
		}
		if o.Msg.Files != nil {
			c[i].Msg.Files = make([]bot.File, len(o.Msg.Files))
			for j, f := range o.Msg.Files {
				c[i].Msg.Files[j] = f
				c[i].Msg.Files[j].Data = slices.Clone(f.Data)
			}
		}
	}
	return c
}

// dump renders a value for a failure message.
func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}
