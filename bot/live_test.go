package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ampel-bot/ampel/bot"
	"github.com/ampel-bot/ampel/bot/bottest"
)

var liveStart = time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)

// liveEnv is an engine whose platform "chat" is the adapter a, with a
// channel whose team's progress is a live message.
type liveEnv struct {
	t       *testing.T
	store   *bottest.MemStore
	clock   *bottest.Clock
	e       *bot.Engine
	channel bot.Address
	n       int
}

func newLiveEnv(t *testing.T, store *bottest.MemStore, a bot.Adapter) *liveEnv {
	if store == nil {
		store = bottest.NewMemStore()
	}
	env := &liveEnv{t: t, store: store, clock: bottest.NewClock(liveStart), channel: bot.Address{Platform: "chat", Chat: "channel"}}
	env.e = bottest.NewEngine(t, store, env.clock)
	env.e.Register(a)
	return env
}

// progress commits the team's progress "done of 5" as the channel's live
// message, with a join button, and lets the dispatcher send what it may.
func (env *liveEnv) progress(done int) {
	env.t.Helper()
	env.n++
	bottest.Progress(env.t, env.e, fmt.Sprintf("progress-%d", env.n), env.channel, done, "Join")
	bottest.Settle(env.t, env.e)
}

// tick moves the clock on and sends what is due.
func (env *liveEnv) tick(d time.Duration) {
	env.t.Helper()
	env.clock.Add(d)
	if err := env.e.Flush(context.Background()); err != nil {
		env.t.Fatal(err)
	}
}

func sentTexts(sent []bottest.Sent) []string {
	var out []string
	for _, s := range sent {
		out = append(out, s.Msg.Text)
	}
	return out
}

// TestLiveMessageEditedInPlace: the team's progress is posted once to the
// channel, and each later state replaces its text and buttons: the
// channel shows one message, always the newest state.
func TestLiveMessageEditedInPlace(t *testing.T) {
	a := &bottest.Editing{Recorder: bottest.Recorder{Name: "chat"}}
	env := newLiveEnv(t, nil, a)
	env.progress(0)
	posted := a.Take()
	if len(posted) != 1 || posted[0].Msg.Text != "0 of 5 finished" {
		t.Fatalf("first state: posted %q, want one message", sentTexts(posted))
	}
	env.tick(2 * time.Second)
	env.progress(1)
	if sent := a.Take(); len(sent) != 0 {
		t.Errorf("second state: posted %q anew, want it edited in place", sentTexts(sent))
	}
	edits := a.TakeEdits()
	if len(edits) != 1 || edits[0].Ref != "m1" || edits[0].Msg.Text != "1 of 5 finished" || len(edits[0].Msg.Buttons) != 1 {
		t.Fatalf("second state: edits %+v, want m1 edited to 1 of 5 with its button", edits)
	}
	if got := a.Shown("m1").Text; got != "1 of 5 finished" {
		t.Errorf("the channel shows %q", got)
	}
}

