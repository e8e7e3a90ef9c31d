package bot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

// TestReplayedEventsByTime: the conversation keeps the platform time of the
// newest event committed. An event read back after a restart (Replayed)
// from before that time was handled, even when the store no longer
// remembers its ID, and changes nothing; one from that very instant is
// decided by its ID; a live event from before it (platforms deliver a
// little out of order) is handled as any.
func TestReplayedEventsByTime(t *testing.T) {
	st := &countingStore{MemStore: bottest.NewMemStore()}
	e := bottest.NewEngine(t, st, bottest.NewClock(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)))
	e.Register(&bottest.Recorder{Name: "mm"})
	addr := bot.Address{Platform: "mm", Chat: "dm1", User: "u1"}
	at := time.Date(2027, 3, 10, 8, 59, 0, 0, time.UTC)
	// handle returns how many times the event was applied (committed).
	handle := func(id string, at time.Time, replayed bool) int {
		t.Helper()
		before := st.applied.Load()
		if err := e.Handle(context.Background(), bot.Event{ID: id, Addr: addr, Text: "/help", At: at, Replayed: replayed}); err != nil {
			t.Fatal(err)
		}
		return int(st.applied.Load() - before)
	}
	if n := handle("p2", at, false); n != 1 {
		t.Fatalf("a live event was applied %d times, want 1", n)
	}
	if n := handle("p1", at.Add(-time.Second), false); n != 1 {
		t.Errorf("a live event from before the newest was applied %d times, want 1", n)
	}
	c, err := st.Load(context.Background(), addr.Key())
	if err != nil || !c.LastEventAt.Equal(at) {
		t.Fatalf("the conversation keeps %v as its newest event time (%v), want %v", c.LastEventAt, err, at)
	}
	if n := handle("p0", at.Add(-time.Millisecond), true); n != 0 {
		t.Errorf("a replayed event from before the newest was applied %d times, want 0", n)
	}
	if n := handle("p2", at, true); n != 0 {
		t.Errorf("a replayed event handled before, at the newest instant, was applied %d times, want 0", n)
	}
	if n := handle("p3", at, true); n != 1 {
		t.Errorf("a replayed event not handled before, at the newest instant, was applied %d times, want 1", n)
	}
	if n := handle("p4", at.Add(time.Second), true); n != 1 {
		t.Errorf("a replayed event after the newest was applied %d times, want 1", n)
	}
	if c, _ := st.Load(context.Background(), addr.Key()); !c.LastEventAt.Equal(at.Add(time.Second)) {
		t.Errorf("newest event time %v, want %v", c.LastEventAt, at.Add(time.Second))
	}
}

// countingStore counts the events applied: commits that were no duplicate.
type countingStore struct {
	*bottest.MemStore
	applied atomic.Int64
}

func (s *countingStore) Commit(ctx context.Context, eventID, key string, conv *bot.Conversation, outs []bot.Outgoing) ([]bot.Queued, error) {
	q, err := s.MemStore.Commit(ctx, eventID, key, conv, outs)
	if err == nil {
		s.applied.Add(1)
	}
	return q, err
}
