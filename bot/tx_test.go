package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// counter is a record as a feature keeps one: JSON.
type counter struct {
	N int `json:"n"`
}

func bump(tx *bot.Tx, kind, id string) error {
	var c counter
	if _, err := tx.Get(kind, id, &c); err != nil {
		return err
	}
	c.N++
	return tx.Put(kind, id, &c)
}

// hangGuard fails the test, with every goroutine's stack, if done is not
// closed within limit: a deadlock shows as this, not as a test binary
// killed by its timeout. The limit is generous for a loaded machine.
func hangGuard(t *testing.T, limit time.Duration, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(limit):
		_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		t.Fatalf("not done after %s: a deadlock", limit)
	}
}

// TestTxOppositeOrdersNeitherDeadlockNorLoseUpdates: two kinds of change
// reach the same conversation and the same two records, in opposite
// orders (a member's event: its chat, then record a, then b; a timer:
// record b, then the chat, then a), hammered at once from many callers.
// None waits for ever, and every change counts: the records and the
// chats end with exactly as many increments as changes were made.
func TestTxOppositeOrdersNeitherDeadlockNorLoseUpdates(t *testing.T) {
	store := bottest.NewMemStore()
	e := bottest.NewEngine(t, store, bottest.NewClock(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)))
	const callers, each, chats = 8, 60, 3
	chat := func(i int) bot.Address { return bot.Address{Platform: "test", Chat: fmt.Sprintf("chat-%d", i%chats)} }
	var busy atomic.Int64
	noteBusy := func(err error) error {
		if errors.Is(err, bot.ErrBusy) {
			busy.Add(1)
		}
		return err
	}
	member := func(ctx context.Context, i int) error {
		return bot.ApplyTx(ctx, e, chat(i).Key(), fmt.Sprintf("m-%d", i), func(tx *bot.Tx, c *bot.Conversation) error {
			if err := noteBusy(bump(tx, "team", "a")); err != nil {
				return err
			}
			if err := noteBusy(bump(tx, "team", "b")); err != nil {
				return err
			}
			c.Dialog.Seq++
			return nil
		})
	}
	timer := func(ctx context.Context, i int) error {
		return e.Do(ctx, fmt.Sprintf("t-%d", i), func(tx *bot.Tx) error {
			if err := noteBusy(bump(tx, "team", "b")); err != nil {
				return err
			}
			c, err := tx.Conversation(chat(i))
			if noteBusy(err) != nil {
				return err
			}
			c.Dialog.Seq++
			return noteBusy(bump(tx, "team", "a"))
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	errs := make(chan error, callers*each)
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for n := range each {
				i := g*each + n
				change := member
				if (g+n)%2 == 1 {
					change = timer
				}
				if err := change(ctx, i); err != nil {
					errs <- fmt.Errorf("change %d: %w", i, err)
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	hangGuard(t, 2*time.Minute, done)
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	total := callers * each
	for _, id := range []string{"a", "b"} {
		var c counter
		raw, err := store.Record(t.Context(), bot.RecordRef{Kind: "team", ID: id})
		if err == nil {
			err = json.Unmarshal(raw, &c)
		}
		if err != nil || c.N != total {
			t.Errorf("record team/%s: counted %d (%v), want %d: updates lost or doubled", id, c.N, err, total)
		}
	}
	seqs := 0
	for i := range chats {
		c, err := store.Load(t.Context(), chat(i).Key())
		if err != nil {
			t.Fatal(err)
		}
		seqs += c.Dialog.Seq
	}
	if seqs != total {
		t.Errorf("the chats counted %d changes, want %d", seqs, total)
	}
	t.Logf("%d changes; %d times a step met a key held by another and ran again", total, busy.Load())
}

// TestTxNeverWaitsOnAWorker: while another holds a record, more
// transactions than the engine has workers want it. They wait off the
// workers, which stay free: a transaction on another record goes
// through meanwhile. Once the record is let go, every waiting one does
// its change.
func TestTxNeverWaitsOnAWorker(t *testing.T) {
	store := bottest.NewMemStore()
	e := bottest.NewEngine(t, store, bottest.NewClock(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)))
	unlock := bot.LockRecord(e, "team", "held")
	const waiting = 16 // more than the workers (one per CPU)
	var wg sync.WaitGroup
	for i := range waiting {
		wg.Go(func() {
			if err := e.Do(context.Background(), fmt.Sprintf("w-%d", i), func(tx *bot.Tx) error { return bump(tx, "team", "held") }); err != nil {
				t.Error(err)
			}
		})
	}
	deadline := time.Now().Add(time.Minute)
	for bot.LockWaiters(e, "team", "held") < waiting {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d transactions wait for the held record after a minute", bot.LockWaiters(e, "team", "held"), waiting)
		}
		time.Sleep(time.Millisecond)
	}
	other := make(chan struct{})
	go func() {
		defer close(other)
		if err := e.Do(context.Background(), "other", func(tx *bot.Tx) error { return bump(tx, "team", "free") }); err != nil {
			t.Error(err)
		}
	}()
	hangGuard(t, time.Minute, other)
	unlock()
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	hangGuard(t, time.Minute, all)
	var c counter
	raw, _ := store.Record(t.Context(), bot.RecordRef{Kind: "team", ID: "held"})
	if err := json.Unmarshal(raw, &c); err != nil || c.N != waiting {
		t.Errorf("record team/held: counted %d (%v), want %d", c.N, err, waiting)
	}
}

// TestTxFailedCommitLeavesNothing: a member's event changes the member's
// chat, the team's channel and the team's record, and the commit fails
// (the disk is full, or the process dies before it) after the step
// computed it all. Nothing of it is stored, nor served from the engine's
// memory: the event delivered again counts once, and the chats and the
// record hold exactly its change.
func TestTxFailedCommitLeavesNothing(t *testing.T) {
	store := bottest.NewMemStore()
	e := bottest.NewEngine(t, store, bottest.NewClock(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)))
	dm := bot.Address{Platform: "test", Chat: "dm-anna"}
	channel := bot.Address{Platform: "test", Chat: "channel"}
	// Both chats are in the engine's memory before.
	for _, a := range []bot.Address{dm, channel} {
		if err := bot.ApplyTx(t.Context(), e, a.Key(), "hello-"+a.Chat, func(*bot.Tx, *bot.Conversation) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	rate := func(tx *bot.Tx, c *bot.Conversation) error {
		if err := bump(tx, "team", "t1"); err != nil {
			return err
		}
		ch, err := tx.Conversation(channel)
		if err != nil {
			return err
		}
		ch.Dialog.Seq++
		c.Dialog.Seq++
		tx.Send(channel, bot.Message{Text: "1 of 5 done"})
		return nil
	}
	crash := errors.New("power cut")
	store.FailWrite = func(key string) error {
		if key == "record:team/t1" {
			return crash
		}
		return nil
	}
	if err := bot.ApplyTx(t.Context(), e, dm.Key(), "rate-1", rate); !errors.Is(err, crash) {
		t.Fatalf("the event whose commit failed: got %v, want the store's error", err)
	}
	store.FailWrite = nil
	if raw, _ := store.Record(t.Context(), bot.RecordRef{Kind: "team", ID: "t1"}); raw != nil {
		t.Errorf("record after the failed commit: %s, want none", raw)
	}
	if p, _ := store.Pending(t.Context(), 0, 10); len(p) != 0 {
		t.Errorf("outbox after the failed commit: %d messages, want none", len(p))
	}
	if err := bot.ApplyTx(t.Context(), e, dm.Key(), "rate-1", rate); err != nil {
		t.Fatalf("the event delivered again: %v", err)
	}
	for _, a := range []bot.Address{dm, channel} {
		if c, _ := store.Load(t.Context(), a.Key()); c.Dialog.Seq != 1 {
			t.Errorf("%s counted %d changes, want 1", a.Chat, c.Dialog.Seq)
		}
	}
	var c counter
	raw, _ := store.Record(t.Context(), bot.RecordRef{Kind: "team", ID: "t1"})
	if err := json.Unmarshal(raw, &c); err != nil || c.N != 1 {
		t.Errorf("record counted %d (%v), want 1", c.N, err)
	}
	// And both chats see the committed state in the next event.
	seen := -1
	if err := bot.ApplyTx(t.Context(), e, channel.Key(), "next", func(tx *bot.Tx, c *bot.Conversation) error {
		seen = c.Dialog.Seq
		return nil
	}); err != nil || seen != 1 {
		t.Errorf("the channel's next event: %v, sees %d changes, want 1", err, seen)
	}
}