// TestLiveEditsCoalesced: states come faster than once a second. The
// message is edited at most once a second, and the edit after a burst
// shows its last state; the states in between are never shown, and an
// ordinary message of the chat is not held back for more than that
// second.
func TestLiveEditsCoalesced(t *testing.T) {
	a := &bottest.Editing{Recorder: bottest.Recorder{Name: "chat"}}
	env := newLiveEnv(t, nil, a)
	env.progress(0)
	a.Take()
	for done := 1; done <= 4; done++ { // within the same second
		env.progress(done)
	}
	if err := env.e.Do(context.Background(), "hello", func(tx *bot.Tx) error {
		tx.Send(env.channel, bot.Message{Text: "Anna joined"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	bottest.Settle(t, env.e)
	if edits := a.TakeEdits(); len(edits) != 0 {
		t.Fatalf("within a second of the post: %d edits, want none", len(edits))
	}
	env.tick(999 * time.Millisecond)
	if edits := a.TakeEdits(); len(edits) != 0 {
		t.Fatalf("999 ms after the post: %d edits, want none", len(edits))
	}
	env.tick(time.Millisecond)
	edits := a.TakeEdits()
	if len(edits) != 1 || edits[0].Msg.Text != "4 of 5 finished" {
		t.Fatalf("a second after the post: edits %+v, want one, to the newest state 4 of 5", edits)
	}
	if got := sentTexts(a.Take()); len(got) != 1 || got[0] != "Anna joined" {
		t.Errorf("the chat's other message: sent %q, want Anna joined once the live message went", got)
	}
	env.progress(5)
	if edits := a.TakeEdits(); len(edits) != 0 {
		t.Errorf("right after an edit: %d more edits, want none within the second", len(edits))
	}
	env.tick(time.Second)
	if edits := a.TakeEdits(); len(edits) != 1 || edits[0].Msg.Text != "5 of 5 finished" {
		t.Errorf("a second later: edits %+v, want the last state", edits)
	}
}

// TestLiveNewestStateAcrossRestart: the process stops while newer states
// wait for their second; the next process edits the message once, to the
// newest state, and never to an older state than the one shown, even one
// whose delivery was not recorded before the stop.
func TestLiveNewestStateAcrossRestart(t *testing.T) {
	store := bottest.NewMemStore()
	a := &bottest.Editing{Recorder: bottest.Recorder{Name: "chat"}}
	env := newLiveEnv(t, store, a)
	env.progress(0)
	env.progress(1)
	env.progress(2)
	env.e.Close()
	if p, _ := store.Pending(context.Background(), 0, 10); len(p) != 2 {
		t.Fatalf("after the stop: %d messages wait, want the two states not yet shown", len(p))
	}

	next := newLiveEnv(t, store, a)
	next.clock.Set(liveStart.Add(2 * time.Second))
	next.n = 10
	if err := next.e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	edits := a.TakeEdits()
	if len(edits) != 1 || edits[0].Ref != "m1" || edits[0].Msg.Text != "2 of 5 finished" {
		t.Fatalf("after the restart: edits %+v, want one, of m1 to 2 of 5", edits)
	}
	if sent := a.Take(); len(sent) != 1 {
		t.Errorf("posted %q, want only the first post", sentTexts(sent))
	}

	// A state older than the one shown (its lane met it late, or its
	// delivery was lost) is never sent.
	shown, _, _ := store.Live(context.Background(), next.channel.Key(), "team:t1")
	older := shown
	older.ID = shown.ID + 1_000_000 // the message shows a state far newer than what comes next
	if err := store.SetLive(context.Background(), next.channel.Key(), "team:t1", older); err != nil {
		t.Fatal(err)
	}
	third := newLiveEnv(t, store, a)
	third.clock.Set(liveStart.Add(10 * time.Second))
	third.n = 20
	third.progress(3)
	if edits := a.TakeEdits(); len(edits) != 0 {
		t.Errorf("a state older than the one shown: edits %+v, want none", edits)
	}
	if p, _ := store.Pending(context.Background(), 0, 10); len(p) != 0 {
		t.Errorf("the older state stays in the outbox: %d messages", len(p))
	}
}

// TestLiveWithoutEditsPostsEachState: a platform that cannot edit gets
// each state as a new message, coalesced as edits are.
func TestLiveWithoutEditsPostsEachState(t *testing.T) {
	a := &bottest.Recorder{Name: "chat"}
	env := newLiveEnv(t, nil, a)
	env.progress(0)
	env.progress(1)
	env.progress(2)
	env.tick(time.Second)
	if got := sentTexts(a.Take()); strings.Join(got, "|") != "0 of 5 finished|2 of 5 finished" {
		t.Errorf("posted %q, want the first state, then the newest a second later", got)
	}
}

// TestLiveGoneMessagePostedAnew: someone deleted the live message; its
// next state is posted as a new message, and the one after edits that.
func TestLiveGoneMessagePostedAnew(t *testing.T) {
	a := &bottest.Editing{Recorder: bottest.Recorder{Name: "chat"}}
	a.EditFn = func(ref string, m bot.Message) error {
		if ref == "m1" {
			return fmt.Errorf("message to edit not found: %w", bot.ErrMessageGone)
		}
		return nil
	}
	env := newLiveEnv(t, nil, a)
	env.progress(0)
	env.tick(time.Second)
	env.progress(1)
	if got := sentTexts(a.Take()); strings.Join(got, "|") != "0 of 5 finished|1 of 5 finished" {
		t.Fatalf("posted %q, want the second state posted anew", got)
	}
	env.tick(time.Second)
	env.progress(2)
	if edits := a.TakeEdits(); len(edits) != 1 || edits[0].Ref != "m2" || edits[0].Msg.Text != "2 of 5 finished" {
		t.Errorf("edits %+v, want the new message m2 edited", edits)
	}
}
